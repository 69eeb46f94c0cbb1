/**
 * Secret hygiene of the built CLI: every mode, and every failure we can provoke (bad settings,
 * bad tokens, STS refusals and faults, proxies, files, commands), each run once plain and once
 * with --debug. Everything printed that is not the intended output — stderr always, stdout unless
 * it is the credentials of a successful `process` or `env` — is scanned for the ID tokens, their
 * payload and signature, every issued secret key and session token, the proxy password and the
 * other secret values a case puts in the way, whole or in any 20-character piece.
 */
import { chmod, mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBed, type TestBed } from '../../support/bed.js';
import type { StsFault } from '../../support/sts.js';
import { assertBuilt, createJob, type Job, type RunResult, runCli } from '../harness.js';
import { inBatches, jwtSecretParts, type Leak, SecretScanner } from './support.js';

const PROXY_PASSWORD = 'S3cretProxyPass';
/** In every run's environment; unused by the http:// test-bed endpoint unless a case says so. */
const HTTPS_PROXY = `http://user:${PROXY_PASSWORD}@127.0.0.1:1`;
const OPAQUE_TOKEN = 'opaque-S3cret-token-value-0123456789';
const TWO_PART_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQtdmFsdWUtb25l';
const NOT_JSON_TOKEN =
  'eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24gYnV0IHN0aWxsIHNlY3JldA.c2lnbmF0dXJlLXNlY3JldC12YWx1ZQ';

let bed: TestBed;
/** The valid token most cases use. */
let token: string;
const scanner = new SecretScanner();
const tokens = new Set<string>();

async function minted(...args: Parameters<TestBed['mint']>): Promise<string> {
  const value = await bed.mint(...args);
  tokens.add(value);
  return value;
}

interface Context {
  readonly job: Job;
  /** The token this case runs with. */
  readonly token: string;
  /** Runs the CLI in this case's job (for preparing a cache, say). */
  readonly cli: (args: readonly string[], env?: Record<string, string | undefined>) => Promise<RunResult>;
}

interface Case {
  readonly name: string;
  readonly args: (ctx: Context) => readonly string[];
  readonly env?: (ctx: Context) => Record<string, string | undefined>;
  /** GITLAB_AWS_IDENTITY_TOKEN's value; default the shared valid token. */
  readonly token?: () => Promise<string>;
  readonly prepare?: (ctx: Context) => Promise<void>;
  readonly fault?: StsFault;
  readonly exit: number;
  /** Matched against stderr of the plain run: proves the case reached the path it is about. */
  readonly message?: RegExp;
  /** stdout of the successful run is the credentials: not scanned (but must hold them). */
  readonly intendedStdout?: boolean;
  /** A secret was put where a message would echo it: stderr must show `[REDACTED`. */
  readonly redacted?: boolean;
  /** --debug prints nothing more (Commander rejects the command line before anything runs). */
  readonly noDebugOutput?: boolean;
  /** Other secret values this case puts in the way. */
  readonly secrets?: readonly string[];
}

const ok = { exit: 0 } as const;
const fail = { exit: 1 } as const;
const usage = { exit: 2 } as const;
const hourAgo = (): number => Math.floor(Date.now() / 1000) - 3600;
const noCache =
  (...rest: string[]) =>
  () => ['process', '--no-cache', '--max-attempts', '2', ...rest];

async function credentialsDir(ctx: Context): Promise<string> {
  const dir = join(ctx.job.home, '.aws');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

const CASES: Case[] = [
  // Every mode, successful.
  { name: 'process, cache miss', args: () => ['process'], ...ok, intendedStdout: true },
  {
    name: 'process, cache hit',
    args: () => ['process'],
    prepare: async (ctx) => void (await ctx.cli(['process'])),
    ...ok,
    intendedStdout: true,
  },
  { name: 'process --no-cache', args: () => ['process', '--no-cache'], ...ok, intendedStdout: true },
  {
    name: 'process, token from -j',
    args: () => ['process', '-j', 'MY_TOKEN'],
    env: (ctx) => ({ GITLAB_AWS_IDENTITY_TOKEN: undefined, MY_TOKEN: ctx.token }),
    ...ok,
    intendedStdout: true,
  },
  {
    name: 'process, token from a file',
    args: (ctx) => ['process', '--web-identity-token-file', join(ctx.job.home, 'token')],
    env: () => ({ GITLAB_AWS_IDENTITY_TOKEN: undefined }),
    prepare: async (ctx) => writeFile(join(ctx.job.home, 'token'), `${ctx.token}\n`),
    ...ok,
    intendedStdout: true,
  },
  {
    name: 'process, proxy bypassed by NO_PROXY',
    args: () => ['process', '--no-cache'],
    env: () => ({ HTTP_PROXY: HTTPS_PROXY, NO_PROXY: '127.0.0.1' }),
    ...ok,
    intendedStdout: true,
  },
  {
    name: 'aws-profile into a file with other content',
    args: () => ['aws-profile', '--name', 'ci'],
    prepare: async (ctx) => {
      await credentialsDir(ctx);
      await writeFile(ctx.job.credentialsFile, '# mine\r\n[other]\r\naws_access_key_id = AKIAOTHER\r\n');
    },
    ...ok,
    message: /wrote profile \[ci\]/,
  },
  { name: 'env', args: () => ['env'], ...ok, intendedStdout: true },
  { name: 'env --export', args: () => ['env', '--export'], ...ok, intendedStdout: true },
  { name: 'env --filename', args: () => ['env', '--filename', 'aws.env'], ...ok },
  {
    name: 'env -- CMD, exit 3',
    args: () => ['env', '--', 'sh', '-c', 'echo child-ran; exit 3'],
    exit: 3,
  },
  {
    name: 'cache clear',
    args: () => ['cache', 'clear'],
    prepare: async (ctx) => void (await ctx.cli(['process'])),
    ...ok,
    message: /removed 1 cached credential set/,
  },
  {
    name: 'unusable cache directory',
    args: () => ['process'],
    env: (ctx) => ({ XDG_CACHE_HOME: join(ctx.job.home, 'not-a-dir') }),
    prepare: async (ctx) => writeFile(join(ctx.job.home, 'not-a-dir'), 'x'),
    ...ok,
    intendedStdout: true,
  },
  {
    name: 'corrupt cache entry',
    args: () => ['process'],
    prepare: async (ctx) => {
      await ctx.cli(['process']);
      const dir = join(ctx.job.home, '.cache', 'gitlab-aws-credential-helper');
      for (const name of await readdir(dir)) {
        if ((await stat(join(dir, name))).isFile()) await writeFile(join(dir, name), 'garbage');
      }
    },
    ...ok,
    intendedStdout: true,
  },

  // Settings, some with a secret where the message would quote the value.
  {
    name: 'no account',
    args: () => ['process'],
    env: () => ({ GITLAB_AWS_ACCOUNT_ID: undefined }),
    ...usage,
    message: /no AWS account/,
  },
  { name: 'duration below 900', args: () => ['process', '-d', '899'], ...usage, message: /899/ },
  { name: '-j <the token>', args: (ctx) => ['process', '-j', ctx.token], ...usage, redacted: true },
  {
    name: '--web-identity-token-name=<the token>',
    args: (ctx) => ['env', `--web-identity-token-name=${ctx.token}`],
    ...usage,
    redacted: true,
  },
  { name: '-n <the token>', args: (ctx) => ['process', '-n', ctx.token], ...usage, redacted: true },
  { name: '-A <the token>', args: (ctx) => ['process', '-A', ctx.token], ...usage, redacted: true },
  {
    name: '--region <the token>',
    args: (ctx) => ['aws-profile', '--region', ctx.token],
    ...usage,
    redacted: true,
  },
  { name: '-r <the token>', args: (ctx) => ['env', '-r', ctx.token], ...usage, redacted: true },
  {
    name: 'GITLAB_AWS_ROLE_SESSION_NAME=<the token>',
    args: () => ['process'],
    env: (ctx) => ({ GITLAB_AWS_ROLE_SESSION_NAME: ctx.token }),
    ...usage,
    redacted: true,
  },
  {
    name: '--endpoint-url <the token>',
    args: (ctx) => ['process', '--endpoint-url', ctx.token],
    ...usage,
    redacted: true,
  },
  {
    name: 'several problems, one of them the token',
    args: (ctx) => ['process', '-d', ctx.token, '-A', 'x'],
    ...usage,
    message: /2 problems/,
    redacted: true,
  },
  {
    name: 'cache switch not boolean',
    args: () => ['process'],
    env: () => ({ GITLAB_AWS_CACHE: 'maybe' }),
    ...usage,
    message: /GITLAB_AWS_CACHE/,
  },
  {
    name: 'unknown option',
    args: () => ['process', '--acount', '123456789012'],
    ...usage,
    message: /unknown option/,
    noDebugOutput: true,
  },

  // Tokens.
  {
    name: 'token variable missing',
    args: () => ['process'],
    env: () => ({ GITLAB_AWS_IDENTITY_TOKEN: undefined }),
    ...fail,
  },
  { name: 'token empty', args: () => ['env'], env: () => ({ GITLAB_AWS_IDENTITY_TOKEN: '' }), ...fail },
  {
    name: 'token is an opaque secret, not a JWT',
    args: () => ['process'],
    token: async () => OPAQUE_TOKEN,
    ...fail,
    message: /does not hold a JWT/,
    secrets: [OPAQUE_TOKEN],
  },
  {
    name: 'token with two parts',
    args: () => ['aws-profile'],
    token: async () => TWO_PART_TOKEN,
    ...fail,
    message: /2 dot-separated parts/,
    secrets: jwtSecretParts(TWO_PART_TOKEN),
  },
  {
    name: 'token payload not JSON',
    args: () => ['env', '--', 'true'],
    token: async () => NOT_JSON_TOKEN,
    // The helper's own failure in `env -- CMD` exits 125, as env(1) does, never the command's codes.
    exit: 125,
    message: /not base64url-encoded JSON/,
    secrets: jwtSecretParts(NOT_JSON_TOKEN),
  },
  {
    name: 'token expired',
    args: () => ['process'],
    token: () => minted({}, { issuedAt: hourAgo() - 7200, expiresInSeconds: 3600 }),
    ...fail,
    message: /expired at/,
  },
  {
    name: 'token with spaces and a newline around it, refused by STS',
    args: () => ['process', '--no-cache'],
    token: async () => ` ${await minted({ sub: 'project_path:evil/fork:ref_type:branch:ref:main' })}\n`,
    ...fail,
    message: /AccessDenied/,
  },
  {
    name: 'token file missing',
    args: () => ['process', '--web-identity-token-file', '/nonexistent/token'],
    ...fail,
    message: /ENOENT/,
  },
  {
    name: 'token file with an opaque secret',
    args: (ctx) => ['process', '--web-identity-token-file', join(ctx.job.home, 'token')],
    env: () => ({ GITLAB_AWS_IDENTITY_TOKEN: undefined }),
    prepare: async (ctx) => writeFile(join(ctx.job.home, 'token'), `${OPAQUE_TOKEN}\n`),
    ...fail,
    message: /does not hold a JWT/,
    secrets: [OPAQUE_TOKEN],
  },
  {
    name: 'token file refused by STS',
    args: (ctx) => ['process', '--no-cache', '--web-identity-token-file', join(ctx.job.home, 'token')],
    env: () => ({ GITLAB_AWS_IDENTITY_TOKEN: undefined }),
    token: () => minted({ sub: 'project_path:evil/fork:ref_type:branch:ref:main' }),
    prepare: async (ctx) => writeFile(join(ctx.job.home, 'token'), ctx.token),
    ...fail,
    message: /AccessDenied/,
  },

  // STS refusals.
  {
    name: 'AccessDenied',
    args: noCache(),
    token: () => minted({ sub: 'project_path:demo-group/demo-project:ref_type:branch:ref:feature' }),
    ...fail,
    message: /AccessDenied/,
  },
  {
    name: 'wrong audience',
    args: noCache(),
    token: () => minted({ aud: 'https://elsewhere.example.com' }),
    ...fail,
    message: /audience/,
  },
  {
    name: 'unknown signing key',
    args: noCache(),
    token: () => minted({}, { signWith: 'unknown-key' }),
    ...fail,
    message: /InvalidIdentityToken/,
  },
  {
    name: 'duration above the role maximum',
    args: noCache('-r', 'one-hour-max', '-d', '7200'),
    ...fail,
    message: /maximum session duration/,
  },

  // STS faults (run one at a time: a fault applies to whichever request comes next).
  { name: 'throttled', args: noCache(), fault: { kind: 'throttle' }, ...fail, message: /throttl/i },
  { name: 'HTTP 500', args: noCache(), fault: { kind: 'http', status: 500 }, ...fail, message: /500/ },
  { name: 'HTTP 503', args: noCache(), fault: { kind: 'http', status: 503 }, ...fail, message: /503/ },
  { name: 'connection reset', args: noCache(), fault: { kind: 'reset' }, ...fail },
  { name: 'IDPCommunicationError', args: noCache(), fault: { kind: 'idp-communication' }, ...fail },
  { name: 'verification key', args: noCache(), fault: { kind: 'verification-key' }, ...fail },
  { name: 'region disabled', args: noCache(), fault: { kind: 'region-disabled' }, ...fail },
  { name: 'packed policy', args: noCache(), fault: { kind: 'packed-policy' }, ...fail },
  {
    name: 'STS too slow',
    args: () => ['process', '--no-cache', '--max-attempts', '1', '--timeout', '1'],
    fault: { kind: 'delay', ms: 3000 },
    ...fail,
    message: /time|1 s/i,
  },

  // Proxies and endpoints with a password.
  {
    name: 'proxy refuses connections',
    args: noCache(),
    env: () => ({ HTTP_PROXY: HTTPS_PROXY }),
    ...fail,
    message: /proxy http:\/\/user:\*\*\*\*@127\.0\.0\.1:1/,
  },
  {
    name: 'proxy with only a user name (a token)',
    args: noCache(),
    env: () => ({ http_proxy: `http://${PROXY_PASSWORD}@127.0.0.1:1` }),
    ...fail,
    message: /\*\*\*\*@127\.0\.0\.1:1/,
  },
  {
    name: 'proxy password with encoded characters',
    args: noCache(),
    env: () => ({ ALL_PROXY: `http://user:${PROXY_PASSWORD}%40%2F@127.0.0.1:1` }),
    ...fail,
    message: /ALL_PROXY/,
  },
  {
    name: 'proxy URL that does not parse',
    args: noCache(),
    env: () => ({ HTTP_PROXY: `http://user:${PROXY_PASSWORD}@127.0.0.1:99999` }),
    ...usage,
    message: /not a valid proxy URL/,
  },
  {
    name: 'proxy with an unsupported scheme',
    args: noCache(),
    env: () => ({ HTTP_PROXY: `socks5://user:${PROXY_PASSWORD}@127.0.0.1:1` }),
    ...usage,
    message: /socks5/,
  },
  {
    name: 'endpoint URL with a password',
    args: () => ['process', '--no-cache', '--max-attempts', '1'],
    env: () => ({ AWS_ENDPOINT_URL_STS: `http://user:${PROXY_PASSWORD}@127.0.0.1:1/` }),
    ...fail,
    message: /user:\*\*\*\*@127\.0\.0\.1:1/,
  },

  // Files and commands, after the credentials were obtained.
  {
    name: 'credentials file is a symbolic link',
    args: () => ['aws-profile'],
    prepare: async (ctx) => {
      const dir = await credentialsDir(ctx);
      await writeFile(join(dir, 'real'), '[x]\n');
      await symlink(join(dir, 'real'), ctx.job.credentialsFile);
    },
    ...fail,
    message: /symbolic link/,
  },
  {
    name: 'credentials file is a directory',
    args: () => ['aws-profile'],
    prepare: async (ctx) => void (await mkdir(ctx.job.credentialsFile, { recursive: true })),
    ...fail,
    message: /is a directory/,
  },
  {
    name: 'credentials file under a regular file',
    args: () => ['aws-profile'],
    env: (ctx) => ({ AWS_SHARED_CREDENTIALS_FILE: join(ctx.job.home, 'file', 'credentials') }),
    prepare: async (ctx) => writeFile(join(ctx.job.home, 'file'), 'x'),
    ...fail,
    message: /not a directory/,
  },
  {
    name: 'credentials file read-only',
    args: () => ['aws-profile'],
    prepare: async (ctx) => {
      await credentialsDir(ctx);
      await writeFile(ctx.job.credentialsFile, '[x]\n', { mode: 0o400 });
      await chmod(ctx.job.credentialsFile, 0o400);
    },
    ...fail,
    message: /read-only/,
  },
  {
    name: 'credentials file not UTF-8',
    args: () => ['aws-profile'],
    prepare: async (ctx) => {
      await credentialsDir(ctx);
      await writeFile(ctx.job.credentialsFile, Buffer.from([0x5b, 0x78, 0x5d, 0x0a, 0xff, 0xfe, 0x0a]));
    },
    ...fail,
    message: /UTF-8/,
  },
  {
    name: 'env --filename is a symbolic link',
    args: (ctx) => ['env', '--filename', join(ctx.job.home, 'aws.env')],
    prepare: async (ctx) => {
      await writeFile(join(ctx.job.home, 'elsewhere'), 'keep');
      await symlink(join(ctx.job.home, 'elsewhere'), join(ctx.job.home, 'aws.env'));
    },
    ...fail,
    message: /symbolic link/,
  },
  {
    name: 'env --filename is a directory',
    args: (ctx) => ['env', '--export', '--filename', ctx.job.home],
    ...fail,
    message: /is a directory/,
  },
  {
    name: 'env --filename under a regular file',
    args: (ctx) => ['env', '--filename', join(ctx.job.home, 'file', 'aws.env')],
    prepare: async (ctx) => writeFile(join(ctx.job.home, 'file'), 'x'),
    ...fail,
    message: /not a directory/,
  },
  {
    name: 'env -- command not found',
    args: () => ['env', '--', 'no-such-command-here'],
    exit: 127,
    message: /command not found/,
  },
  {
    name: 'env -- command not executable',
    args: (ctx) => ['env', '--', join(ctx.job.home, 'script.sh')],
    prepare: async (ctx) => writeFile(join(ctx.job.home, 'script.sh'), '#!/bin/sh\n', { mode: 0o644 }),
    exit: 126,
  },
];

interface Outcome {
  readonly name: string;
  readonly debug: boolean;
  readonly result: RunResult;
  readonly intended: boolean;
}

const outcomes: Outcome[] = [];

async function runCase(testCase: Case, debug: boolean): Promise<Outcome> {
  const caseToken = testCase.token === undefined ? token : await testCase.token();
  const job = await createJob(bed, caseToken, { HTTPS_PROXY });
  const cli = (args: readonly string[], env: Record<string, string | undefined> = {}) =>
    runCli(args, { ...job.env, ...env }, { cwd: job.home });
  const ctx: Context = { job, token: caseToken, cli };
  try {
    await testCase.prepare?.(ctx);
    const env = { ...job.env, ...testCase.env?.(ctx), ...(debug ? { GITLAB_AWS_DEBUG: 'true' } : {}) };
    const args = [...(debug ? ['--debug'] : []), ...testCase.args(ctx)];
    if (testCase.fault !== undefined)
      bed.sts.injectFault(testCase.fault, { times: Number.POSITIVE_INFINITY });
    try {
      const result = await runCli(args, env, { cwd: job.home });
      return {
        name: testCase.name,
        debug,
        result,
        intended: testCase.intendedStdout === true && result.code === 0,
      };
    } finally {
      if (testCase.fault !== undefined) bed.sts.clearFaults();
    }
  } finally {
    await job.cleanup();
  }
}

beforeAll(async () => {
  assertBuilt();
  bed = await startTestBed();
  bed.addDemoRole('one-hour-max', 3600);
  token = await minted();
  const runs = CASES.flatMap((testCase) => [
    { testCase, debug: false },
    { testCase, debug: true },
  ]);
  // Faults apply to whichever exchange comes next, so those cases run alone, after the others.
  outcomes.push(
    ...(await inBatches(
      runs.filter(({ testCase }) => testCase.fault === undefined),
      4,
      ({ testCase, debug }) => runCase(testCase, debug),
    )),
  );
  for (const { testCase, debug } of runs.filter(({ testCase }) => testCase.fault !== undefined)) {
    outcomes.push(await runCase(testCase, debug));
  }

  for (const value of tokens) for (const part of jwtSecretParts(value)) scanner.add('ID token', part);
  for (const testCase of CASES)
    for (const secret of testCase.secrets ?? []) scanner.add(testCase.name, secret);
  for (const issued of bed.sts.issued) {
    scanner.add('secret access key', issued.secretAccessKey);
    scanner.add('session token', issued.sessionToken);
  }
  scanner.add('proxy password', PROXY_PASSWORD);
  // Over a hundred helper runs: a generous bound for a busy machine.
}, 900_000);

afterAll(async () => {
  await bed?.stop();
});

function outcomesOf(testCase: Case): { plain: Outcome; debug: Outcome } {
  const plain = outcomes.find((o) => o.name === testCase.name && !o.debug);
  const debug = outcomes.find((o) => o.name === testCase.name && o.debug);
  if (plain === undefined || debug === undefined) throw new Error(`no runs of ${testCase.name}`);
  return { plain, debug };
}

describe('secret hygiene', () => {
  it('never prints a secret outside the intended output, in any mode or failure, with or without --debug', () => {
    const leaks: Leak[] = [];
    for (const outcome of outcomes) {
      const where = `${outcome.name}${outcome.debug ? ' --debug' : ''}`;
      leaks.push(...scanner.scan(`${where}: stderr`, outcome.result.stderr));
      if (!outcome.intended) leaks.push(...scanner.scan(`${where}: stdout`, outcome.result.stdout));
    }
    expect(leaks).toEqual([]);
    expect(outcomes).toHaveLength(CASES.length * 2);
    console.info(
      `secret hygiene: ${outcomes.length} runs (${CASES.length} cases x plain/--debug), ` +
        `${scanner.textsScanned} outputs, ${scanner.bytesScanned} bytes scanned for ${tokens.size} tokens, ` +
        `${bed.sts.issued.length} issued credential sets and the proxy password; ${leaks.length} leaks`,
    );
  });

  it('the scanner finds the secrets where they are meant to be (intended stdout)', () => {
    const intended = outcomes.filter((o) => o.intended);
    expect(intended.length).toBeGreaterThanOrEqual(10);
    for (const outcome of intended) {
      const found = new Set(scanner.scan(outcome.name, outcome.result.stdout).map((leak) => leak.secret));
      expect([...found].sort(), outcome.name).toEqual(['secret access key', 'session token']);
    }
  });

  for (const testCase of CASES) {
    it(`${testCase.name}: exits ${testCase.exit}${testCase.message === undefined ? '' : ' on the path it is about'}`, () => {
      const { plain, debug } = outcomesOf(testCase);
      for (const outcome of [plain, debug]) {
        expect(outcome.result.code, `${outcome.debug ? '--debug ' : ''}${outcome.result.stderr}`).toBe(
          testCase.exit,
        );
      }
      if (testCase.message !== undefined) expect(plain.result.stderr).toMatch(testCase.message);
      if (testCase.exit !== 0 && testCase.exit !== 3) {
        // One line on stderr, nothing on stdout.
        expect(plain.result.stderr.trimEnd().split('\n')).toHaveLength(1);
        expect(plain.result.stdout).toBe('');
      }
      if (testCase.redacted === true) {
        expect(plain.result.stderr).toContain('[REDACTED');
        expect(debug.result.stderr).toContain('[REDACTED');
      }
      if (testCase.noDebugOutput !== true) {
        // --debug says more, redacted: its steps, or the stack of the failure.
        expect(debug.result.stderr.length).toBeGreaterThan(plain.result.stderr.length);
        expect(debug.result.stderr).toMatch(/\[debug\] |\n {4}at /);
      }
    });
  }
});

/** Runs the CLI once per argv in a fresh job and returns the leaks of the shared token on stdout and stderr. */
async function leaksOf(argvs: ReadonlyArray<readonly string[]>): Promise<{ leaks: Leak[]; codes: number[] }> {
  const job = await createJob(bed, token);
  try {
    const local = new SecretScanner();
    for (const part of jwtSecretParts(token)) local.add('ID token', part);
    const leaks: Leak[] = [];
    const codes: number[] = [];
    for (const args of argvs) {
      const result = await runCli(args, job.env, { cwd: job.home });
      codes.push(result.code ?? -1);
      leaks.push(...local.scan(args[0] ?? '', `${result.stdout}${result.stderr}`));
    }
    return { leaks, codes };
  } finally {
    await job.cleanup();
  }
}

describe('tokens given in the wrong place', () => {
  // Commander prints usage errors itself, echoing what it did not understand.
  it('Commander usage errors do not echo a token given as an unknown option or as the command', async () => {
    const { leaks, codes } = await leaksOf([
      ['process', `--web-identity-token=${token}`],
      [token],
      ['env', `--token=${token}`],
    ]);
    expect(codes).toEqual([2, 2, 2]);
    expect(leaks).toEqual([]);
  });

  // A token given as the profile name must become neither a section of the file nor part of a message.
  it('aws-profile --name <the token> neither writes nor prints the token', async () => {
    const { leaks, codes } = await leaksOf([['aws-profile', '--name', token]]);
    expect(codes).toEqual([2]);
    expect(leaks).toEqual([]);
  });
});
