/**
 * A real forward proxy for tests: Debian's tinyproxy, started in the foreground on a free loopback
 * port with its own config in a temp directory, its log (stdout) kept for assertions.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TinyproxyOptions {
  /** Ports CONNECT may reach; empty or absent = any (tinyproxy's rule when no ConnectPort is set). */
  readonly connectPorts?: readonly number[];
  readonly basicAuth?: { readonly user: string; readonly password: string };
}

export interface Tinyproxy {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** Everything tinyproxy logged so far. */
  log(): string;
  /** Targets of the CONNECT requests it received, e.g. `127.0.0.1:4567`, oldest first. */
  connectTargets(): string[];
  stop(): Promise<void>;
}

/** The tinyproxy binary's path, or `undefined` when it isn't installed. */
export function findTinyproxy(): string | undefined {
  const probe = spawnSync('tinyproxy', ['-v'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0 ? 'tinyproxy' : undefined;
}

/** A port that was free a moment ago; tinyproxy cannot listen on port 0 and tell us the port. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from a TCP listener');
  return address.port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function config(port: number, options: TinyproxyOptions): string {
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 10',
    'MaxClients 20',
    // Connect level logs every request line, which is what the tests look for.
    'LogLevel Connect',
    'Allow 127.0.0.1',
    ...(options.connectPorts ?? []).map((connectPort) => `ConnectPort ${connectPort}`),
  ];
  if (options.basicAuth !== undefined) {
    lines.push(`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`);
  }
  return `${lines.join('\n')}\n`;
}

async function startOnce(options: TinyproxyOptions): Promise<Tinyproxy | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'tinyproxy-'));
  const port = await freePort();
  const file = join(dir, 'tinyproxy.conf');
  await writeFile(file, config(port, options));
  const child = spawn('tinyproxy', ['-d', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    log += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    log += chunk;
  });
  const cleanUp = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited(child);
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 5000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await cleanUp();
      // Another process may have taken the port between freePort() and tinyproxy's bind.
      if (/listen|bind|address already in use/i.test(log)) return undefined;
      throw new Error(`tinyproxy exited during start-up:\n${log}`);
    }
    if (Date.now() > deadline) {
      await cleanUp();
      throw new Error(`tinyproxy did not listen on 127.0.0.1:${port} within 5 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log: () => log,
    connectTargets: () =>
      [...log.matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((m) => m[1] ?? ''),
    stop: cleanUp,
  };
}

/** Starts tinyproxy; `stop()` ends it (SIGTERM, then SIGKILL) and removes its config. */
export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const proxy = await startOnce(options);
    if (proxy !== undefined) return proxy;
  }
  throw new Error('tinyproxy could not bind a free loopback port in 3 attempts');
}
