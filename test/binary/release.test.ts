/**
 * The release archives of `npm run build:binaries`, as a user gets them: checksums that
 * `sha256sum -c` accepts, archives with exactly the executable, LICENSE and README.md, the shared
 * libraries each executable needs (as the README states them), the linux-x64 executable running
 * with no Node.js anywhere, the arm64 one under emulation, and the README's install snippet against
 * the archives served from 127.0.0.1. The rest of the behaviour is proven by the whole end-to-end
 * suite run against the linux-x64 executable (GACH_HELPER; .ci/run does both).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { list as listTar } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJob, PIPELINE_ID, run } from '../e2e/harness.js';
import { startTestBed, type TestBed } from '../support/bed.js';
import { PACKAGE_REGISTRY, servePackageRegistry } from '../support/release.js';

const root = resolve(import.meta.dirname, '../..');
const release = join(root, 'dist/release');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const PROGRAM = 'gitlab-aws-credential-helper';

/** What the README's "Which archive" table promises, target by target. */
const TARGETS = [
  {
    archive: `${PROGRAM}_${version}_linux_amd64.tar.gz`,
    machine: 'Advanced Micro Devices X86-64',
    interpreter: '/lib64/ld-linux-x86-64.so.2',
    needed: ['ld-linux-x86-64.so.2', 'libc.so.6', 'libdl.so.2', 'libm.so.6', 'libpthread.so.0'],
  },
  {
    archive: `${PROGRAM}_${version}_linux_arm64.tar.gz`,
    machine: 'AArch64',
    interpreter: '/lib/ld-linux-aarch64.so.1',
    needed: ['ld-linux-aarch64.so.1', 'libc.so.6', 'libdl.so.2', 'libm.so.6', 'libpthread.so.0'],
  },
  {
    archive: `${PROGRAM}_${version}_linux_amd64_musl.tar.gz`,
    machine: 'Advanced Micro Devices X86-64',
    interpreter: '/lib/ld-musl-x86_64.so.1',
    needed: ['libc.musl-x86_64.so.1', 'libstdc++.so.6'],
  },
  {
    archive: `${PROGRAM}_${version}_linux_arm64_musl.tar.gz`,
    machine: 'AArch64',
    interpreter: '/lib/ld-musl-aarch64.so.1',
    needed: ['libc.musl-aarch64.so.1', 'libstdc++.so.6'],
  },
] as const;

function sh(
  command: string,
  args: readonly string[],
  options: { cwd?: string } = {},
): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, encoding: 'utf8', maxBuffer: 1 << 24 },
      (error, stdout, stderr) => {
        done({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          out: `${stdout}${stderr}`,
        });
      },
    );
  });
}

let bed: TestBed;
let scratch: string;
/** Each archive unpacked: target archive name → directory. */
const unpacked = new Map<string, string>();

beforeAll(async () => {
  for (const target of TARGETS) {
    if (!existsSync(join(release, target.archive))) {
      throw new Error(`${target.archive} is missing in dist/release: run \`npm run build:binaries\` first`);
    }
  }
  bed = await startTestBed();
  scratch = await mkdtemp(join(tmpdir(), 'gach-release-'));
  for (const target of TARGETS) {
    const directory = join(scratch, target.archive.replace(/\.tar\.gz$/, ''));
    await mkdir(directory);
    execFileSync('tar', ['-C', directory, '-xzf', join(release, target.archive)]);
    unpacked.set(target.archive, directory);
  }
}, 120_000);

afterAll(async () => {
  await bed?.stop();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

const executableOf = (archive: string): string => join(unpacked.get(archive) ?? '', PROGRAM);

describe('release archives', () => {
  it('SHA256SUMS lists every archive, in a form sha256sum -c accepts', async () => {
    const sums = await readFile(join(release, 'SHA256SUMS'), 'utf8');
    expect(
      sums
        .trimEnd()
        .split('\n')
        .map((line) => line.split('  ')[1]),
    ).toEqual(TARGETS.map((target) => target.archive));
    const check = await sh('sha256sum', ['-c', 'SHA256SUMS'], { cwd: release });
    expect(check.code, check.out).toBe(0);
    expect(check.out.match(/: OK$/gm)).toHaveLength(TARGETS.length);
  });

  it.each(TARGETS.map((target) => [target.archive, target] as const))(
    '%s holds the executable (0755), LICENSE and README.md, owned by root, one mtime',
    async (archive) => {
      const entries: Array<{ path: string; mode: number; uid: number; gid: number; mtime: number }> = [];
      await listTar({
        file: join(release, archive),
        onReadEntry: (entry) => {
          entries.push({
            path: entry.path,
            mode: (entry.mode ?? 0) & 0o7777,
            uid: entry.uid ?? 0,
            gid: entry.gid ?? 0,
            mtime: entry.mtime?.getTime() ?? -1,
          });
        },
      });
      expect(entries.map((entry) => [entry.path, entry.mode.toString(8)])).toEqual([
        [PROGRAM, '755'],
        ['LICENSE', '644'],
        ['README.md', '644'],
      ]);
      for (const entry of entries) expect([entry.uid, entry.gid]).toEqual([0, 0]);
      expect(new Set(entries.map((entry) => entry.mtime)).size).toBe(1);
      const directory = unpacked.get(archive) ?? '';
      expect(await readFile(join(directory, 'README.md'), 'utf8')).toBe(
        await readFile(join(root, 'README.md'), 'utf8'),
      );
      expect(await readFile(join(directory, 'LICENSE'), 'utf8')).toBe(
        await readFile(join(root, 'LICENSE'), 'utf8'),
      );
    },
  );

  it.each(TARGETS.map((target) => [target.archive, target] as const))(
    '%s is an executable for its machine that needs only the documented libraries',
    async (archive, target) => {
      const header = await sh('readelf', ['-hlW', executableOf(archive)]);
      expect(header.out).toContain(`Machine:                           ${target.machine}`);
      expect(/interpreter: ([^\]]+)\]/.exec(header.out)?.[1]).toBe(target.interpreter);
      const dynamic = await sh('readelf', ['-dW', executableOf(archive)]);
      const needed = [...dynamic.out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map(
        (match) => match[1],
      );
      expect(needed.sort()).toEqual([...target.needed]);
    },
  );
});

describe('the linux-x64 executable', () => {
  const executable = () => executableOf(TARGETS[0].archive);

  it('runs every mode with an empty environment and no Node.js on PATH', async () => {
    const job = await createJob(bed, await bed.mint());
    const emptyBin = join(job.home, 'empty-bin');
    await mkdir(emptyBin);
    // Only the job's own variables: no PATH entry holds node (or anything else).
    const env: Record<string, string | undefined> = {
      PATH: emptyBin,
      HOME: job.home,
      CI_PROJECT_PATH_SLUG: job.env.CI_PROJECT_PATH_SLUG,
      CI_PIPELINE_ID: PIPELINE_ID,
      GITLAB_AWS_ACCOUNT_ID: job.env.GITLAB_AWS_ACCOUNT_ID,
      GITLAB_AWS_IDENTITY_TOKEN: job.env.GITLAB_AWS_IDENTITY_TOKEN,
      AWS_ENDPOINT_URL_STS: job.env.AWS_ENDPOINT_URL_STS,
      AWS_SHARED_CREDENTIALS_FILE: job.credentialsFile,
    };
    try {
      const noNode = await run('/bin/sh', ['-c', 'command -v node || echo absent'], env);
      expect(noNode.stdout.trim()).toBe('absent');
      const processResult = await run(executable(), ['process'], env);
      expect(processResult.stderr).toBe('');
      expect(processResult.code).toBe(0);
      expect(JSON.parse(processResult.stdout)).toMatchObject({
        Version: 1,
        AccessKeyId: expect.stringMatching(/^ASIA/),
      });
      const profile = await run(executable(), ['aws-profile', '--name', 'standalone'], env);
      expect(profile.code, profile.stderr).toBe(0);
      expect(await readFile(job.credentialsFile, 'utf8')).toMatch(
        /^\[standalone\]\naws_access_key_id = ASIA/,
      );
      const child = await run(
        executable(),
        ['env', '--', '/bin/sh', '-c', 'printf %s "$AWS_ACCESS_KEY_ID"'],
        env,
      );
      expect(child.code, child.stderr).toBe(0);
      expect(child.stdout).toMatch(/^ASIA/);
    } finally {
      await job.cleanup();
    }
  });
});

describe('the linux-arm64 executable under emulation', () => {
  const qemu = '/usr/bin/qemu-aarch64-static';
  const sysroot = '/usr/aarch64-linux-gnu';
  const available = existsSync(qemu) && existsSync(join(sysroot, 'lib/ld-linux-aarch64.so.1'));
  if (!available && process.env.CI === 'true') {
    it('has qemu-user-static and libc6-arm64-cross under CI', () => {
      throw new Error(
        'CI=true but qemu-aarch64-static or the arm64 C library is missing: .ci/run must install them',
      );
    });
  }
  it.skipIf(!available)(
    'prints its version and exchanges a token (skipped without qemu-user-static and libc6-arm64-cross)',
    async () => {
      const executable = executableOf(TARGETS[1].archive);
      const versionResult = await run(qemu, ['-L', sysroot, executable, '--version'], {
        PATH: process.env.PATH,
      });
      expect(versionResult.stdout.trim(), versionResult.stderr).toBe(version);
      const job = await createJob(bed, await bed.mint());
      try {
        const before = bed.sts.exchangeCount();
        const result = await run(qemu, ['-L', sysroot, executable, 'process'], job.env, {
          timeoutMs: 120_000,
        });
        expect(result.code, result.stderr).toBe(0);
        expect(JSON.parse(result.stdout)).toMatchObject({
          Version: 1,
          AccessKeyId: expect.stringMatching(/^ASIA/),
        });
        expect(bed.sts.exchangeCount()).toBe(before + 1);
      } finally {
        await job.cleanup();
      }
    },
    180_000,
  );
});

/** The install lines of the README's before_script example, as a user copies them. */
async function readmeInstallLines(): Promise<string[]> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const block = /<!-- install-snippet:start -->\n```yaml\n([\s\S]*?)```\n<!-- install-snippet:end -->/.exec(
    readme,
  )?.[1];
  if (block === undefined)
    throw new Error('README.md has no install snippet between the install-snippet markers');
  return block
    .split('\n')
    .map((line) => /^\s+- (.*)$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined);
}

describe("the README's install snippet", () => {
  async function runSnippet(
    directory: string,
  ): Promise<{ code: number | null; output: string; bin: string }> {
    const registry = await servePackageRegistry(directory);
    const work = await mkdtemp(join(scratch, 'install-'));
    const bin = join(work, 'bin');
    await mkdir(bin);
    try {
      const readmeLines = await readmeInstallLines();
      expect(
        readmeLines.some((line) => line.startsWith(`GACH_URL=${PACKAGE_REGISTRY}/`)),
        `the snippet downloads from the project's generic package registry, ${PACKAGE_REGISTRY}`,
      ).toBe(true);
      const lines = readmeLines.map((line) =>
        line.replace(PACKAGE_REGISTRY, registry.url).replaceAll('/usr/local/bin', bin),
      );
      const result = await run(
        'bash',
        ['-euo', 'pipefail', '-c', lines.join('\n')],
        { PATH: process.env.PATH },
        { cwd: work },
      );
      return { code: result.code, output: `${result.stdout}${result.stderr}`, bin };
    } finally {
      await registry.stop();
    }
  }

  it('downloads, verifies and installs the archive', async () => {
    const { code, output, bin } = await runSnippet(release);
    expect(code, output).toBe(0);
    expect(await readdir(bin)).toEqual([PROGRAM]);
    const installed = await run(join(bin, PROGRAM), ['--version'], {});
    expect(installed.stdout.trim()).toBe(version);
  });

  it('stops at the checksum when the archive was tampered with, installing nothing', async () => {
    const tampered = join(scratch, 'tampered');
    await mkdir(tampered);
    for (const name of await readdir(release)) {
      if (name.endsWith('.tar.gz') || name === 'SHA256SUMS')
        await copyFile(join(release, name), join(tampered, name));
    }
    const victim = join(tampered, TARGETS[0].archive);
    const bytes = await readFile(victim);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0xff;
    await writeFile(victim, bytes);
    const { code, output, bin } = await runSnippet(tampered);
    expect(code).not.toBe(0);
    expect(output).toMatch(/FAILED/);
    expect(await readdir(bin)).toEqual([]);
  });
});
