/**
 * Runs the helper and real AWS clients as child processes in a fresh HOME, against the local test
 * bed. Nothing here mocks the helper: it is the form a user would install, named in one place
 * (`HELPER`), so that the same tests prove the npm package and the standalone binary.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
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
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
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
    execFile(command, args, { timeout: 30_000 }, (error, stdout, stderr) => {
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

/** Under CI every client must be there: a missing one fails instead of skipping. */
export function requireClientsUnderCi(clis: readonly AwsCli[]): void {
  if (process.env.CI !== 'true') return;
  const labels = clis.map((cli) => cli.label);
  for (const wanted of ['AWS CLI v1', 'AWS CLI v2']) {
    if (!labels.includes(wanted)) {
      throw new Error(
        `${wanted} is not installed but CI=true: .ci/run must install it (apt-get install -y awscli)`,
      );
    }
  }
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
