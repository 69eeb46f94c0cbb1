/**
 * The bad-input matrix: every case runs the built CLI and asserts a non-zero exit, exactly one line
 * on stderr naming the cause with a fix, nothing on stdout, no secret in any output, and the AWS
 * files byte-identical to what they were.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBed, type TestBed } from '../support/bed.js';
import type { StsFault } from '../support/sts.js';
import { assertBuilt, createJob, type Job, runCli } from './harness.js';

let bed: TestBed;

beforeAll(async () => {
  assertBuilt();
  bed = await startTestBed();
  bed.addDemoRole('one-hour-max', 3600);
});
afterAll(async () => {
  await bed?.stop();
});

const CREDENTIALS_BEFORE =
  '# managed by hand\r\n[other]\r\naws_access_key_id = AKIAOTHEROTHEROTHER1\r\naws_secret_access_key = keep-me\r\n';
const CONFIG_BEFORE = '[profile other]\nregion = eu-west-1\n';

type Token = Promise<string>;
interface Case {
  readonly name: string;
  readonly args?: readonly string[];
  readonly env?: (job: Job) => Record<string, string | undefined>;
  /** The token to put in GITLAB_AWS_IDENTITY_TOKEN; default a valid one. */
  readonly token?: () => Token;
  readonly prepare?: (job: Job) => Promise<void>;
  readonly fault?: StsFault;
  readonly exit: number;
  readonly message: RegExp;
  /** Also run as aws-profile and env to prove no command writes anything (default for non-usage cases). */
  readonly allModes?: boolean;
}

const mint = (claims?: Parameters<TestBed['mint']>[0], options?: Parameters<TestBed['mint']>[1]) => () =>
  bed.mint(claims, options);
const hourAgo = () => Math.floor(Date.now() / 1000) - 3600;
const fail = { exit: 1 } as const;
const usage = { exit: 2 } as const;

const CASES: Case[] = [
  // settings
  {
    name: 'no account',
    env: () => ({ GITLAB_AWS_ACCOUNT_ID: undefined }),
    ...usage,
    message: /no AWS account.*GITLAB_AWS_ACCOUNT_ID/,
  },
  {
    name: 'account not 12 digits',
    env: () => ({ GITLAB_AWS_ACCOUNT_ID: '12345678901' }),
    ...usage,
    message: /GITLAB_AWS_ACCOUNT_ID: expected a 12-digit/,
  },
  {
    name: 'account with letters',
    args: ['-A', 'prod-account'],
    ...usage,
    message: /--aws-account: expected a 12-digit/,
  },
  { name: 'account with dashes', args: ['--aws-account', '1234-5678-9012'], ...usage, message: /12-digit/ },
  {
    name: 'duration below 900',
    args: ['-d', '899'],
    ...usage,
    message: /--duration-seconds: expected a whole number from 900 to 43200, got "899"/,
  },
  { name: 'duration above 43200', args: ['--duration-seconds', '43201'], ...usage, message: /43201/ },
  {
    name: 'duration not a number',
    env: () => ({ GITLAB_AWS_DURATION_SECONDS: '1h' }),
    ...usage,
    message: /GITLAB_AWS_DURATION_SECONDS/,
  },
  {
    name: 'session name too short',
    args: ['-n', 'x'],
    ...usage,
    message: /--role-session-name: expected 2 to 64/,
  },
  { name: 'session name with space', args: ['-n', 'my session'], ...usage, message: /"my session"/ },
  { name: 'session name too long', args: ['-n', 's'.repeat(65)], ...usage, message: /2 to 64/ },
  {
    name: 'role name with space',
    args: ['-r', 'my role'],
    ...usage,
    message: /--role-name: expected an IAM role name/,
  },
  { name: 'role name too long', args: ['--role', 'r'.repeat(65)], ...usage, message: /IAM role name/ },
  {
    name: 'role ARN malformed',
    args: ['-r', 'arn:aws:iam::123:role/x'],
    ...usage,
    message: /expected a role ARN/,
  },
  {
    name: 'role ARN of another account',
    args: ['-A', '123456789012', '-r', 'arn:aws:iam::999999999999:role/x'],
    ...usage,
    message: /names account 999999999999/,
  },
  {
    name: 'no slug and no role',
    env: () => ({ CI_PROJECT_PATH_SLUG: undefined, CI_PROJECT_PATH: undefined }),
    ...usage,
    message: /no role name/,
  },
  {
    name: 'region not a region',
    args: ['--region', 'Frankfurt'],
    ...usage,
    message: /--region: expected an AWS region/,
  },
  {
    name: 'endpoint not a URL',
    args: ['--endpoint-url', 'sts.local'],
    ...usage,
    message: /--endpoint-url: expected an http\(s\) URL/,
  },
  {
    name: 'token variable name is a value',
    args: ['-j', 'eyJ.x.y'],
    ...usage,
    message: /name of an environment variable/,
  },
  { name: 'max attempts zero', args: ['--max-attempts', '0'], ...usage, message: /--max-attempts/ },
  {
    name: 'timeout not a number',
    env: () => ({ GITLAB_AWS_TIMEOUT: 'soon' }),
    ...usage,
    message: /GITLAB_AWS_TIMEOUT/,
  },
  {
    name: 'cache switch not boolean',
    env: () => ({ GITLAB_AWS_CACHE: 'maybe' }),
    ...usage,
    message: /GITLAB_AWS_CACHE: expected true or false/,
  },
  { name: 'several problems at once', args: ['-d', '5', '-A', 'x'], ...usage, message: /2 problems/ },
  {
    name: 'unknown option',
    args: ['--acount', '123456789012'],
    ...usage,
    message: /unknown option/,
    allModes: false,
  },
  // token
  {
    name: 'token variable missing',
    env: () => ({ GITLAB_AWS_IDENTITY_TOKEN: undefined }),
    ...fail,
    message: /variable GITLAB_AWS_IDENTITY_TOKEN is not set.*id_tokens/,
  },
  {
    name: 'token variable empty',
    env: () => ({ GITLAB_AWS_IDENTITY_TOKEN: '' }),
    ...fail,
    message: /is empty/,
  },
  { name: '-j names a missing variable', args: ['-j', 'MY_TOKEN'], ...fail, message: /MY_TOKEN is not set/ },
  {
    name: 'token not a JWT',
    token: async () => 'not-a-token-at-all',
    ...fail,
    message: /does not hold a JWT/,
  },
  { name: 'token with two parts', token: async () => 'abc.def', ...fail, message: /2 dot-separated parts/ },
  {
    name: 'token payload not JSON',
    token: async () => 'eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln',
    ...fail,
    message: /not base64url-encoded JSON/,
  },
  {
    name: 'token expired long ago',
    token: mint({}, { issuedAt: hourAgo() - 7200, expiresInSeconds: 3600 }),
    ...fail,
    message: /expired at/,
  },
  {
    name: 'token file missing',
    args: ['--web-identity-token-file', '/nonexistent/token'],
    ...fail,
    message: /cannot read the token file \/nonexistent\/token \(ENOENT/,
  },
  {
    name: 'token file empty',
    env: (job) => ({ GITLAB_AWS_IDENTITY_TOKEN_FILE: join(job.home, 'empty-token') }),
    prepare: async (job) => writeFile(join(job.home, 'empty-token'), '\n'),
    ...fail,
    message: /token file .* is empty/,
  },
  // STS verdicts on the token
  {
    name: 'wrong audience',
    token: mint({ aud: 'https://not-gitlab.example' }),
    ...fail,
    message: /audience "https:\/\/not-gitlab.example"/,
  },
  {
    name: 'unknown signing key',
    token: mint({}, { signWith: 'unknown-key' }),
    ...fail,
    message: /InvalidIdentityToken/,
  },
  {
    name: 'HS256 signature',
    token: mint({}, { signWith: 'hs256' }),
    ...fail,
    message: /InvalidIdentityToken/,
  },
  {
    name: 'unknown issuer',
    token: mint({ iss: 'https://gitlab.unknown.example' }),
    ...fail,
    message: /no IAM OIDC provider for the token's issuer https:\/\/gitlab.unknown.example/,
  },
  {
    name: 'not yet valid',
    token: mint({}, { notBefore: Math.floor(Date.now() / 1000) + 3600 }),
    ...fail,
    message: /InvalidIdentityToken/,
  },
  {
    name: 'expired within skew at STS',
    token: mint({}, { issuedAt: hourAgo() - 3000, expiresInSeconds: 3000 + 3600 - 400 }),
    ...fail,
    message: /expired/,
  },
  // STS verdicts on the role
  {
    name: 'other project',
    token: mint({ project_path: 'evil/project' }),
    ...fail,
    message: /AccessDenied; token sub "project_path:evil\/project:ref_type:branch:ref:main"/,
  },
  {
    name: 'other branch',
    token: mint({ ref: 'feature/x', ref_path: 'refs/heads/feature/x' }),
    ...fail,
    message: /AccessDenied.*ref:feature\/x/,
  },
  {
    name: 'tag instead of branch',
    token: mint({ ref_type: 'tag', ref: 'v1.0.0' }),
    ...fail,
    message: /AccessDenied.*ref_type:tag/,
  },
  { name: 'role does not exist', args: ['-r', 'no-such-role'], ...fail, message: /AccessDenied/ },
  {
    name: 'duration above role maximum',
    args: ['-r', 'one-hour-max', '-d', '7200'],
    ...fail,
    message: /7200 seconds exceeds the maximum session duration/,
  },
  // STS and network failures
  {
    name: 'endpoint unreachable',
    args: ['--endpoint-url', 'http://127.0.0.1:9', '--max-attempts', '2'],
    ...fail,
    message: /failed \(ECONNREFUSED\)/,
  },
  {
    name: 'throttled until attempts run out',
    args: ['--max-attempts', '2'],
    fault: { kind: 'throttle' },
    ...fail,
    message: /throttling.*gave up after 2 attempts/i,
  },
  {
    name: 'STS 503 until attempts run out',
    args: ['--max-attempts', '2'],
    fault: { kind: 'http', status: 503 },
    ...fail,
    message: /HTTP 503/,
  },
  {
    name: 'identity provider unreachable',
    args: ['--max-attempts', '2'],
    fault: { kind: 'idp-communication' },
    ...fail,
    message: /IDPCommunicationError/,
  },
  {
    name: 'signing keys unavailable',
    args: ['--max-attempts', '1'],
    prepare: async () => bed.issuer.setJwksFault('unavailable'),
    ...fail,
    message: /could not fetch the signing keys/,
  },
  {
    name: 'region disabled',
    fault: { kind: 'region-disabled' },
    ...fail,
    message: /not activated in region us-east-1/,
  },
  {
    name: 'request timeout',
    args: ['--timeout', '1', '--max-attempts', '1'],
    fault: { kind: 'delay', ms: 3000 },
    ...fail,
    message: /timed out/,
  },
];

interface FileCase {
  readonly name: string;
  readonly args: readonly string[];
  readonly prepare: (job: Job) => Promise<Record<string, string | undefined>>;
  readonly message: RegExp;
  /** Another file that must stay byte-identical besides the job's AWS files. */
  readonly watched?: (job: Job) => string;
  /** A reason to skip on this machine, decided before the case runs. */
  readonly unavailable?: () => string | undefined;
}

const FULL_DISK = 'full-disk';
/** A 64 KiB tmpfs filled to the last byte: the only honest way to see ENOSPC (needs root). */
async function mountFullDisk(job: Job): Promise<string> {
  const mountPoint = join(job.home, FULL_DISK);
  await mkdir(mountPoint);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', mountPoint]);
  await writeFile(join(mountPoint, 'credentials'), CREDENTIALS_BEFORE, { mode: 0o600 });
  try {
    await writeFile(join(mountPoint, 'filler'), Buffer.alloc(1024 * 1024));
  } catch {
    // ENOSPC is the point: the disk is now full.
  }
  return join(mountPoint, 'credentials');
}

function tmpfsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  try {
    execFileSync(
      'sh',
      ['-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=4k tmpfs "$d" && umount "$d" && rmdir "$d"'],
      {
        stdio: 'ignore',
      },
    );
    return undefined;
  } catch {
    return 'this machine does not allow mounting a tmpfs';
  }
}

const FILE_CASES: FileCase[] = [
  {
    name: 'credentials path is a directory',
    args: ['aws-profile'],
    prepare: async (job) => {
      await rm(job.credentialsFile);
      await mkdir(job.credentialsFile);
      return {};
    },
    message: /is a directory/i,
  },
  {
    name: 'credentials file is a symlink',
    args: ['aws-profile'],
    prepare: async (job) => {
      const real = join(job.home, 'real-credentials');
      await writeFile(real, CREDENTIALS_BEFORE);
      await mkdir(join(job.home, '.aws'), { recursive: true });
      await rm(job.credentialsFile);
      await symlink(real, job.credentialsFile);
      return {};
    },
    message: /symbolic link/i,
  },
  {
    name: 'credentials directory is a file',
    args: ['aws-profile'],
    prepare: async (job) => {
      await writeFile(join(job.home, 'blocker'), 'x');
      return { AWS_SHARED_CREDENTIALS_FILE: join(job.home, 'blocker', 'credentials') };
    },
    message: /not a directory/i,
  },
  {
    name: 'invalid profile name',
    args: ['aws-profile', '--name', 'a]b'],
    prepare: async () => ({}),
    message: /--name: expected a profile name/,
  },
  {
    // Even root cannot create files in sysfs: the unwritable-location case that works without privileges.
    name: 'credentials file not writable',
    args: ['aws-profile'],
    prepare: async () => ({ AWS_SHARED_CREDENTIALS_FILE: '/sys/aws-credentials' }),
    message: /Cannot .* \/sys\/aws-credentials.*permission denied/,
  },
  {
    name: 'credentials file is not valid INI',
    args: ['aws-profile'],
    prepare: async (job) => {
      await writeFile(job.credentialsFile, 'aws_access_key_id = AKIAOUTSIDEANYSECTION\n[default]\nregion\n');
      return {};
    },
    message: /is not a valid INI file: line 1 is a setting before the first \[section\] header/,
  },
  {
    // botocore cannot parse it ("Unable to parse config file"), so adding a profile would only hide that.
    name: 'credentials file starts with a byte order mark',
    args: ['aws-profile'],
    prepare: async (job) => {
      await writeFile(job.credentialsFile, `\uFEFF${CREDENTIALS_BEFORE}`);
      return {};
    },
    message:
      /is not a valid INI file: line 1 is preceded by a byte order mark \(BOM\).*Fix: save the file as UTF-8 without a BOM/,
  },
  {
    name: 'disk full',
    args: ['aws-profile'],
    prepare: async (job) => ({ AWS_SHARED_CREDENTIALS_FILE: await mountFullDisk(job) }),
    watched: (job) => join(job.home, FULL_DISK, 'credentials'),
    unavailable: tmpfsUnavailable,
    message: /no space left on the device/,
  },
  {
    name: 'env --filename is a directory',
    args: ['env', '--filename', '.'],
    prepare: async () => ({}),
    message: /is a directory/i,
  },
  {
    name: 'env --filename under a file',
    args: ['env', '--filename', '/etc/hostname/aws.env'],
    prepare: async () => ({}),
    message: /not a directory/i,
  },
  {
    name: 'env -- command not found',
    args: ['env', '--', 'no-such-command-xyz'],
    prepare: async () => ({}),
    message: /no-such-command-xyz.*command not found/,
  },
];

async function seed(job: Job): Promise<void> {
  await mkdir(join(job.home, '.aws'), { recursive: true, mode: 0o700 });
  await writeFile(job.credentialsFile, CREDENTIALS_BEFORE, { mode: 0o600 });
  await writeFile(job.configFile, CONFIG_BEFORE, { mode: 0o600 });
}

async function snapshot(job: Job): Promise<string> {
  const read = async (path: string) => {
    try {
      const info = await stat(path);
      return info.isFile()
        ? `${(info.mode & 0o777).toString(8)}:${await readFile(path, 'utf8')}`
        : 'not a file';
    } catch {
      return 'absent';
    }
  };
  return `${await read(job.credentialsFile)}|${await read(job.configFile)}`;
}

function assertOneLineError(stderr: string, message: RegExp, secrets: readonly string[]): void {
  const lines = stderr.split('\n').filter((line) => line !== '');
  expect(lines, stderr).toHaveLength(1);
  const [line = ''] = lines;
  expect(line).toMatch(/^(gitlab-aws-credential-helper: |error: )/);
  expect(line).toMatch(message);
  if (line.startsWith('gitlab-aws-credential-helper: ')) expect(line).toMatch(/ Fix: .+\.$/);
  for (const secret of secrets) if (secret.length >= 8) expect(line).not.toContain(secret);
}

describe(`bad input (${CASES.length + FILE_CASES.length} cases)`, () => {
  it.each(CASES)('$name', async (testCase) => {
    const token = await (testCase.token ?? (() => bed.mint()))();
    const job = await createJob(bed, token);
    try {
      await seed(job);
      await testCase.prepare?.(job);
      const env = { ...job.env, ...testCase.env?.(job) };
      const before = await snapshot(job);
      const modes = testCase.allModes === false ? [['process']] : [['process'], ['aws-profile'], ['env']];
      for (const mode of modes) {
        bed.sts.reset();
        if (testCase.fault !== undefined)
          bed.sts.injectFault(testCase.fault, { times: Number.POSITIVE_INFINITY });
        const result = await runCli([...mode, ...(testCase.args ?? [])], env);
        bed.sts.clearFaults();
        expect(result.code, `${mode[0]}: ${result.stderr}`).toBe(testCase.exit);
        expect(result.stdout, mode[0]).toBe('');
        assertOneLineError(result.stderr, testCase.message, [
          token,
          ...bed.sts.issued.map((c) => c.secretAccessKey),
        ]);
        expect(await snapshot(job), mode[0]).toBe(before);
      }
    } finally {
      bed.issuer.setJwksFault('none');
      await job.cleanup();
    }
  });

  it.for(FILE_CASES)('$name', async (testCase, context) => {
    // Not a missing tool: a machine that cannot simulate the state at all; reported as skipped.
    const unavailable = testCase.unavailable?.();
    if (unavailable !== undefined) context.skip(unavailable);
    const token = await bed.mint();
    const job = await createJob(bed, token);
    try {
      await seed(job);
      const env = { ...job.env, ...(await testCase.prepare(job)) };
      const watched = testCase.watched?.(job);
      const read = async () =>
        `${await snapshot(job)}|${watched === undefined ? '' : await readFile(watched, 'utf8')}`;
      const before = await read();
      const result = await runCli(testCase.args, env);
      expect(result.code, result.stderr).not.toBe(0);
      expect(result.stdout).toBe('');
      assertOneLineError(result.stderr, testCase.message, [token]);
      expect(await read()).toBe(before);
    } finally {
      try {
        execFileSync('umount', [join(job.home, FULL_DISK)], { stdio: 'ignore' });
      } catch {
        // Only the disk-full case mounts anything.
      }
      await job.cleanup();
    }
  });
});

describe('profile names the credentials file cannot hold', () => {
  it.each(['#ci', 'a;b', 'two words', '__proto__', 'a]b', 'tab\there'])(
    '--name %j: exit 2 with the settings, before any STS call',
    async (name) => {
      const token = await bed.mint();
      const job = await createJob(bed, token);
      try {
        await seed(job);
        const before = await snapshot(job);
        for (const [args, env] of [
          [['aws-profile', '--name', name], job.env],
          [['aws-profile'], { ...job.env, GITLAB_AWS_PROFILE: name }],
        ] as const) {
          bed.sts.reset();
          const result = await runCli(args, env);
          expect(result.code, result.stderr).toBe(2);
          expect(result.stdout).toBe('');
          assertOneLineError(result.stderr, /(--name|GITLAB_AWS_PROFILE): expected a profile name/, [token]);
          expect(result.stderr).not.toMatch(/unexpected error|bug/);
          expect(bed.sts.exchangeCount()).toBe(0);
          expect(await snapshot(job)).toBe(before);
        }
      } finally {
        await job.cleanup();
      }
    },
  );
});
