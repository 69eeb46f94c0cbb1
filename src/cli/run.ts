/** What a command receives from the CLI: its parsed flags, the environment and the output streams. */
import type { CommandName } from '../config/options.js';
import type { FlagValues } from '../config/resolve.js';
import type { Environment } from '../environment.js';
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
