/**
 * The release jobs' scripts (.ci/release/*), run as the tag pipeline runs them, against local
 * stand-ins: GitLab's generic package API (PUT and GET with the job token), a real container
 * registry over TLS with a password (Debian's docker-registry) for skopeo, and a recording `npm`
 * (npm's trusted publishing needs npmjs.com and GitLab.com's runners). They read what the build job
 * leaves in dist/release: the archives, the image archive and the npm tarball.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { run } from '../e2e/harness.js';
import { createTestPki, type TestPki } from '../network/tls.js';
import { readOciArchive } from '../support/oci.js';
import {
  REGISTRY_BINARY,
  REGISTRY_PASSWORD,
  REGISTRY_USER,
  type Registry,
  startRegistry,
} from '../support/registry.js';
import {
  COMPONENT,
  IMAGE,
  IMAGE_ARCHIVE,
  LAYOUT,
  PACKAGE_REGISTRY,
  releaseFiles,
  VERSION,
} from '../support/release.js';

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const release = join(root, 'dist/release');
const script = (name: string) => join(root, '.ci/release', name);

let scratch: string;

beforeAll(async () => {
  for (const file of [...releaseFiles(), IMAGE_ARCHIVE, `${packageJson.name}-${VERSION}.tgz`]) {
    if (!existsSync(join(release, file)))
      throw new Error(
        `dist/release/${file} is missing: run the build job's steps (npm run build:binaries, npm run build:image, npm run build, npm pack --pack-destination dist/release)`,
      );
  }
  scratch = await mkdtemp(join(tmpdir(), 'gach-release-jobs-'));
});

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

interface PackageApi {
  /** `http://127.0.0.1:PORT/api/v4`, as CI_API_V4_URL. */
  readonly url: string;
  readonly requests: Array<{ method: string; path: string; token: string | undefined }>;
  readonly stored: Map<string, Buffer>;
  stop(): Promise<void>;
}

/** GitLab's generic package endpoints: PUT stores under the raw path, GET serves it; job token required. */
async function startPackageApi(
  token: string,
  options: { corruptDownloads?: boolean } = {},
): Promise<PackageApi> {
  const requests: PackageApi['requests'] = [];
  const stored = new Map<string, Buffer>();
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    const given = request.headers['job-token'];
    requests.push({
      method: request.method ?? '',
      path,
      token: typeof given === 'string' ? given : undefined,
    });
    if (given !== token) {
      response.writeHead(401).end('{"message":"401 Unauthorized"}');
      return;
    }
    if (request.method === 'PUT') {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        stored.set(path, Buffer.concat(chunks));
        response.writeHead(201).end('{"message":"201 Created"}');
      });
      return;
    }
    const body = stored.get(path);
    if (request.method !== 'GET' || body === undefined) {
      response.writeHead(404).end('{"message":"404 Not Found"}');
      return;
    }
    response.writeHead(200).end(options.corruptDownloads === true ? Buffer.from('not the file') : body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v4`,
    requests,
    stored,
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}

describe('upload-packages', () => {
  const token = 'job-token-of-the-upload';

  async function upload(api: PackageApi, tag: string) {
    const work = await mkdtemp(join(scratch, 'upload-'));
    const result = await run(
      script('upload-packages'),
      [],
      {
        PATH: process.env.PATH,
        HOME: work,
        CI_COMMIT_TAG: tag,
        CI_API_V4_URL: api.url,
        CI_PROJECT_PATH: LAYOUT.project,
        CI_JOB_TOKEN: token,
        CI_REGISTRY_IMAGE: IMAGE,
      },
      { cwd: work, timeoutMs: 120_000 },
    );
    return { ...result, work };
  }

  it('puts every archive and SHA256SUMS into the generic package at the URL the README downloads from', async () => {
    const api = await startPackageApi(token);
    try {
      const result = await upload(api, VERSION);
      expect(result.code, result.stderr).toBe(0);
      const base = `/api/v4/projects/${encodeURIComponent(LAYOUT.project)}/packages/generic/${LAYOUT.genericPackage}/${VERSION}`;
      const puts = api.requests.filter((request) => request.method === 'PUT');
      expect(puts.map((request) => request.path)).toEqual(releaseFiles().map((file) => `${base}/${file}`));
      expect(new Set(api.requests.map((request) => request.token))).toEqual(new Set([token]));
      for (const file of releaseFiles()) {
        expect(api.stored.get(`${base}/${file}`)?.equals(await readFile(join(release, file))), file).toBe(
          true,
        );
      }
      const env = Object.fromEntries(
        (await readFile(join(result.work, 'release.env'), 'utf8'))
          .trimEnd()
          .split('\n')
          .map((line) => line.split('=', 2) as [string, string]),
      );
      expect(env).toEqual({
        RELEASE_VERSION: VERSION,
        RELEASE_PACKAGE_URL: `${api.url}${base.slice('/api/v4'.length)}`,
      });
      // On GitLab.com the same script gives the README's and the component's download URL.
      expect(env.RELEASE_PACKAGE_URL?.replace(api.url, `https://${LAYOUT.gitlab}/api/v4`)).toBe(
        `${PACKAGE_REGISTRY}/${VERSION}`,
      );
      const notes = await readFile(join(result.work, 'release-notes.md'), 'utf8');
      expect(notes).toContain(await readFile(join(release, 'SHA256SUMS'), 'utf8'));
      expect(notes).toContain(`${IMAGE}:${VERSION}`);
      expect(notes).toContain(`${COMPONENT}@${VERSION}`);
    } finally {
      await api.stop();
    }
  });

  it('uploads nothing when the tag is not the package version', async () => {
    const api = await startPackageApi(token);
    try {
      const result = await upload(api, `v${VERSION}`);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`the tag v${VERSION} is not the package version ${VERSION}`);
      expect(api.requests).toEqual([]);
    } finally {
      await api.stop();
    }
  });

  it('fails when the registry does not serve back the bytes it was given', async () => {
    const api = await startPackageApi(token, { corruptDownloads: true });
    try {
      const result = await upload(api, VERSION);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('does not serve the bytes just uploaded');
    } finally {
      await api.stop();
    }
  });
});

describe('push-image', () => {
  const available = existsSync(REGISTRY_BINARY) && existsSync('/usr/bin/skopeo');
  if (!available && process.env.CI === 'true') {
    it('has docker-registry and skopeo under CI', () => {
      throw new Error('CI=true but docker-registry or skopeo is missing: .ci/run must install them');
    });
  }
  let pki: TestPki | undefined;
  let registry: Registry | undefined;

  beforeAll(async () => {
    if (!available) return;
    pki = await createTestPki();
    registry = await startRegistry(pki, await readFile(pki.caFile, 'utf8'));
  }, 60_000);

  afterAll(async () => {
    await registry?.stop();
    await pki?.remove();
  });

  function pushEnv(work: string, password: string): Record<string, string | undefined> {
    const host = registry?.host ?? '';
    return {
      PATH: process.env.PATH,
      HOME: work,
      // Where skopeo keeps the login, and the test CA that signed the registry's certificate.
      REGISTRY_AUTH_FILE: join(work, 'auth.json'),
      SSL_CERT_FILE: pki?.caFile,
      CI_COMMIT_TAG: VERSION,
      CI_REGISTRY: host,
      CI_REGISTRY_IMAGE: `${host}/${LAYOUT.project}`,
      CI_REGISTRY_USER: REGISTRY_USER,
      CI_REGISTRY_PASSWORD: password,
    };
  }

  it.skipIf(!available)(
    'pushes the built image unchanged, under the version, after a login with the password on stdin (skipped without docker-registry and skopeo)',
    async () => {
      const work = await mkdtemp(join(scratch, 'push-'));
      const env = pushEnv(work, REGISTRY_PASSWORD);
      const result = await run(script('push-image'), [], env, { cwd: work, timeoutMs: 180_000 });
      expect(result.code, result.stderr).toBe(0);
      const image = await readOciArchive(join(release, IMAGE_ARCHIVE));
      try {
        const reference = `${registry?.host}/${LAYOUT.project}:${VERSION}`;
        expect(result.stdout).toContain(`pushed ${reference}@${image.digest}`);
        const { stdout } = await exec('skopeo', ['inspect', `docker://${reference}`], {
          env: env as NodeJS.ProcessEnv,
        });
        const inspected = JSON.parse(stdout) as { Digest: string; Labels: Record<string, string> };
        expect(inspected.Digest).toBe(image.digest);
        expect(inspected.Labels['org.opencontainers.image.version']).toBe(VERSION);
      } finally {
        await image.remove();
      }
    },
    240_000,
  );

  it.skipIf(!available)('fails at the login with a wrong password, pushing nothing', async () => {
    const work = await mkdtemp(join(scratch, 'push-'));
    const env = { ...pushEnv(work, 'wrong-password'), CI_REGISTRY_IMAGE: `${registry?.host}/other/project` };
    const result = await run(script('push-image'), [], env, { cwd: work, timeoutMs: 60_000 });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/unauthorized|401|invalid username\/password/i);
    expect(result.stdout).not.toContain('pushed');
  });
});

describe('publish-npm', () => {
  async function publish(npmVersion: string, extra: Record<string, string> = {}) {
    const work = await mkdtemp(join(scratch, 'npm-'));
    const bin = join(work, 'bin');
    await mkdir(bin);
    const log = join(work, 'npm.log');
    await writeFile(
      join(bin, 'npm'),
      `#!/bin/sh\necho "$*" >>"${log}"\nif [ "$1" = --version ]; then echo "${npmVersion}"; fi\n`,
    );
    await chmod(join(bin, 'npm'), 0o755);
    const result = await run(
      script('publish-npm'),
      [],
      {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: work,
        CI_COMMIT_TAG: VERSION,
        NPM_ID_TOKEN: 'id-token',
        ...extra,
      },
      { cwd: work },
    );
    const calls = existsSync(log) ? (await readFile(log, 'utf8')).trimEnd().split('\n') : [];
    return { ...result, calls };
  }

  const tarball = join(release, `${packageJson.name}-${VERSION}.tgz`);
  const tag = VERSION.includes('-') ? 'next' : 'latest';

  it('publishes the packed tarball with npm 11.5.1 or later, installing it over an older npm', async () => {
    const old = await publish('10.9.2');
    expect(old.code, old.stderr).toBe(0);
    expect(old.calls).toEqual([
      '--version',
      'install --global --no-audit --no-fund npm@11',
      `publish ${tarball} --access public --tag ${tag}`,
    ]);
    const current = await publish('11.5.1');
    expect(current.calls).toEqual(['--version', `publish ${tarball} --access public --tag ${tag}`]);
  });

  it('refuses without the ID token for trusted publishing, or on a tag that is not the version', async () => {
    const noToken = await publish('11.6.0', { NPM_ID_TOKEN: '' });
    expect(noToken.code).not.toBe(0);
    expect(noToken.stderr).toContain('NPM_ID_TOKEN');
    expect(noToken.calls).toEqual([]);
    const wrongTag = await publish('11.6.0', { CI_COMMIT_TAG: '9.9.9' });
    expect(wrongTag.code).toBe(1);
    expect(wrongTag.calls).toEqual([]);
  });
});
