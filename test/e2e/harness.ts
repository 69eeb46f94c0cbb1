/**
 * Runs the helper and real AWS clients as child processes in a fresh HOME, against the local test
 * bed. Nothing here mocks the helper: it is the form a user would install, named in one place
 * (`HELPER`), so that the same tests prove the npm package and the standalone binary.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestBed } from '../support/bed.js';

export const CLI = resolve(import.meta.dirname, '../../dist/cli.cjs');
/** Node.js for the tests' own fixtures (an SDK caller, a signal probe); never for the helper itself. */
export const NODE = process.execPath;

/**
 * The helper's command: `GACH_HELPER=path/to/binary` selects a standalone binary, and without it
 * the npm form runs, `node dist/cli.cjs`. Every end-to-end test starts the helper through this.
 */
export const HELPER: readonly [string, ...string[]] =
  process.env.GACH_HELPER !== undefined && process.env.GACH_HELPER !== ''
    ? [resolve(process.env.GACH_HELPER)]
    : [NODE, CLI];
export const HELPER_FORM: 'binary' | 'npm' = HELPER.length === 1 ? 'binary' : 'npm';

/** The helper's command and arguments, split for spawn(). */
export function helperCommand(args: readonly string[]): [string, string[]] {
  const [command, ...prefix] = HELPER;
  return [command, [...prefix, ...args]];
}

/** The helper's command line for a `credential_process` setting (absolute paths, no shell). */
export function credentialProcessLine(args: readonly string[] = ['process']): string {
  return [...HELPER, ...args].map((word) => (/\s/.test(word) ? `"${word}"` : word)).join(' ');
}

export function assertBuilt(): void {
  const built = HELPER[HELPER.length - 1] as string;
  const how = HELPER_FORM === 'npm' ? '`npm run build` (npm test does it first)' : '`npm run build:binaries`';
  if (!existsSync(built)) throw new Error(`${built} is missing: run ${how}`);
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(
  command: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
  options: { input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      env: Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined)) as Record<
        string,
        string
      >,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // A bound against a hung child, generous for a busy machine.
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    // A child that exits before reading its stdin (a failing start) must not fail the test with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs the helper (see HELPER) to completion. */
export function runCli(
  args: readonly string[],
  env: Record<string, string | undefined>,
  options: { input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return run(...helperCommand(args), env, options);
}

/** The environment of a GitLab job on the test bed: a fresh HOME, the job's variables, a token. */
export interface Job {
  readonly home: string;
  readonly env: Record<string, string | undefined>;
  readonly credentialsFile: string;
  readonly configFile: string;
  cleanup(): Promise<void>;
}

export const PIPELINE_ID = '777';

export async function createJob(
  bed: TestBed,
  token: string,
  extra: Record<string, string | undefined> = {},
): Promise<Job> {
  const home = await mkdtemp(join(tmpdir(), 'gach-e2e-'));
  const credentialsFile = join(home, '.aws', 'credentials');
  const configFile = join(home, '.aws', 'config');
  // The cache's fallback directory lives under the temp directory: keep each job's apart.
  await mkdir(join(home, 'tmp'));
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    PYENV_ROOT: process.env.PYENV_ROOT,
    LANG: 'C.UTF-8',
    HOME: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    TMPDIR: join(home, 'tmp'),
    CI: 'true',
    GITLAB_CI: 'true',
    CI_PROJECT_PATH: 'demo-group/demo-project',
    CI_PROJECT_PATH_SLUG: 'demo-group-demo-project',
    CI_PIPELINE_ID: PIPELINE_ID,
    GITLAB_AWS_ACCOUNT_ID: bed.accountId,
    GITLAB_AWS_IDENTITY_TOKEN: token,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_STS: bed.sts.url,
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_EC2_METADATA_DISABLED: 'true',
    // A generous bound for one STS request: on a busy machine the local STS may answer after the
    // default 10 s, and a retry would change the exchanges tests count. Time-out tests pass --timeout.
    GITLAB_AWS_TIMEOUT: '300',
    ...extra,
  };
  return {
    home,
    env,
    credentialsFile,
    configFile,
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}

export interface AwsCli {
  readonly label: string;
  readonly path: string;
  /** CLI v2 from Debian does not read AWS_ENDPOINT_URL_STS; it needs --endpoint-url. */
  readonly needsEndpointFlag: boolean;
}

function execText(command: string, args: readonly string[]): Promise<string | undefined> {
  return new Promise((resolvePromise) => {
    execFile(command, args, { timeout: 300_000 }, (error, stdout, stderr) => {
      resolvePromise(error ? undefined : `${stdout}${stderr}`.trim());
    });
  });
}

/** The AWS CLIs on this machine: v1 (`aws` on PATH) and Debian's v2 at /usr/bin/aws. */
export async function findAwsClis(): Promise<AwsCli[]> {
  const found: AwsCli[] = [];
  const onPath = await execText('aws', ['--version']);
  if (onPath?.startsWith('aws-cli/1.'))
    found.push({ label: 'AWS CLI v1', path: 'aws', needsEndpointFlag: false });
  if (existsSync('/usr/bin/aws')) {
    const version = await execText('/usr/bin/aws', ['--version']);
    if (version?.startsWith('aws-cli/2.'))
      found.push({ label: 'AWS CLI v2', path: '/usr/bin/aws', needsEndpointFlag: true });
    else if (version?.startsWith('aws-cli/1.') && found.length === 0) {
      found.push({ label: 'AWS CLI v1 (Debian)', path: '/usr/bin/aws', needsEndpointFlag: false });
    }
  }
  return found;
}

export function callerIdentity(cli: AwsCli, bed: TestBed, extraArgs: readonly string[] = []): string[] {
  return [
    ...extraArgs,
    'sts',
    'get-caller-identity',
    '--output',
    'json',
    ...(cli.needsEndpointFlag ? ['--endpoint-url', bed.sts.url] : []),
  ];
}

/** `CI=true`: every real client must be installed, and a missing one fails its tests. */
export const UNDER_CI = process.env.CI === 'true';

const SDK_CALLER = resolve(import.meta.dirname, 'fixtures/sdk-caller-identity.mjs');

/** A real consumer of the credentials, which asks STS who it is through its own credential chain. */
export interface RealClient {
  readonly label: 'AWS CLI v1' | 'AWS CLI v2' | 'AWS SDK for JavaScript';
  /** Why it cannot run on this machine and how to install it; undefined when it can. */
  readonly missing: string | undefined;
  /** A command line printing `sts get-caller-identity` as JSON with `Arn`; `profile` picks a profile. */
  whoAmI(bed: TestBed, profile?: string): string[];
  /** Sets `credential_process` of the default profile the way this client's users do. */
  configureCredentialProcess(job: Job): Promise<RunResult>;
}

function awsCliClient(
  label: 'AWS CLI v1' | 'AWS CLI v2',
  cli: AwsCli | undefined,
  install: string,
): RealClient {
  const path = cli?.path ?? (label === 'AWS CLI v1' ? 'aws' : '/usr/bin/aws');
  return {
    label,
    missing: cli === undefined ? `${label} is not installed (${install})` : undefined,
    whoAmI: (bed, profile) =>
      cli === undefined
        ? [path]
        : [path, ...callerIdentity(cli, bed, profile === undefined ? [] : ['--profile', profile])],
    configureCredentialProcess: (job) =>
      run(path, ['configure', 'set', 'credential_process', credentialProcessLine()], job.env),
  };
}

/**
 * The three real clients, each on its own so that a missing one is a visible skip (or, under CI, a
 * failure) and never an empty loop that passes.
 */
export async function realClients(): Promise<readonly RealClient[]> {
  const clis = await findAwsClis();
  const sdk = existsSync(resolve(import.meta.dirname, '../../node_modules/@aws-sdk/client-sts/package.json'));
  return [
    awsCliClient(
      'AWS CLI v1',
      clis.find((cli) => cli.label === 'AWS CLI v1'),
      'pip install awscli, as `aws` on PATH',
    ),
    awsCliClient(
      'AWS CLI v2',
      clis.find((cli) => cli.label === 'AWS CLI v2'),
      'apt-get install awscli, as /usr/bin/aws',
    ),
    {
      label: 'AWS SDK for JavaScript',
      missing: sdk ? undefined : 'the AWS SDK for JavaScript is not installed (npm ci)',
      whoAmI: (_bed, profile) =>
        profile === undefined ? [NODE, SDK_CALLER] : ['env', `AWS_PROFILE=${profile}`, NODE, SDK_CALLER],
      configureCredentialProcess: async (job) => {
        await mkdir(join(job.home, '.aws'), { recursive: true });
        await writeFile(job.configFile, `[default]\ncredential_process = ${credentialProcessLine()}\n`);
        return { code: 0, signal: null, stdout: '', stderr: '' };
      },
    },
  ];
}

/** The title of a client's tests: its label, and the reason when they are skipped here. */
export function clientTitle(client: RealClient): string {
  if (client.missing === undefined) return `through the ${client.label}`;
  return UNDER_CI
    ? `through the ${client.label} (missing, and CI=true: fails)`
    : `through the ${client.label} — SKIPPED: ${client.missing}; with CI=true this fails instead`;
}

/** True when a client's tests skip on this machine: it is missing and this is not CI. */
export function skippedHere(client: RealClient): boolean {
  return client.missing !== undefined && !UNDER_CI;
}

/** Fails a client's test when the client is missing (which, outside CI, skippedHere avoids). */
export function assertInstalled(client: RealClient): void {
  if (client.missing !== undefined) {
    throw new Error(`${client.missing}, but CI=true requires it: .ci/run must install it`);
  }
}
