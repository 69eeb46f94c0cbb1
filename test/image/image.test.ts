/**
 * The container image of `npm run build:image`, as a registry and a container runtime see it: the
 * OCI archive's digests, the image config, exactly the files it holds, and the executable run
 * from the unpacked root file system with chroot (root and the image's non-root user, /proc mounted
 * as every runtime does) for `--version` and full exchanges against the local STS, over TLS with
 * no CA file in the image, and by a host name that the image's C library resolves. The file that
 * `COPY --from` takes is also run outside the image. The whole end-to-end suite runs against that
 * same file in .ci/run (GACH_HELPER).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_ID, type RunResult, run } from '../e2e/harness.js';
import { createTestPki, startHttpsFront } from '../network/tls.js';
import { DEMO_ROLE_NAME, startTestBed, type TestBed } from '../support/bed.js';
import { type OciImage, readOciArchive, unpackRootfs } from '../support/oci.js';
import { archiveName, IMAGE_ARCHIVE, LAYOUT, PROGRAM, PROJECT_URL, VERSION } from '../support/release.js';

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const archive = join(root, 'dist/release', IMAGE_ARCHIVE);
const EXECUTABLE = `/usr/local/bin/${PROGRAM}`;
const NONROOT = '65532:65532';

let image: OciImage;
let bed: TestBed;
let scratch: string;
/** The image's root file system, unpacked. */
let rootfs: string;
let procMounted = false;
const isRoot = process.getuid?.() === 0;

beforeAll(async () => {
  if (!existsSync(archive)) throw new Error(`${archive} is missing: run \`npm run build:image\` first`);
  image = await readOciArchive(archive);
  scratch = await mkdtemp(join(tmpdir(), 'gach-image-'));
  rootfs = join(scratch, 'rootfs');
  await unpackRootfs(image, rootfs);
  bed = await startTestBed();
}, 120_000);

afterAll(async () => {
  if (procMounted) execFileSync('umount', [join(rootfs, 'proc')]);
  await bed?.stop();
  await image?.remove();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

/** Every path in the root file system with its type, mode and owner, sorted. */
async function listing(dir: string, prefix = ''): Promise<string[]> {
  const lines: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const info = await lstat(path);
    const kind = info.isDirectory() ? 'd' : info.isSymbolicLink() ? 'l' : 'f';
    lines.push(`${kind} ${(info.mode & 0o7777).toString(8)} ${info.uid}:${info.gid} /${prefix}${name}`);
    if (info.isDirectory()) lines.push(...(await listing(path, `${prefix}${name}/`)));
  }
  return lines;
}

describe('the image archive', () => {
  it('is one image whose blobs match their digests, tagged with the version', () => {
    expect(image.refName).toBe(VERSION);
    expect(image.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(image.manifest.layers.length).toBeGreaterThan(0);
  });

  it('runs the executable as the non-root user, with the OCI labels', () => {
    const revision = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    expect(image.config.architecture).toBe('amd64');
    expect(image.config.os).toBe('linux');
    expect(image.config.config.User).toBe(NONROOT);
    expect(image.config.config.Entrypoint).toEqual([EXECUTABLE]);
    expect(image.config.config.Labels).toMatchObject({
      'org.opencontainers.image.title': PROGRAM,
      'org.opencontainers.image.source': PROJECT_URL,
      'org.opencontainers.image.version': VERSION,
      'org.opencontainers.image.revision': revision,
      'org.opencontainers.image.licenses': 'MIT AND LGPL-2.1-or-later',
    });
  });

  it('holds the executable, the libraries it links, their licences, the users and /tmp: nothing else', async () => {
    expect(await listing(rootfs)).toEqual([
      'd 755 0:0 /etc',
      'f 644 0:0 /etc/group',
      'f 644 0:0 /etc/nsswitch.conf',
      'f 644 0:0 /etc/passwd',
      'd 755 0:0 /home',
      'd 700 65532:65532 /home/nonroot',
      'd 755 0:0 /lib',
      'd 755 0:0 /lib/x86_64-linux-gnu',
      'f 755 0:0 /lib/x86_64-linux-gnu/libc.so.6',
      'f 644 0:0 /lib/x86_64-linux-gnu/libdl.so.2',
      'f 644 0:0 /lib/x86_64-linux-gnu/libm.so.6',
      'f 644 0:0 /lib/x86_64-linux-gnu/libpthread.so.0',
      'd 755 0:0 /lib64',
      'f 755 0:0 /lib64/ld-linux-x86-64.so.2',
      'd 700 0:0 /root',
      'd 1777 0:0 /tmp',
      'd 755 0:0 /usr',
      'd 755 0:0 /usr/local',
      'd 755 0:0 /usr/local/bin',
      `f 755 0:0 /usr/local/bin/${PROGRAM}`,
      'd 755 0:0 /usr/share',
      'd 755 0:0 /usr/share/doc',
      `d 755 0:0 /usr/share/doc/${PROGRAM}`,
      `f 644 0:0 /usr/share/doc/${PROGRAM}/LICENSE`,
      'd 755 0:0 /usr/share/doc/libc6',
      'f 644 0:0 /usr/share/doc/libc6/copyright',
    ]);
    expect(await readFile(join(rootfs, 'etc/passwd'), 'utf8')).toContain(
      `nonroot:x:${NONROOT}:nonroot:/home/nonroot:/sbin/nologin`,
    );
  });

  it('holds the very executable of the linux_amd64 release archive', async () => {
    const fromArchive = join(scratch, 'from-archive');
    await mkdir(fromArchive);
    await exec('tar', [
      '-xzf',
      join(root, 'dist/release', archiveName('linux-x64')),
      '-C',
      fromArchive,
      PROGRAM,
    ]);
    expect(
      (await readFile(join(rootfs, EXECUTABLE))).equals(await readFile(join(fromArchive, PROGRAM))),
    ).toBe(true);
  });

  it('needs no CA file: the executable carries the root certificates AWS endpoints chain to', async () => {
    const bytes = await readFile(join(rootfs, EXECUTABLE));
    for (const rootName of ['Amazon Root CA 1', 'Starfield Services Root Certificate Authority - G2']) {
      expect(bytes.includes(Buffer.from(rootName)), rootName).toBe(true);
    }
  });

  const skopeo = ['/usr/bin/skopeo', '/usr/local/bin/skopeo'].find((path) => existsSync(path));
  if (skopeo === undefined && process.env.CI === 'true') {
    it('has skopeo under CI', () => {
      throw new Error('CI=true but skopeo is missing: .ci/run must install it (apt-get install skopeo)');
    });
  }
  it.skipIf(skopeo === undefined)(
    'is read by skopeo, which the release job pushes it with (skipped without skopeo)',
    async () => {
      const { stdout } = await exec(skopeo ?? 'skopeo', ['inspect', `oci-archive:${archive}`]);
      const inspected = JSON.parse(stdout) as {
        Digest: string;
        Architecture: string;
        Labels: Record<string, string>;
      };
      expect(inspected.Digest).toBe(image.digest);
      expect(inspected.Architecture).toBe('amd64');
      expect(inspected.Labels['org.opencontainers.image.version']).toBe(VERSION);
    },
  );
});

describe('the Dockerfile', () => {
  it('takes the release archive that build:image takes, and .dockerignore lets it through', async () => {
    const dockerfile = await readFile(join(root, 'Dockerfile'), 'utf8');
    // The Dockerfile names the archive with its build argument, `${VERSION}` as written there.
    const archivePattern = archiveName(LAYOUT.imageTarget as 'linux-x64', ['$', '{VERSION}'].join(''));
    expect(dockerfile).toContain(`COPY dist/release/${archivePattern} `);
    expect(dockerfile).toContain('RUN sh /usr/local/sbin/image-rootfs.sh ');
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    const ignore = (await readFile(join(root, '.dockerignore'), 'utf8')).split('\n');
    expect(ignore).toContain('!scripts/image-rootfs.sh');
    expect(ignore).toContain(`!dist/release/*_${LAYOUT.targets['linux-x64'].archive}.tar.gz`);
  });
});

describe('the executable in the image, run with chroot', () => {
  const canChroot = isRoot && existsSync('/usr/sbin/chroot');
  if (!canChroot && process.env.CI === 'true') {
    it('runs as root under CI', () => {
      throw new Error('CI=true but these checks need root (chroot, mount -t proc): run .ci/run as root');
    });
  }

  beforeAll(() => {
    if (!canChroot) return;
    // A runtime mounts /proc in every container; the standalone executable reads itself from
    // /proc/self/exe and aborts without it.
    execFileSync('mkdir', ['-p', join(rootfs, 'proc')]);
    execFileSync('mount', ['-t', 'proc', 'proc', join(rootfs, 'proc')]);
    procMounted = true;
  });

  function inImage(
    user: 'root' | 'nonroot',
    args: readonly string[],
    env: Record<string, string | undefined>,
  ): Promise<RunResult> {
    const userspec = user === 'root' ? [] : [`--userspec=${NONROOT}`];
    return run('/usr/sbin/chroot', [...userspec, rootfs, EXECUTABLE, ...args], env, { timeoutMs: 60_000 });
  }

  async function jobEnv(home: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
    return {
      PATH: '/usr/local/bin',
      HOME: home,
      CI_PROJECT_PATH_SLUG: 'demo-group-demo-project',
      CI_PIPELINE_ID: PIPELINE_ID,
      GITLAB_AWS_ACCOUNT_ID: bed.accountId,
      GITLAB_AWS_IDENTITY_TOKEN: await bed.mint(),
      AWS_ENDPOINT_URL_STS: bed.sts.url,
      ...extra,
    };
  }

  it.skipIf(!canChroot).each(['root', 'nonroot'] as const)('prints its version as %s', async (user) => {
    const result = await inImage(user, ['--version'], { PATH: '/usr/local/bin' });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(VERSION);
    expect(result.code).toBe(0);
  });

  it.skipIf(!canChroot).each([
    ['root', '/root'],
    ['nonroot', '/home/nonroot'],
  ] as const)('exchanges a token for credential_process JSON as %s', async (user, home) => {
    const before = bed.sts.exchangeCount();
    const result = await inImage(user, ['process'], await jobEnv(home));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const credentials = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(credentials).toMatchObject({ Version: 1, AccessKeyId: expect.stringMatching(/^ASIA/) });
    expect(bed.sts.exchangeCount()).toBe(before + 1);
    const issued = bed.sts.issued.at(-1);
    expect(issued?.accessKeyId).toBe(credentials.AccessKeyId);
    expect(issued?.roleArn).toBe(`arn:aws:iam::${bed.accountId}:role/${DEMO_ROLE_NAME}`);
    expect(issued?.sessionName).toBe(`${DEMO_ROLE_NAME}-${PIPELINE_ID}`);
  });

  it.skipIf(!canChroot)(
    "writes a profile and its cache in the non-root user's home, 0600 in 0700, and answers from it",
    async () => {
      const env = await jobEnv('/home/nonroot');
      const profile = await inImage('nonroot', ['aws-profile', '--name', 'image'], env);
      expect(profile.code, profile.stderr).toBe(0);
      const credentials = join(rootfs, 'home/nonroot/.aws/credentials');
      expect(await readFile(credentials, 'utf8')).toMatch(/^\[image\]\naws_access_key_id = ASIA/);
      const file = await stat(credentials);
      expect([file.uid, file.mode & 0o777]).toEqual([65532, 0o600]);
      const cache = await stat(join(rootfs, 'home/nonroot/.cache', PROGRAM));
      expect([cache.uid, cache.mode & 0o777]).toEqual([65532, 0o700]);
      const before = bed.sts.exchangeCount();
      const cached = await inImage('nonroot', ['process'], env);
      expect(cached.code, cached.stderr).toBe(0);
      expect(bed.sts.exchangeCount()).toBe(before);
    },
  );

  it.skipIf(!canChroot)(
    'speaks TLS with no CA file in the image: refuses an unknown CA, trusts the one AWS_CA_BUNDLE names',
    async () => {
      const pki = await createTestPki();
      const front = await startHttpsFront(pki, bed.sts.url);
      const bundle = join(rootfs, 'tmp/test-ca.pem');
      try {
        await copyFile(pki.caFile, bundle);
        const env = await jobEnv('/home/nonroot', { AWS_ENDPOINT_URL_STS: front.url });
        const refused = await inImage('nonroot', ['process', '--no-cache', '--max-attempts', '1'], env);
        expect(refused.code).toBe(1);
        expect(refused.stdout).toBe('');
        expect(refused.stderr).toMatch(/certificate/i);
        expect(refused.stderr).toContain('AWS_CA_BUNDLE');
        const trusted = await inImage('nonroot', ['process', '--no-cache'], {
          ...env,
          AWS_CA_BUNDLE: '/tmp/test-ca.pem',
        });
        expect(trusted.code, trusted.stderr).toBe(0);
        expect(JSON.parse(trusted.stdout)).toMatchObject({ Version: 1 });
        expect(front.secureConnections()).toBeGreaterThan(0);
      } finally {
        await rm(bundle, { force: true });
        await front.stop();
        await pki.remove();
      }
    },
  );

  it.skipIf(!canChroot)(
    "resolves a host name through the /etc/hosts a runtime puts in, with the image's C library",
    async () => {
      const hosts = join(rootfs, 'etc/hosts');
      await writeFile(hosts, '127.0.0.1 sts.image.test\n');
      try {
        const port = new URL(bed.sts.url).port;
        const before = bed.sts.exchangeCount();
        const result = await inImage(
          'nonroot',
          ['process', '--no-cache'],
          await jobEnv('/home/nonroot', { AWS_ENDPOINT_URL_STS: `http://sts.image.test:${port}/` }),
        );
        expect(result.code, result.stderr).toBe(0);
        expect(bed.sts.exchangeCount()).toBe(before + 1);
      } finally {
        await rm(hosts, { force: true });
      }
    },
  );
});

describe('the file COPY --from takes, outside the image', () => {
  it('runs on this machine and exchanges a token', async () => {
    const outside = join(scratch, 'outside');
    await mkdir(outside);
    const executable = join(outside, PROGRAM);
    await copyFile(join(rootfs, EXECUTABLE), executable);
    await exec('chmod', ['0755', executable]);
    const version = await run(executable, ['--version'], { PATH: process.env.PATH });
    expect(version.stdout.trim()).toBe(VERSION);
    const home = join(scratch, 'outside-home');
    await mkdir(home);
    const before = bed.sts.exchangeCount();
    const result = await run(executable, ['process'], {
      PATH: process.env.PATH,
      HOME: home,
      CI_PROJECT_PATH_SLUG: 'demo-group-demo-project',
      CI_PIPELINE_ID: PIPELINE_ID,
      GITLAB_AWS_ACCOUNT_ID: bed.accountId,
      GITLAB_AWS_IDENTITY_TOKEN: await bed.mint(),
      AWS_ENDPOINT_URL_STS: bed.sts.url,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ Version: 1 });
    expect(bed.sts.exchangeCount()).toBe(before + 1);
  });
});
