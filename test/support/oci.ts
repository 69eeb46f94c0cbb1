/**
 * Reads an OCI image archive (`oci-archive:` of buildah and skopeo) as a registry or a container
 * runtime would: index → manifest → config and layers, every blob checked against its digest and
 * size, then the layers applied in order to a root file system. As a command, for .ci/run:
 * `tsx test/support/oci.ts ARCHIVE DEST` unpacks the image's root file system into DEST.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Record<string, string>;
}

export interface ImageConfig {
  readonly architecture: string;
  readonly os: string;
  readonly created?: string;
  readonly config: {
    readonly User?: string;
    readonly Entrypoint?: string[];
    readonly Cmd?: string[];
    readonly Env?: string[];
    readonly WorkingDir?: string;
    readonly Labels?: Record<string, string>;
  };
  readonly rootfs: { readonly type: string; readonly diff_ids: string[] };
}

export interface OciImage {
  /** The manifest's digest: the image's identity in a registry. */
  readonly digest: string;
  /** `org.opencontainers.image.ref.name` of the index entry, if any. */
  readonly refName: string | undefined;
  readonly manifest: { readonly config: Descriptor; readonly layers: readonly Descriptor[] };
  readonly config: ImageConfig;
  /** Paths of the layer blobs (gzip tar), in the order they apply. */
  readonly layerFiles: readonly string[];
  remove(): Promise<void>;
}

const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

async function blob(dir: string, descriptor: Descriptor): Promise<Buffer> {
  const match = /^sha256:([0-9a-f]{64})$/.exec(descriptor.digest);
  if (match?.[1] === undefined) throw new Error(`unsupported digest ${descriptor.digest}`);
  const bytes = await readFile(join(dir, 'blobs', 'sha256', match[1]));
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== match[1]) throw new Error(`blob ${descriptor.digest} has the digest sha256:${actual}`);
  if (bytes.length !== descriptor.size)
    throw new Error(
      `blob ${descriptor.digest} has ${bytes.length} bytes, its descriptor says ${descriptor.size}`,
    );
  return bytes;
}

/** Opens an archive holding exactly one image manifest; `remove()` deletes the unpacked copy. */
export async function readOciArchive(archive: string): Promise<OciImage> {
  const dir = await mkdtemp(join(tmpdir(), 'gach-oci-'));
  try {
    await exec('tar', ['-xf', archive, '-C', dir]);
    const layout = JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8')) as {
      imageLayoutVersion?: string;
    };
    if (layout.imageLayoutVersion !== '1.0.0')
      throw new Error(`oci-layout says ${layout.imageLayoutVersion}, expected 1.0.0`);
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
      manifests: Descriptor[];
    };
    const [entry, ...others] = index.manifests;
    if (entry === undefined || others.length > 0)
      throw new Error(`index.json lists ${index.manifests.length} manifests, expected 1`);
    const manifest = JSON.parse((await blob(dir, entry)).toString('utf8')) as OciImage['manifest'];
    const config = JSON.parse((await blob(dir, manifest.config)).toString('utf8')) as ImageConfig;
    const layerFiles: string[] = [];
    for (const layer of manifest.layers) {
      if (layer.mediaType !== LAYER_TYPE) throw new Error(`layer ${layer.digest} is ${layer.mediaType}`);
      await blob(dir, layer);
      layerFiles.push(join(dir, 'blobs', 'sha256', layer.digest.slice('sha256:'.length)));
    }
    return {
      digest: entry.digest,
      refName: entry.annotations?.['org.opencontainers.image.ref.name'],
      manifest,
      config,
      layerFiles,
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Applies the layers in order to `dest` with owners and modes; whiteouts are refused (none expected). */
export async function unpackRootfs(image: OciImage, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  for (const layer of image.layerFiles) {
    const { stdout } = await exec('tar', ['-tzf', layer], { maxBuffer: 1 << 24 });
    const whiteout = stdout.split('\n').find((path) => /(^|\/)\.wh\./.test(path));
    if (whiteout !== undefined)
      throw new Error(`layer ${layer} holds a whiteout (${whiteout}): not supported here`);
    await exec('tar', ['-xzf', layer, '-C', dest, '--same-owner', '--same-permissions', '--numeric-owner']);
  }
}

if (process.argv[1] === import.meta.filename) {
  const [archive, dest] = process.argv.slice(2);
  if (archive === undefined || dest === undefined) {
    console.error('usage: tsx test/support/oci.ts ARCHIVE DEST');
    process.exit(2);
  }
  const image = await readOciArchive(archive);
  try {
    await unpackRootfs(image, dest);
    console.log(`${image.digest} unpacked into ${dest}`);
  } finally {
    await image.remove();
  }
}
