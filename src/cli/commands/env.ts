import type { Environment } from '../../environment.js';
import { ConfigError } from '../../errors.js';
import { credentialVariables, formatEnvLines } from '../../output/formats.js';
import { writeSecretFile } from '../../platform/files.js';
import type { CommandOutcome } from '../../platform/spawn.js';
import type { CommandRun } from '../run.js';
import { CommandRunnerFailure } from '../run.js';
import { debugLogger, obtainForRun } from './shared.js';

/**
 * Variables removed from the child's environment and `unset` before `--export`: a profile would make
 * the JS SDK ignore the credentials we pass, a legacy token would mix with them, and an account id
 * of other credentials would send requests to that account's endpoints. We set the last one again
 * when we know the account (see credentialVariables).
 */
const STALE_VARIABLES = ['AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SECURITY_TOKEN', 'AWS_ACCOUNT_ID'];

function childEnvironment(
  parent: Environment,
  variables: ReadonlyArray<readonly [string, string]>,
  tokenVariable: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || STALE_VARIABLES.includes(name) || name === tokenVariable) continue;
    env[name] = value;
  }
  for (const [name, value] of variables) env[name] = value;
  return env;
}

export async function runEnv(run: CommandRun): Promise<number> {
  const [command, ...args] = run.argv;
  if (command === undefined) return printVariables(run);
  let outcome: CommandOutcome;
  let spawning: typeof import('../../platform/spawn.js');
  try {
    const printing =
      run.flags.filename !== undefined ? '--filename' : run.flags.export === true ? '--export' : undefined;
    if (printing !== undefined) {
      throw new ConfigError({
        code: 'ConflictingOptions',
        message: `env -- ${command} runs a command with the credentials, so ${printing} has nothing to write`,
        hint: 'either run a command after --, or print the variables (--export for eval, --filename for a file), not both',
      });
    }
    const { credentials, settings } = await obtainForRun(run);
    // Loaded here: child_process is no part of the other modes' start-up.
    spawning = await import('../../platform/spawn.js');
    outcome = await spawning.runCommand(
      command,
      args,
      childEnvironment(run.env, credentialVariables(credentials), settings.tokenVariable),
    );
  } catch (error) {
    // Our own failures exit 125, apart from the command's 126 and 127: see cli/report.ts.
    throw new CommandRunnerFailure(error);
  }
  return outcome.kind === 'exited' ? outcome.code : spawning.endLikeSignal(outcome.signal);
}

async function printVariables(run: CommandRun): Promise<number> {
  const { credentials, settings } = await obtainForRun(run);
  const exported = new Set(credentialVariables(credentials).map(([name]) => name));
  const stale = STALE_VARIABLES.filter((name) => run.env[name] !== undefined && !exported.has(name));
  const text = formatEnvLines(credentials, { exportPrefix: settings.exportPrefix, unset: stale });
  if (settings.filename !== undefined) {
    await writeSecretFile(settings.filename, text, { pathSetting: '--filename', log: debugLogger(run) });
  } else {
    run.io.stdout(text);
  }
  return 0;
}
