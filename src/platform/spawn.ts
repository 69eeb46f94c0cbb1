/** Runs a user's command with extra environment and hands its fate back as an exit code. */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { isatty } from 'node:tty';
import { HelperError } from '../errors.js';

const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/**
 * A terminal sends these to its whole foreground process group, which the child belongs to: it has
 * them already, and a second copy from us would read as "interrupt twice" (Terraform then exits
 * at once instead of cleaning up). Without a terminal, someone aimed them at us: pass them on.
 */
const TERMINAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGHUP'];

/**
 * Resolves with the command's exit code, or 128 + the signal number when a signal killed it (the
 * shell convention), after forwarding SIGINT, SIGTERM and SIGHUP that we receive meanwhile (SIGINT
 * and SIGHUP only when no terminal is attached; see TERMINAL_SIGNALS).
 */
export function runCommand(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    // isatty(0), not process.stdin.isTTY: touching process.stdin would open a non-blocking handle on
    // the stdin the child shares, and the child's reads would fail with EAGAIN.
    const fromTerminal = isatty(0);
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
      if (signal !== null) {
        resolve(128 + (constants.signals[signal] ?? 0));
        return;
      }
      resolve(code ?? 1);
    });
  });
}
