/**
 * The cache across real processes: each worker is a separate Node.js process running
 * fixtures/worker.ts, as separate `aws` commands would run the helper. The worker is bundled once
 * with esbuild the way the CLI is (one ESM file, CommonJS dependencies given a `require`): starting
 * 20 plain bundles takes a fraction of the CPU of 20 `node --import tsx` start-ups, which on a
 * two-core CI machine is the difference between 1 and 8 seconds.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheKeyFor } from '../../src/cache/key.js';
import { createFileCache } from '../../src/cache/store.js';
import { countingProducer, makeTempDir, requestFor, type TempDir } from './support.js';

const WORKER_SOURCE = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3b3JrZXJzIn0.c2lnbmF0dXJl';
/** The worker's request, as fixtures/worker.ts builds it. */
const WORKER_REQUEST = requestFor(TOKEN, { roleSessionName: 'worker', token: {} });

interface Worker {
  readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  /** Resolves with the next line the worker prints. */
  nextLine(): Promise<string>;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

let bundleDir: TempDir;
let workerBundle: string;
let temp: TempDir;
let counter: string;
let workers: Worker[] = [];

beforeAll(async () => {
  bundleDir = await makeTempDir();
  workerBundle = join(bundleDir.path, 'worker.mjs');
  await build({
    entryPoints: [WORKER_SOURCE],
    outfile: workerBundle,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
});

afterAll(async () => {
  await bundleDir.remove();
});

beforeEach(async () => {
  temp = await makeTempDir();
  counter = join(temp.path, 'produce-calls');
  await writeFile(counter, '');
});

afterEach(async () => {
  for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  await Promise.all(workers.map((worker) => worker.exited));
  workers = [];
  await temp.remove();
});

function startWorker(extraEnv: Record<string, string> = {}): Worker {
  const child = spawn(process.execPath, [workerBundle], {
    cwd: temp.path,
    env: {
      PATH: process.env.PATH,
      HOME: join(temp.path, 'home'),
      XDG_CACHE_HOME: join(temp.path, 'xdg'),
      WORKER_TOKEN: TOKEN,
      WORKER_COUNTER: counter,
      ...extraEnv,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const lines = createInterface({ input: child.stdout });
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => {
    const next = waiting.shift();
    if (next === undefined) queue.push(line);
    else next(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const worker: Worker = {
    child,
    exited,
    stderr: () => stderr,
    nextLine: () => {
      const line = queue.shift();
      if (line !== undefined) return Promise.resolve(line);
      return new Promise<string>((resolve, reject) => {
        waiting.push(resolve);
        void exited.then((code) => reject(new Error(`worker exited (${code}) before printing: ${stderr}`)));
      });
    },
  };
  workers.push(worker);
  return worker;
}

async function produceCalls(): Promise<string[]> {
  return (await readFile(counter, 'utf8')).split('\n').filter((line) => line !== '');
}

describe('the file cache across processes', () => {
  it('makes one produce call for 20 processes started at once on an empty cache', async () => {
    const started = Array.from({ length: 20 }, () => startWorker());
    expect(await Promise.all(started.map((worker) => worker.nextLine()))).toEqual(Array(20).fill('ready'));
    // All workers are loaded and waiting; release them together.
    for (const worker of started) worker.child.stdin.end('go\n');
    const outputs = await Promise.all(started.map((worker) => worker.nextLine()));
    const codes = await Promise.all(started.map((worker) => worker.exited));

    expect(codes).toEqual(Array(20).fill(0));
    expect(await produceCalls()).toHaveLength(1);
    const results = outputs.map(
      (line) => JSON.parse(line) as { credentials: { secretAccessKey: string }; fromCache: boolean },
    );
    expect(new Set(results.map((result) => JSON.stringify(result.credentials))).size).toBe(1);
    expect(results.filter((result) => !result.fromCache)).toHaveLength(1);
    // Most workers really waited for the lock rather than arriving after the write.
    const waited = started.filter((worker) => worker.stderr().includes('another process is fetching'));
    expect(waited.length).toBeGreaterThan(0);
  });

  it('takes over the lock of a holder killed with SIGKILL', async () => {
    const staleMs = 2000;
    const holder = startWorker({ WORKER_MODE: 'hang', WORKER_STALE_MS: String(staleMs) });
    expect(await holder.nextLine()).toBe('ready');
    holder.child.stdin.end('go\n');
    expect(await holder.nextLine()).toBe('producing');
    const cacheDir = join(temp.path, 'xdg', 'gitlab-aws-credential-helper');
    const lockName = `${cacheKeyFor(TOKEN, WORKER_REQUEST)}.json.lock`;
    expect(await readdir(cacheDir)).toContain(lockName);

    holder.child.kill('SIGKILL');
    await holder.exited;
    // SIGKILL runs no exit handlers: the lock is left behind.
    expect(await readdir(cacheDir)).toContain(lockName);

    const logLines: string[] = [];
    const cache = createFileCache({
      env: { HOME: join(temp.path, 'home'), XDG_CACHE_HOME: join(temp.path, 'xdg') },
      cwd: '/',
      lockOptions: { staleMs },
      log: (line) => logLines.push(line),
    });
    const produce = countingProducer();
    const before = performance.now();
    const result = await cache.getOrCreate(TOKEN, WORKER_REQUEST, produce);
    const waitedMs = performance.now() - before;

    expect(result.fromCache).toBe(false);
    expect(produce.calls).toBe(1);
    // Taken over once stale, not after the 130 s wait for a live holder; generous for a busy machine.
    expect(waitedMs).toBeLessThan(staleMs + 60_000);
    expect(logLines.join('\n')).toContain('took the lock');
    expect(await readdir(cacheDir)).toEqual([`${cacheKeyFor(TOKEN, WORKER_REQUEST)}.json`]);
    // The killed holder's produce call is the only other one.
    expect(await produceCalls()).toHaveLength(1);
  });
});
