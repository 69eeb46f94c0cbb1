/**
 * What `npm publish` ships, and that it works once installed: the packed tarball holds only the
 * built files, README and LICENSE; installed into an empty project with production dependencies
 * only (offline: the package has none, everything is bundled), its bin exchanges a token at the
 * local STS.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJob, NODE, run } from '../e2e/harness.js';
import { startTestBed, type TestBed } from '../support/bed.js';

const root = resolve(import.meta.dirname, '../..');

let bed: TestBed;
let scratch: string;
beforeAll(async () => {
  bed = await startTestBed();
  scratch = await mkdtemp(join(tmpdir(), 'gach-pack-'));
});
afterAll(async () => {
  await bed?.stop();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('contains only the built files, README.md, LICENSE and package.json', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: root, encoding: 'utf8' }),
    ) as [{ files: { path: string }[] }];
    const paths = pack.files.map((file) => file.path);
    for (const expected of [
      'dist/cli.cjs',
      'dist/main.cjs',
      'dist/commands/doctor.cjs',
      'dist/commands/role-template.cjs',
      'dist/lib/index.js',
      'dist/types/index.d.ts',
    ]) {
      expect(paths).toContain(expected);
    }
    for (const path of paths) {
      expect(path).toMatch(
        /^(dist\/(cli\.cjs|main\.cjs|commands\/|vendor\/|lib\/|types\/)|README\.md$|LICENSE$|package\.json$)/,
      );
    }
    expect(paths.some((path) => /\.test\.|release\//.test(path))).toBe(false);
  });

  it('installs offline from the tarball and its bin exchanges a token', async () => {
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: root, encoding: 'utf8' }),
    ) as [{ filename: string }];
    const project = join(scratch, 'consumer');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), '{ "name": "consumer", "private": true }\n');
    execFileSync(
      'npm',
      ['install', '--omit=dev', '--offline', '--no-audit', '--no-fund', join(scratch, packed.filename)],
      { cwd: project, stdio: 'pipe' },
    );
    const installed = (await readdir(join(project, 'node_modules'))).filter((name) => !name.startsWith('.'));
    expect(installed, 'no runtime dependencies: everything is bundled').toEqual([
      'gitlab-aws-credential-helper',
    ]);

    const job = await createJob(bed, await bed.mint(), {
      // The bin's `#!/usr/bin/env node` finds the Node that runs this suite.
      PATH: `${dirname(NODE)}:${process.env.PATH ?? ''}`,
    });
    try {
      const before = bed.sts.exchangeCount();
      const result = await run(
        join(project, 'node_modules/.bin/gitlab-aws-credential-helper'),
        ['process'],
        job.env,
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        Version: 1,
        AccessKeyId: expect.stringMatching(/^ASIA/),
      });
      expect(bed.sts.exchangeCount()).toBe(before + 1);

      // The commands bundled into files of their own (and yaml, vendored) load from the install.
      const bin = join(project, 'node_modules/.bin/gitlab-aws-credential-helper');
      const template = await run(bin, ['role-template', '--provider-host', bed.issuer.host], job.env);
      expect(template.code, template.stderr).toBe(0);
      await writeFile(join(job.home, 'role.yml'), template.stdout);
      const doctor = await run(
        bin,
        ['doctor', '--trust-policy', join(job.home, 'role.yml'), '--live'],
        job.env,
      );
      expect(doctor.stdout).toContain('ok       trust-policy ');
      expect(doctor.stdout).toContain('ok       live-caller-identity ');

      // The library, imported by the package's name as a consumer does, with the job's variables.
      const script = join(project, 'use-library.mjs');
      await writeFile(
        script,
        [
          "import { fromGitLabIdToken } from 'gitlab-aws-credential-helper';",
          "const set = await fromGitLabIdToken({ roleSessionName: 'installed-library', cache: false })();",
          'console.log(JSON.stringify({ ok: set.accessKeyId.startsWith("ASIA"), account: set.accountId }));',
        ].join('\n'),
      );
      const library = await run(NODE, [script], job.env);
      expect(library.stderr).toBe('');
      expect(JSON.parse(library.stdout)).toEqual({ ok: true, account: bed.accountId });
      expect(bed.sts.issued.at(-1)?.sessionName).toBe('installed-library');
    } finally {
      await job.cleanup();
    }
  });

  it('exposes the library API from the built entry point', async () => {
    const library = (await import(resolve(root, 'dist/lib/index.js'))) as Record<string, unknown>;
    for (const name of [
      'fromGitLabIdToken',
      'resolveSettings',
      'obtainCredentials',
      'exchangeWebIdentityToken',
      'formatCredentialProcessJson',
      'evaluateTrustPolicy',
    ]) {
      expect(typeof library[name], name).toBe('function');
    }
  });
});
