/**
 * The CI/CD component's job, run as GitLab and a runner would run it: inputs interpolated, the
 * variables and the ID token put into the environment, `before_script` and the user's `script` run
 * in one shell (bash, dash, and BusyBox's sh with only BusyBox's tools, as on Alpine) against the
 * release archives served from 127.0.0.1 and the local STS, with the real AWS CLIs as clients. The
 * component's install directory /usr/local/bin is replaced by a directory of each test.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AwsCli,
  assertInstalled,
  callerIdentity,
  findAwsClis,
  PIPELINE_ID,
  realClients,
  UNDER_CI,
} from '../e2e/harness.js';
import { DEMO_ROLE_NAME, startTestBed, type TestBed } from '../support/bed.js';
import {
  type CiMap,
  type Component,
  expandVariables,
  interpolate,
  loadComponent,
  type RunnerShell,
  runJobLines,
  stringList,
} from '../support/gitlab-ci.js';
import {
  archiveName,
  type PackageRegistry,
  PROGRAM,
  servePackageRegistry,
  VERSION,
} from '../support/release.js';

const release = resolve(import.meta.dirname, '../../dist/release');

let bed: TestBed;
let component: Component;
let registry: PackageRegistry;
let scratch: string;
let clis: AwsCli[];

beforeAll(async () => {
  if (!existsSync(join(release, archiveName('linux-x64'))))
    throw new Error('dist/release has no archives: run `npm run build:binaries` first');
  bed = await startTestBed();
  component = await loadComponent();
  registry = await servePackageRegistry(release);
  scratch = await mkdtemp(join(tmpdir(), 'gach-component-'));
  clis = await findAwsClis();
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  await bed?.stop();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

interface JobRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly home: string;
  readonly bin: string;
  readonly config: string;
}

interface JobOptions {
  readonly inputs?: Record<string, string | number | boolean>;
  readonly script?: readonly string[];
  readonly shell?: RunnerShell;
  /** Variables the project or the image already sets. */
  readonly env?: Record<string, string>;
  /** PATH after the install directory; default this machine's PATH. */
  readonly path?: string;
  /** Runs before the job, e.g. to pre-install the helper or write an AWS config. */
  readonly prepare?: (run: { home: string; bin: string; config: string }) => Promise<void>;
}

/** Runs the component's hidden job, extended by a job with `script`, as GitLab and a runner would. */
async function runJob(options: JobOptions = {}): Promise<JobRun> {
  // The archives come from the local stand-in unless a test names another URL; the default
  // (gitlab.com) is held to the release pipeline by test/ci/component.test.ts.
  const jobs = interpolate(component, {
    'aws-account-id': bed.accountId,
    'download-url': registry.url,
    ...options.inputs,
  });
  const [name, job] = Object.entries(jobs)[0] as [string, CiMap];
  expect(name.startsWith('.'), 'the job is hidden').toBe(true);
  const work = await mkdtemp(join(scratch, 'job-'));
  const home = join(work, 'home');
  const bin = join(work, 'bin');
  await mkdir(home);
  await mkdir(bin);
  const config = join(home, '.aws', 'config');
  const predefined: Record<string, string> = {
    PATH: `${bin}:${options.path ?? process.env.PATH ?? ''}`,
    HOME: home,
    LANG: 'C.UTF-8',
    CI: 'true',
    GITLAB_CI: 'true',
    CI_SERVER_URL: bed.issuer.iss,
    CI_API_V4_URL: `${bed.issuer.iss}/api/v4`,
    CI_PROJECT_DIR: work,
    CI_PROJECT_PATH: 'demo-group/demo-project',
    CI_PROJECT_PATH_SLUG: 'demo-group-demo-project',
    CI_PIPELINE_ID: PIPELINE_ID,
    CI_JOB_TOKEN: 'job-token-of-this-job',
    AWS_ENDPOINT_URL_STS: bed.sts.url,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...(process.env.PYENV_ROOT === undefined ? {} : { PYENV_ROOT: process.env.PYENV_ROOT }),
    ...options.env,
  };
  const variables = Object.fromEntries(
    Object.entries(job.variables as Record<string, string>).map(([key, value]) => [
      key,
      expandVariables(value, predefined),
    ]),
  );
  // GitLab lets project and group variables win over the YAML's (options.env).
  const env: Record<string, string> = { ...predefined, ...variables, ...options.env };
  const tokens = job.id_tokens as Record<string, { aud: string }>;
  for (const [variable, { aud }] of Object.entries(tokens)) {
    env[variable] = await bed.mint({ aud: expandVariables(aud, env) });
  }
  await options.prepare?.({ home, bin, config });
  const lines = [...stringList(job.before_script, 'before_script'), ...(options.script ?? [])].map((line) =>
    line.replaceAll('/usr/local/bin', bin),
  );
  const result = await runJobLines(options.shell ?? 'bash', lines, env, work);
  return { code: result.code, stdout: result.stdout, stderr: result.stderr, home, bin, config };
}

function identityLine(cli: AwsCli, profile?: string): string {
  return [cli.path, ...callerIdentity(cli, bed, profile === undefined ? [] : ['--profile', profile])].join(
    ' ',
  );
}

describe('the component job', () => {
  it('downloads and verifies the archive, configures credential_process, and the AWS CLIs use it', async () => {
    // Under CI both AWS CLIs must be there: a missing one fails here instead of shrinking the loop.
    if (UNDER_CI) {
      for (const client of await realClients())
        if (client.label !== 'AWS SDK for JavaScript') assertInstalled(client);
    }
    expect(clis.length, 'an AWS CLI to test with').toBeGreaterThan(0);
    const downloadsBefore = registry.requests.length;
    const before = bed.sts.exchangeCount();
    // The region the AWS CLI needs comes from the project here; the second test sets it by input.
    const job = await runJob({
      env: { AWS_DEFAULT_REGION: 'us-east-1' },
      script: clis.map((cli) => identityLine(cli)),
    });
    expect(job.code, job.stderr).toBe(0);
    expect(job.stderr).toContain(
      `installed ${job.bin}/${PROGRAM} (${VERSION}, linux_amd64, checked against SHA256SUMS)`,
    );
    expect(registry.requests.slice(downloadsBefore).map((request) => request.path.split('/').at(-1))).toEqual(
      [archiveName('linux-x64'), 'SHA256SUMS'],
    );
    expect(await readdir(job.bin)).toEqual([PROGRAM]);
    expect(await readFile(job.config, 'utf8')).toBe(
      `[default]\ncredential_process = "${job.bin}/${PROGRAM}" process\n`,
    );
    const identities = job.stdout
      .trim()
      .split(/\n(?=\{)/)
      .map((text) => JSON.parse(text) as { Arn: string; Account: string });
    expect(identities).toHaveLength(clis.length);
    for (const identity of identities) {
      expect(identity.Arn).toBe(
        `arn:aws:sts::${bed.accountId}:assumed-role/${DEMO_ROLE_NAME}/${DEMO_ROLE_NAME}-${PIPELINE_ID}`,
      );
    }
    // The component's own first exchange fills the cache; every CLI call after it is served from it.
    expect(bed.sts.exchangeCount()).toBe(before + 1);
  });

  it('passes role, region, duration and profile from the inputs, and puts the helper on PATH', async () => {
    const { arn } = bed.addDemoRole('ci-deployer', 3600);
    const cli = clis[0];
    if (cli === undefined) throw new Error('no AWS CLI to test with');
    const job = await runJob({
      inputs: {
        job: '.aws-deploy',
        role: arn,
        region: 'eu-west-1',
        'duration-seconds': 900,
        profile: 'deploy',
      },
      script: [
        identityLine(cli, 'deploy'),
        'printf "exported: %s %s %s\\n" "$AWS_REGION" "$AWS_DEFAULT_REGION" "$(command -v gitlab-aws-credential-helper)"',
      ],
    });
    expect(job.code, job.stderr).toBe(0);
    const [identity, exported] = job.stdout.trim().split('\nexported: ');
    expect((JSON.parse(identity ?? '') as { Arn: string }).Arn).toContain(':assumed-role/ci-deployer/');
    expect(exported).toBe(`eu-west-1 eu-west-1 ${job.bin}/${PROGRAM}`);
    const exchange = bed.sts.requests
      .filter((request) => request.action === 'AssumeRoleWithWebIdentity')
      .at(-1);
    expect(exchange?.params).toMatchObject({ RoleArn: arn, DurationSeconds: '900' });
    expect(await readFile(job.config, 'utf8')).toBe(
      `[profile deploy]\ncredential_process = "${job.bin}/${PROGRAM}" process\n`,
    );
  });

  it('edits an existing AWS config: only the credential_process of its profile changes', async () => {
    const existing = [
      '# the image ships this file',
      '[default]',
      'region = eu-central-1',
      'credential_process = /opt/old-tool --json',
      '',
      '[profile other]',
      'credential_process = /opt/other',
      '',
    ].join('\n');
    const job = await runJob({
      prepare: async ({ config }) => {
        await mkdir(join(config, '..'), { recursive: true });
        await writeFile(config, existing);
      },
    });
    expect(job.code, job.stderr).toBe(0);
    expect(await readFile(job.config, 'utf8')).toBe(
      existing.replace(
        '[default]\nregion = eu-central-1\ncredential_process = /opt/old-tool --json\n',
        `[default]\ncredential_process = "${job.bin}/${PROGRAM}" process\nregion = eu-central-1\n`,
      ),
    );
  });

  it('uses a helper already on PATH without downloading', async () => {
    const requests = registry.requests.length;
    const job = await runJob({
      prepare: async ({ bin }) => {
        await copyFile(join(release, 'build/linux-x64', PROGRAM), join(bin, PROGRAM));
        await chmod(join(bin, PROGRAM), 0o755);
      },
    });
    expect(job.code, job.stderr).toBe(0);
    expect(job.stderr).toContain(`using ${job.bin}/${PROGRAM} (${VERSION})`);
    expect(registry.requests.length).toBe(requests);
  });

  it('fails with the reason when install is never and the image has no helper', async () => {
    const job = await runJob({ inputs: { install: 'never' } });
    expect(job.code).not.toBe(0);
    expect(job.stderr).toContain(`${PROGRAM} is not on PATH and install is never`);
    expect(existsSync(job.config)).toBe(false);
  });

  it('fails before the first exchange when the helper refuses the settings, with its message', async () => {
    const job = await runJob({ env: { GITLAB_AWS_ACCOUNT_ID: '' }, inputs: { 'aws-account-id': '' } });
    expect(job.code).not.toBe(0);
    expect(job.stderr).toMatch(/GITLAB_AWS_ACCOUNT_ID/);
    expect(job.stderr).toContain('the first exchange failed');
  });

  it('installs nothing and configures nothing when the archive does not match SHA256SUMS', async () => {
    const tampered = join(scratch, 'tampered');
    await mkdir(tampered, { recursive: true });
    await copyFile(join(release, 'SHA256SUMS'), join(tampered, 'SHA256SUMS'));
    const bytes = await readFile(join(release, archiveName('linux-x64')));
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0xff;
    await writeFile(join(tampered, archiveName('linux-x64')), bytes);
    const mirror = await servePackageRegistry(tampered);
    try {
      const job = await runJob({ inputs: { 'download-url': mirror.url } });
      expect(job.code).not.toBe(0);
      expect(job.stderr).toContain('does not match SHA256SUMS: not installed');
      expect(await readdir(job.bin)).toEqual([]);
      expect(existsSync(job.config)).toBe(false);
    } finally {
      await mirror.stop();
    }
  });

  it("sends the job token to this instance's API, from a mirror URL given with $CI_API_V4_URL", async () => {
    const mirror = await servePackageRegistry(release, { requireJobToken: 'job-token-of-this-job' });
    try {
      const apiUrl = mirror.url.replace(/\/packages\/generic\/.*$/, '');
      const job = await runJob({
        env: { CI_API_V4_URL: apiUrl },
        inputs: { 'download-url': `$CI_API_V4_URL/packages/generic/${PROGRAM}` },
      });
      expect(job.code, job.stderr).toBe(0);
      expect(mirror.requests.map((request) => request.headers['job-token'])).toEqual([
        'job-token-of-this-job',
        'job-token-of-this-job',
      ]);
    } finally {
      await mirror.stop();
    }
  });

  const busybox = existsSync('/usr/bin/busybox') || existsSync('/bin/busybox');
  const dash = existsSync('/usr/bin/dash') || existsSync('/bin/dash');
  if ((!busybox || !dash) && process.env.CI === 'true') {
    it('has busybox and dash under CI', () => {
      throw new Error(
        'CI=true but busybox or dash is missing: .ci/run must install them (apt-get install busybox)',
      );
    });
  }

  it.skipIf(!dash)('runs in a POSIX sh (dash) (skipped without dash)', async () => {
    const before = bed.sts.exchangeCount();
    const job = await runJob({ shell: 'dash' });
    expect(job.code, job.stderr).toBe(0);
    expect(bed.sts.exchangeCount()).toBe(before + 1);
  });

  it.skipIf(!busybox)(
    "runs in BusyBox's sh with only BusyBox's tools (wget, sha256sum, tar, awk), as on Alpine (skipped without busybox)",
    async () => {
      const applets = join(scratch, 'busybox-bin');
      if (!existsSync(applets)) {
        await mkdir(applets);
        const path = existsSync('/usr/bin/busybox') ? '/usr/bin/busybox' : '/bin/busybox';
        for (const applet of [
          'sh',
          'wget',
          'sha256sum',
          'tar',
          'awk',
          'grep',
          'mktemp',
          'rm',
          'mkdir',
          'chmod',
          'mv',
          'dirname',
          'uname',
          'cat',
          'printf',
          'echo',
        ]) {
          await symlink(path, join(applets, applet));
        }
      }
      const before = bed.sts.exchangeCount();
      const job = await runJob({ shell: 'busybox', path: applets });
      expect(job.code, job.stderr).toBe(0);
      expect(job.stderr).toContain('checked against SHA256SUMS');
      expect(await readFile(job.config, 'utf8')).toContain(
        `credential_process = "${job.bin}/${PROGRAM}" process`,
      );
      expect(bed.sts.exchangeCount()).toBe(before + 1);
    },
  );
});
