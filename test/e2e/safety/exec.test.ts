/**
 * `env -- CMD ARGS` through the built CLI: the command's exit code and signal death come back as
 * ours, signals we receive reach it, its three streams are its own, its argv is exactly what was
 * given, and its environment holds the credentials but not the ID token nor what would shadow them.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBed, type TestBed } from '../../support/bed.js';
import { assertBuilt, createJob, type Job, NODE, runCli } from '../harness.js';
import { inBatches, jwtSecretParts, startCli } from './support.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const SIGNALS = join(FIXTURES, 'signals.mjs');
const ECHO_LINES = join(FIXTURES, 'echo-lines.mjs');
const INSPECT = join(FIXTURES, 'inspect.mjs');

/**
 * All 256 exit codes take about 16 s on two cores (one CLI start each); by default a sample that
 * holds every boundary. GITLAB_AWS_SAFETY_ALL_EXIT_CODES=1 runs all of them.
 */
const ALL_EXIT_CODES = process.env.GITLAB_AWS_SAFETY_ALL_EXIT_CODES === '1';
const EXIT_CODES = ALL_EXIT_CODES
  ? Array.from({ length: 256 }, (_, code) => code)
  : [
      ...new Set([
        ...Array.from({ length: 11 }, (_, code) => code),
        ...Array.from({ length: 16 }, (_, i) => i * 16 + 7),
        64,
        100,
        125,
        126,
        127,
        128,
        129,
        130,
        137,
        143,
        200,
        254,
        255,
      ]),
    ].sort((a, b) => a - b);

let bed: TestBed;
let token: string;
let job: Job;

beforeAll(async () => {
  assertBuilt();
  bed = await startTestBed();
  token = await bed.mint();
  job = await createJob(bed, token);
  // One `process` run first: the token and the test bed work before anything below is judged.
  const warm = await runCli(['process'], job.env);
  expect(warm.code, warm.stderr).toBe(0);
});
afterAll(async () => {
  await job?.cleanup();
  await bed?.stop();
});

describe('exit codes', () => {
  it(`passes ${ALL_EXIT_CODES ? 'every exit code 0..255' : `${EXIT_CODES.length} exit codes from 0 to 255`} through`, async () => {
    const results = await inBatches(EXIT_CODES, 6, async (code) => {
      const result = await runCli(['env', '--', 'sh', '-c', `exit ${code}`], job.env);
      return { code, got: result.code, stderr: result.stderr };
    });
    expect(results.filter((r) => r.got !== r.code || r.stderr !== '')).toEqual([]);
    // `env` hands every run a new set (plus the one `process` run that filled the cache).
    expect(bed.sts.exchangeCount()).toBe(results.length + 1);
    console.info(`env --: ${results.length} exit codes passed through`);
  });

  it('reports death by a signal as 128 + its number', async () => {
    const signals = [
      'SIGHUP',
      'SIGINT',
      'SIGQUIT',
      'SIGKILL',
      'SIGUSR1',
      'SIGSEGV',
      'SIGPIPE',
      'SIGTERM',
    ] as const;
    const results = await inBatches(signals, 4, async (signal) => {
      const result = await runCli(['env', '--', 'sh', '-c', `kill -${signal.slice(3)} $$`], job.env);
      return { signal, code: result.code, stderr: result.stderr };
    });
    expect(results).toEqual(
      signals.map((signal) => ({ signal, code: 128 + constants.signals[signal], stderr: '' })),
    );
    // The four the brief names, spelled out.
    expect(results.find((r) => r.signal === 'SIGTERM')?.code).toBe(143);
    expect(results.find((r) => r.signal === 'SIGKILL')?.code).toBe(137);
    expect(results.find((r) => r.signal === 'SIGINT')?.code).toBe(130);
    expect(results.find((r) => r.signal === 'SIGHUP')?.code).toBe(129);
  });
});

describe('signals', () => {
  for (const [signal, childCode] of [
    ['SIGINT', 40],
    ['SIGTERM', 41],
    ['SIGHUP', 42],
  ] as const) {
    it(`forwards ${signal} to the command and exits with the code the command chose`, async () => {
      const cli = startCli(['env', '--', NODE, SIGNALS], job.env);
      await cli.waitFor('ready ');
      process.kill(cli.pid, signal);
      const { code, signal: died } = await cli.exited;
      const stdout = cli.stdout().toString('utf8');
      expect(stdout).toMatch(new RegExp(`^ready \\d+\\ngot ${signal}\\n$`));
      expect(died).toBeNull();
      expect(code).toBe(childCode);
      expect(cli.stderr().toString('utf8')).toBe('');
    });
  }

  it('a signal to the whole process group (Ctrl-C, a runner stopping the job) reaches the command', async () => {
    // The command shares our process group, so it gets such a signal directly and again from us:
    // standard signals do not queue, so it sees one or two. Measured here, reported, not hidden.
    const seen: number[] = [];
    for (let trial = 0; trial < 4; trial++) {
      const cli = startCli(['env', '--', NODE, SIGNALS], job.env, { detached: true });
      await cli.waitFor('ready ');
      process.kill(-cli.pid, 'SIGINT');
      const { code } = await cli.exited;
      expect(code).toBe(40);
      seen.push(cli.stdout().toString('utf8').split('got SIGINT\n').length - 1);
    }
    expect(seen.every((count) => count === 1 || count === 2)).toBe(true);
    console.info(`SIGINT to the process group: the command saw it ${seen.join(', ')} times`);
  });

  it('forwards a signal to a command that does not handle it, which then dies of it', async () => {
    const cli = startCli(['env', '--', 'sh', '-c', 'echo ready; exec sleep 10'], job.env);
    await cli.waitFor('ready');
    // Give sh a moment to become sleep.
    await new Promise((done) => setTimeout(done, 100));
    process.kill(cli.pid, 'SIGTERM');
    const { code, signal } = await cli.exited;
    expect(signal).toBeNull();
    expect(code).toBe(143);
  });

  it('exits as soon as the command does (nothing of the STS call keeps it alive)', async () => {
    const started = Date.now();
    const result = await runCli(['env', '--no-cache', '--', 'true'], job.env);
    expect(result.code, result.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    const cli = startCli(['env', '--no-cache', '--', 'sh', '-c', 'echo done'], job.env);
    await cli.waitFor('done');
    const seen = Date.now();
    const { code, at } = await cli.exited;
    expect(code).toBe(0);
    expect(at - seen).toBeLessThan(1500);
  });
});

describe('streams', () => {
  it('passes stdin, stdout and stderr through unbuffered: a line goes in, its answers come back at once', async () => {
    const cli = startCli(['env', '--', NODE, ECHO_LINES], job.env);
    for (let i = 0; i < 5; i++) {
      cli.child.stdin.write(`ping ${i} ü\n`);
      // The next line is sent only after both answers arrived: nothing waits for a buffer to fill.
      await Promise.all([cli.waitFor(`out:ping ${i} ü\n`), cli.waitFor(`err:ping ${i} ü\n`, 'stderr')]);
    }
    cli.child.stdin.end();
    const { code } = await cli.exited;
    expect(code).toBe(0);
    const lines = Array.from({ length: 5 }, (_, i) => `ping ${i} ü\n`);
    expect(cli.stdout().toString('utf8')).toBe(lines.map((line) => `out:${line}`).join(''));
    expect(cli.stderr().toString('utf8')).toBe(lines.map((line) => `err:${line}`).join(''));
  });

  it('passes 4 MiB of binary data through `env -- cat` byte for byte', async () => {
    const data = randomBytes(4 * 1024 * 1024);
    const cli = startCli(['env', '--', 'cat'], job.env);
    cli.child.stdin.end(data);
    const { code } = await cli.exited;
    expect(code).toBe(0);
    expect(cli.stdout().equals(data)).toBe(true);
    expect(cli.stderr().length).toBe(0);
  });
});

describe('argv', () => {
  const ARGS = [
    'two words',
    '',
    "it's",
    '"double"',
    '--flag',
    '--debug',
    '-A',
    '123',
    '--',
    '--no-cache',
    '--help',
    '-v',
    'ünïcødé ✓ 🚀 日本',
    'line\nbreak',
    'tab\there',
    '$HOME',
    '`date`',
    '*',
    '\\',
    ' leading and trailing ',
    'a=b',
    '-',
  ];

  async function argvOf(args: readonly string[]): Promise<string[]> {
    const result = await runCli(args, job.env);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { argv: string[] }).argv;
  }

  it('hands the arguments after -- to the command verbatim', async () => {
    expect(await argvOf(['env', '--', NODE, INSPECT, ...ARGS])).toEqual(ARGS);
  });

  it('also without --, and with our own flags before the command', async () => {
    expect(await argvOf(['env', '--no-cache', NODE, INSPECT, ...ARGS])).toEqual(ARGS);
    expect(await argvOf(['--region', 'us-east-1', 'env', '--', NODE, INSPECT, '--region', 'x'])).toEqual([
      '--region',
      'x',
    ]);
  });
});

describe('environment', () => {
  interface Inspected {
    argv: string[];
    environ: string[];
    cmdline: string[];
    parentCmdline: string[];
  }

  async function inspect(
    env: Record<string, string | undefined>,
    args: readonly string[] = [],
  ): Promise<{ seen: Inspected; vars: Map<string, string> }> {
    const result = await runCli(['env', ...args, '--', NODE, INSPECT], env);
    expect(result.code, result.stderr).toBe(0);
    const seen = JSON.parse(result.stdout) as Inspected;
    const vars = new Map(
      seen.environ.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    );
    return { seen, vars };
  }

  function expectNoToken(seen: Inspected, secret: string): void {
    const everything = [...seen.environ, ...seen.cmdline, ...seen.parentCmdline, ...seen.argv].join('\n');
    for (const part of jwtSecretParts(secret)) expect(everything.includes(part)).toBe(false);
  }

  it('holds the credentials, not the ID token, and none of AWS_PROFILE, AWS_DEFAULT_PROFILE, AWS_SECURITY_TOKEN', async () => {
    const { seen, vars } = await inspect({
      ...job.env,
      AWS_PROFILE: 'stale-profile',
      AWS_DEFAULT_PROFILE: 'stale-default',
      AWS_SECURITY_TOKEN: 'stale-legacy-token',
      AWS_ACCESS_KEY_ID: 'AKIASTATICSTATICSTAT',
      AWS_SECRET_ACCESS_KEY: 'static-secret',
      AWS_SESSION_TOKEN: 'stale-session',
      AWS_CREDENTIAL_EXPIRATION: '2000-01-01T00:00:00Z',
      UNRELATED: 'kept as it is',
    });
    expectNoToken(seen, token);
    const issued = bed.sts.issued.find((set) => set.accessKeyId === vars.get('AWS_ACCESS_KEY_ID'));
    expect(issued).toBeDefined();
    expect(vars.get('AWS_SECRET_ACCESS_KEY')).toBe(issued?.secretAccessKey);
    expect(vars.get('AWS_SESSION_TOKEN')).toBe(issued?.sessionToken);
    expect(vars.get('AWS_CREDENTIAL_EXPIRATION')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    for (const name of [
      'GITLAB_AWS_IDENTITY_TOKEN',
      'AWS_PROFILE',
      'AWS_DEFAULT_PROFILE',
      'AWS_SECURITY_TOKEN',
    ]) {
      expect(vars.has(name), name).toBe(false);
    }
    expect(vars.get('UNRELATED')).toBe('kept as it is');
    expect(vars.get('AWS_REGION')).toBe('us-east-1');
    expect(vars.get('GITLAB_AWS_ACCOUNT_ID')).toBe(bed.accountId);
  });

  it('removes the variable named by -j, and keeps a token read from a file off the command line', async () => {
    const named = await inspect({ ...job.env, GITLAB_AWS_IDENTITY_TOKEN: undefined, MY_AWS_TOKEN: token }, [
      '-j',
      'MY_AWS_TOKEN',
    ]);
    expectNoToken(named.seen, token);
    expect(named.vars.has('MY_AWS_TOKEN')).toBe(false);

    const file = join(job.home, 'token.jwt');
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    const fromFile = await inspect({ ...job.env, GITLAB_AWS_IDENTITY_TOKEN: undefined }, [
      '--web-identity-token-file',
      file,
    ]);
    expectNoToken(fromFile.seen, token);
    expect(fromFile.vars.get('AWS_ACCESS_KEY_ID')).toMatch(/^ASIA/);
  });
});
