/** The one place where a failure becomes a line on stderr and an exit code. */
import { errorMessage, isHelperError } from '../errors.js';
import type { Redactor } from '../platform/redact.js';
import { oneLine } from '../text.js';
import { PROGRAM_NAME } from '../version.js';
import { CommandRunnerFailure } from './run.js';

const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function sentence(text: string): string {
  const line = oneLine(text);
  return /[.!?]$/.test(line) ? line : `${line}.`;
}

function unwrap(error: unknown): unknown {
  return error instanceof CommandRunnerFailure ? error.failure : error;
}

export function formatErrorLine(error: unknown): string {
  const failure = unwrap(error);
  if (isHelperError(failure)) {
    const hint = failure.hint === undefined || failure.hint === '' ? '' : ` Fix: ${sentence(failure.hint)}`;
    return `${PROGRAM_NAME}: ${sentence(failure.message)}${hint}`;
  }
  const message = errorMessage(failure);
  return `${PROGRAM_NAME}: unexpected error: ${sentence(message)} This is a bug: please report it with the output of --debug.`;
}

/** As env(1) and shells do: 127 when the command is not found, 126 when it cannot be run. */
const EXIT_COMMAND_NOT_FOUND = 127;
const EXIT_COMMAND_NOT_RUNNABLE = 126;
/**
 * `env -- CMD`: our own failure, as env(1) and timeout(1) report theirs, so that it cannot be taken
 * for an exit code of the command (which owns 0 to 255, 1 and 2 included).
 */
const EXIT_RUNNER_FAILED = 125;

export function exitCodeFor(error: unknown): number {
  const failure = unwrap(error);
  if (isHelperError(failure) && failure.code === 'CommandNotFound') return EXIT_COMMAND_NOT_FOUND;
  if (isHelperError(failure) && failure.code === 'CommandFailed') return EXIT_COMMAND_NOT_RUNNABLE;
  if (error instanceof CommandRunnerFailure) return EXIT_RUNNER_FAILED;
  if (!isHelperError(failure)) return EXIT_FAILURE;
  if (failure.origin === 'config') return EXIT_USAGE;
  return EXIT_FAILURE;
}

function describeCauses(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = unwrap(error);
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    lines.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) lines.push('caused by:');
  }
  return lines.join('\n');
}

export function reportError(
  error: unknown,
  options: { readonly debug: boolean; readonly redactor: Redactor; readonly write: (text: string) => void },
): number {
  if (options.debug) options.write(`${options.redactor.redact(describeCauses(error))}\n`);
  options.write(`${options.redactor.redact(formatErrorLine(error))}\n`);
  return exitCodeFor(error);
}
