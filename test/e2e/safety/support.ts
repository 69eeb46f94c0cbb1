/**
 * What the safety suites share: the built CLI started as a live child (so a test can signal it,
 * talk to its stdin and read its output as it comes), and a scanner that counts secret values in
 * text, whole or in part.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { credentialProcessLine, helperCommand } from '../harness.js';

export interface LiveCli {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  /** stdout and stderr so far, as bytes. */
  stdout(): Buffer;
  stderr(): Buffer;
  /** Resolves once stdout (or stderr) contains `text`; rejects if the process exits first. */
  waitFor(text: string, stream?: 'stdout' | 'stderr'): Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

export function definedEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) out[name] = value;
  return out;
}

/** Starts the helper (harness HELPER) with ARGS, with pipes on all three streams; stdin stays open. */
export function startCli(
  args: readonly string[],
  env: Record<string, string | undefined>,
  options: {
    detached?: boolean;
    /** Run it on a terminal of its own (script(1)); `pid` is then script's, and output has CRLF. */
    terminal?: boolean;
  } = {},
): LiveCli {
  const [command, commandArgs] = options.terminal
    ? ['script', ['-qec', credentialProcessLine(args), '/dev/null']]
    : helperCommand(args);
  const child = spawn(command, commandArgs, {
    env: definedEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  if (child.pid === undefined) throw new Error('the CLI did not start');
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const waiters: Array<() => void> = [];
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  child.stdout.on('data', (chunk: Buffer) => {
    out.push(chunk);
    notify();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err.push(chunk);
    notify();
  });
  // A child that exits before reading all its stdin would otherwise fail the test with EPIPE.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((done) => {
    child.once('close', (code, signal) => done({ code, signal, at: Date.now() }));
  });
  const live: LiveCli = {
    child,
    pid: child.pid,
    stdout: () => Buffer.concat(out),
    stderr: () => Buffer.concat(err),
    exited,
    waitFor(text, stream = 'stdout') {
      const read = stream === 'stdout' ? live.stdout : live.stderr;
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (read().toString('utf8').includes(text)) {
            waiters.splice(waiters.indexOf(check), 1);
            resolve();
          }
        };
        waiters.push(check);
        check();
        void exited.then(() => {
          if (!read().toString('utf8').includes(text)) {
            reject(
              new Error(
                `the CLI exited before printing ${JSON.stringify(text)}; stderr: ${live.stderr().toString('utf8')}`,
              ),
            );
          }
        });
      });
    },
  };
  return live;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `tasks` with at most `limit` in flight; results in input order. */
export async function inBatches<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The parts of a JWT worth looking for on their own: the payload and the signature (the header is public). */
export function jwtSecretParts(token: string): string[] {
  const [, payload, signature] = token.split('.');
  return [token, payload, signature].filter((part): part is string => part !== undefined && part !== '');
}

export interface Leak {
  readonly secret: string;
  readonly where: string;
  /** A little context around the hit, with the secret itself cut short. */
  readonly excerpt: string;
}

/**
 * Finds secrets in text: whole, or any WINDOW-character piece of one (a cut-off or wrapped secret is
 * still a leak). Secrets shorter than the window are looked for whole.
 */
export class SecretScanner {
  static readonly WINDOW = 20;
  readonly #short = new Map<string, string>();
  readonly #windows = new Map<string, string>();
  bytesScanned = 0;
  textsScanned = 0;

  add(label: string, secret: string): void {
    if (secret.length < SecretScanner.WINDOW) {
      this.#short.set(secret, label);
      return;
    }
    for (let i = 0; i + SecretScanner.WINDOW <= secret.length; i++) {
      this.#windows.set(secret.slice(i, i + SecretScanner.WINDOW), label);
    }
  }

  get secretCount(): number {
    return new Set([...this.#short.values(), ...this.#windows.values()]).size;
  }

  scan(where: string, text: string): Leak[] {
    this.bytesScanned += Buffer.byteLength(text);
    this.textsScanned++;
    const leaks: Leak[] = [];
    const excerpt = (index: number): string =>
      `${text.slice(Math.max(0, index - 40), index).replace(/\s+/g, ' ')}…(secret)…`;
    for (const [secret, label] of this.#short) {
      const index = text.indexOf(secret);
      if (index >= 0) leaks.push({ secret: label, where, excerpt: excerpt(index) });
    }
    const seen = new Set<string>();
    for (let i = 0; i + SecretScanner.WINDOW <= text.length; i++) {
      const label = this.#windows.get(text.slice(i, i + SecretScanner.WINDOW));
      if (label !== undefined && !seen.has(label)) {
        seen.add(label);
        leaks.push({ secret: label, where, excerpt: excerpt(i) });
      }
    }
    return leaks;
  }
}
