/** What a command receives from the CLI (its parsed flags, the environment, the output streams) and what it may throw back. */
import type { CommandName } from '../config/options.js';
import type { FlagValues } from '../config/resolve.js';
import type { Environment } from '../environment.js';
import { errorMessage } from '../errors.js';
import type { Redactor } from '../platform/redact.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export interface CommandRun {
  readonly command: CommandName;
  readonly flags: FlagValues;
  /** For `env -- CMD ARGS`: the command and its arguments. */
  readonly argv: readonly string[];
  readonly env: Environment;
  readonly io: CliIo;
  readonly redactor: Redactor;
  readonly debug: boolean;
}

/**
 * A failure of the helper while it runs a command for the user (`env -- CMD`): reported as the
 * failure it carries, with the exit codes env(1) and timeout(1) use for their own failures.
 */
export class CommandRunnerFailure extends Error {
  readonly failure: unknown;

  constructor(failure: unknown) {
    super(errorMessage(failure));
    this.name = 'CommandRunnerFailure';
    this.failure = failure;
  }
}
