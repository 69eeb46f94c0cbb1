/** Runs a user's command with extra environment and hands its fate back: an exit code or a signal. */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import { HelperError } from '../errors.js';

/** Every signal someone may aim at us to reach the command; SIGKILL and SIGSTOP cannot be caught. */
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGTERM',
  'SIGUSR1',
  'SIGUSR2',
  'SIGALRM',
];
/**
 * A terminal sends these to its whole foreground process group, which the command then shares with
 * us: it has them already, and a second copy from us would read as "interrupt twice" (Terraform then
 * exits at once instead of cleaning up).
 */
const TERMINAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGHUP', 'SIGQUIT'];
/**
 * Signals whose default action dumps core. Dying of one of them ourselves could write our memory,
 * credentials included, to a core file; for these we exit with 128 + n instead.
 */
const CORE_DUMPING_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set<NodeJS.Signals>([
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGSEGV',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGSYS',
]);

export type CommandOutcome =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signaled'; readonly signal: NodeJS.Signals };

/**
 * True when this process has a controlling terminal (not only when stdin is one: `cmd < file` typed
 * in a shell still gets Ctrl-C from the terminal). Opening /dev/tty fails with ENXIO without one.
 */
function hasControllingTerminal(): boolean {
  if (process.platform === 'win32') return false;
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the command and resolves with how it ended.
 *
 * Without a terminal the command gets a process group of its own, and every signal we receive is
 * forwarded to it exactly once: `timeout`, `kill -- -PGID` or a runner stopping the job signal our
 * group, which would otherwise reach the command twice, directly and from us. With a terminal it
 * stays in our (foreground) group, so that the terminal's job control and reads keep working, and
 * the signals the terminal sends to the whole group (TERMINAL_SIGNALS) are not forwarded again.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<CommandOutcome> {
  return new Promise((resolve, reject) => {
    const fromTerminal = hasControllingTerminal();
    const child = spawn(command, args, { stdio: 'inherit', env, detached: !fromTerminal });
    const forward = (signal: NodeJS.Signals): void => {
      if (fromTerminal && TERMINAL_SIGNALS.includes(signal)) return;
      child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const cleanup = (): void => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      cleanup();
      const notFound = error.code === 'ENOENT';
      reject(
        new HelperError('process', {
          code: notFound ? 'CommandNotFound' : 'CommandFailed',
          message: notFound
            ? `cannot run ${JSON.stringify(command)}: command not found`
            : `cannot run ${JSON.stringify(command)}: ${error.code ?? error.message}`,
          hint: notFound
            ? 'check the command name and PATH; put the command after `--`, e.g. env -- aws sts get-caller-identity'
            : 'check that the command exists and is executable',
          cause: error,
        }),
      );
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(signal === null ? { kind: 'exited', code: code ?? 1 } : { kind: 'signaled', signal });
    });
  });
}

/** The shell's exit status for death by `signal`: 128 + its number. */
function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Ends this process by the signal that ended the command, so that a calling shell or `wait` sees a
 * signal death, as if we had executed the command ourselves. Signals that would dump core are not
 * raised (see CORE_DUMPING_SIGNALS). Returns 128 + n, the shell's status for it, when the process is
 * still alive afterwards.
 */
export function endLikeSignal(signal: NodeJS.Signals): number {
  if (!CORE_DUMPING_SIGNALS.has(signal)) {
    // Adding and removing a listener restores the default action (libuv resets the handler when the
    // last listener goes), also for SIGPIPE, which Node.js ignores from the start.
    const restoreDefault = (): void => {};
    try {
      process.on(signal, restoreDefault);
      process.off(signal, restoreDefault);
    } catch {
      // SIGKILL cannot have a listener; its default action is all it has.
    }
    process.kill(process.pid, signal);
  }
  return signalExitCode(signal);
}
