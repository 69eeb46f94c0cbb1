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
import { assertBuilt, createJob, helperCommand, type Job, NODE, run, runCli } from '../harness.js';
import { inBatches, jwtSecretParts, startCli } from './support.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const SIGNALS = join(FIXTURES, 'signals.mjs');
const ECHO_LINES = join(FIXTURES, 'echo-lines.mjs');
const INSPECT = join(FIXTURES, 'inspect.mjs');
const CHILD_CODES = { SIGINT: 40, SIGTERM: 41, SIGHUP: 42 } as const;

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
  // The harness's generous STS time limit keeps a slow answer from becoming a retry, which the
  // exchange counts below would see.
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
  }, 180_000);

  it('dies of the signal that killed the command, as if it had run the command itself', async () => {
    const fatal = [
      'SIGHUP',
      'SIGINT',
      'SIGKILL',
      'SIGUSR1',
      'SIGUSR2',
      'SIGPIPE',
      'SIGALRM',
      'SIGTERM',
    ] as const;
    const results = await inBatches(fatal, 4, async (signal) => {
      const result = await runCli(['env', '--', 'sh', '-c', `kill -${signal.slice(3)} $$`], job.env);
      return { signal, died: result.signal, code: result.code, stderr: result.stderr };
    });
    expect(results).toEqual(fatal.map((signal) => ({ signal, died: signal, code: null, stderr: '' })));
    // What a shell makes of it: 128 + n, and bash's own report of the signal.
    const quoted = helperCommand(['env', '--', 'sh', '-c', 'kill -TERM $$'])
      .flat()
      .map((word) => `'${word.replaceAll("'", `'\\''`)}'`)
      .join(' ');
    const shell = await run('bash', ['-c', `${quoted}; echo "status $?"`], job.env);
    expect(shell.stdout).toBe('status 143\n');
    expect(shell.stderr).toMatch(/Terminated/);
  });

  it('exits 128 + n for a signal that dumps core, instead of dumping its own memory', async () => {
    const dumping = ['SIGQUIT', 'SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGFPE'] as const;
    const results = await inBatches(dumping, 4, async (signal) => {
      const result = await runCli(['env', '--', 'sh', '-c', `kill -${signal.slice(3)} $$`], job.env, {
        cwd: job.home,
      });
      return { signal, died: result.signal, code: result.code, stderr: result.stderr };
    });
    expect(results).toEqual(
      dumping.map((signal) => ({ signal, died: null, code: 128 + constants.signals[signal], stderr: '' })),
    );
  });

  it('exits 125 when it fails itself, so that its failure is not the command’s exit 1 or 2', async () => {
    const cases: Array<[string, readonly string[], Record<string, string | undefined>]> = [
      ['no token', ['env', '--', 'true'], { GITLAB_AWS_IDENTITY_TOKEN: undefined }],
      ['a bad setting', ['env', '-d', '12', '--', 'true'], {}],
      ['a bad variable', ['env', '--', 'true'], { GITLAB_AWS_DURATION_SECONDS: 'long' }],
      ['--export with a command', ['env', '--export', '--', 'true'], {}],
      ['STS refusing', ['env', '--role-name', 'no-such-role', '--', 'true'], {}],
    ];
    for (const [name, args, extra] of cases) {
      const result = await runCli(args, { ...job.env, ...extra });
      expect([name, result.code, result.stdout]).toEqual([name, 125, '']);
      expect(result.stderr).toMatch(/^gitlab-aws-credential-helper: [^\n]+\n$/);
    }
    // The command's own 1 and 2 stay its own, and 126/127 keep their meaning.
    expect((await runCli(['env', '--', 'sh', '-c', 'exit 2'], job.env)).code).toBe(2);
    expect((await runCli(['env', '--', 'no-such-command-anywhere'], job.env)).code).toBe(127);
  });
});

describe('signals', () => {
  // `detached`: the helper leads a new session, without a controlling terminal, as in a CI job,
  // whatever terminal the tests themselves run in.
  for (const [signal, childCode] of [
    ['SIGINT', 40],
    ['SIGTERM', 41],
    ['SIGHUP', 42],
    ['SIGQUIT', 43],
    ['SIGUSR1', 44],
    ['SIGUSR2', 45],
  ] as const) {
    it(`forwards ${signal} to the command and exits with the code the command chose`, async () => {
      const cli = startCli(['env', '--', NODE, SIGNALS], job.env, { detached: true });
      await cli.waitFor('ready ');
      process.kill(cli.pid, signal);
      const { code, signal: died } = await cli.exited;
      const stdout = cli.stdout().toString('utf8');
      expect(stdout).toMatch(new RegExp(`^ready \\d+ [^\\n]*\\ngot ${signal}\\n$`));
      expect(died).toBeNull();
      expect(code).toBe(childCode);
      expect(cli.stderr().toString('utf8')).toBe('');
    });
  }

  it('without a terminal, the command has a process group of its own', async () => {
    const cli = startCli(['env', '--', NODE, SIGNALS], job.env, { detached: true });
    await cli.waitFor('ready ');
    const [, pid, pgid, parentPgid] =
      /^ready (\d+) pgid (\d+) parent-pgid (\d+)\n/.exec(cli.stdout().toString('utf8')) ?? [];
    expect(parentPgid).toBe(String(cli.pid));
    expect(pgid).toBe(pid);
    process.kill(cli.pid, 'SIGTERM');
    expect((await cli.exited).code).toBe(41);
  });

  it('a signal to the whole process group (timeout, kill -- -PGID, a runner stopping the job) reaches the command once', async () => {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      for (let trial = 0; trial < 3; trial++) {
        const cli = startCli(['env', '--', NODE, SIGNALS], job.env, { detached: true });
        await cli.waitFor('ready ');
        process.kill(-cli.pid, signal);
        const { code } = await cli.exited;
        const got = cli.stdout().toString('utf8').split(`got ${signal}\n`).length - 1;
        expect([signal, trial, got, code]).toEqual([signal, trial, 1, CHILD_CODES[signal]]);
      }
    }
  });

  it('in a terminal, the command stays in the foreground group and Ctrl-C reaches it once', async () => {
    // The terminal sends SIGINT to its foreground group, helper and command alike.
    const cli = startCli(['env', '--', NODE, SIGNALS], job.env, { terminal: true });
    await cli.waitFor('ready ');
    const [, , pgid, parentPgid] =
      /ready (\d+) pgid (\d+) parent-pgid (\d+)/.exec(cli.stdout().toString('utf8')) ?? [];
    expect(pgid).toBeDefined();
    expect(pgid).toBe(parentPgid);
    process.kill(-Number(pgid), 'SIGINT');
    await cli.exited;
    const output = cli.stdout().toString('utf8').replaceAll('\r\n', '\n');
    expect(output.split('got SIGINT\n').length - 1, output).toBe(1);
  });

  it('forwards a signal to a command that does not handle it, which then dies of it, and so do we', async () => {
    const cli = startCli(['env', '--', 'sh', '-c', 'echo ready; exec sleep 10'], job.env, { detached: true });
    await cli.waitFor('ready');
    // Whether sh has become sleep yet or not, the command dies of the signal.
    process.kill(cli.pid, 'SIGTERM');
    const { code, signal } = await cli.exited;
    expect([code, signal]).toEqual([null, 'SIGTERM']);
  });

  it('exits as soon as the command does (nothing of the STS call keeps it alive)', async () => {
    // The job's STS time limit is 300 s (harness): a request timer or socket left behind would hold
    // the helper for minutes. 60 s is a generous bound for a busy machine, far below that.
    const cli = startCli(['env', '--no-cache', '--', 'sh', '-c', 'echo done'], job.env);
    await cli.waitFor('done');
    const seen = Date.now();
    const { code, at } = await cli.exited;
    expect(code).toBe(0);
    expect(at - seen).toBeLessThan(60_000);
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

  it('removes the id_tokens: variable also when the token is read from a file', async () => {
    const file = join(job.home, 'token-beside-variable.jwt');
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    const byDefault = await inspect(job.env, ['--web-identity-token-file', file]);
    expectNoToken(byDefault.seen, token);
    expect(byDefault.vars.has('GITLAB_AWS_IDENTITY_TOKEN')).toBe(false);
    const named = await inspect({ ...job.env, GITLAB_AWS_IDENTITY_TOKEN: undefined, MY_AWS_TOKEN: token }, [
      '-j',
      'MY_AWS_TOKEN',
      '--web-identity-token-file',
      file,
    ]);
    expectNoToken(named.seen, token);
    expect(named.vars.has('MY_AWS_TOKEN')).toBe(false);
    // Through the variables too.
    const fromEnv = await inspect({ ...job.env, GITLAB_AWS_IDENTITY_TOKEN_FILE: file });
    expect(fromEnv.vars.has('GITLAB_AWS_IDENTITY_TOKEN')).toBe(false);
  });
});
