/**
 * argv → settings → one library call per command. Commands are imported only when chosen, so the
 * start-up path stays small.
 */
import { Command, CommanderError, Option } from 'commander';
import { type CommandName, OPTIONS, type OptionKey, type OptionSpec } from '../config/options.js';
import { parseBoolean } from '../config/parse.js';
import type { Environment, FlagValues } from '../config/resolve.js';
import { Redactor } from '../platform/redact.js';
import { PROGRAM_NAME, VERSION } from '../version.js';
import { runAwsProfile } from './commands/aws-profile.js';
import { runEnv } from './commands/env.js';
import { runProcess } from './commands/process.js';
import { EXIT_USAGE, reportError } from './report.js';
import type { CliIo, CommandRun } from './run.js';

const EXAMPLES: Record<CommandName, string> = {
  process: `
Prints credentials as credential_process JSON on stdout; the AWS CLI and every SDK call it when
they need credentials. Only the JSON goes to stdout; use an absolute path in the config.

Example (.gitlab-ci.yml):
  id_tokens:
    GITLAB_AWS_IDENTITY_TOKEN: { aud: https://gitlab.com }
  variables:
    GITLAB_AWS_ACCOUNT_ID: "123456789012"
  script:
    - aws configure set credential_process "$(command -v ${PROGRAM_NAME}) process"
    - aws sts get-caller-identity`,
  'aws-profile': `
Writes the credentials into a profile of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE,
default ~/.aws/credentials); everything else in the file stays as it was.

Example:
  ${PROGRAM_NAME} aws-profile
  ${PROGRAM_NAME} aws-profile --name production --aws-account 333333333333 --role-name Deployer
  aws --profile production sts get-caller-identity`,
  env: `
Prints AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION,
or runs a command with them (AWS_PROFILE, AWS_DEFAULT_PROFILE and the ID token variable are removed
from the command's environment so that the credentials are the ones used).

Example:
  eval "$(${PROGRAM_NAME} env --export)"
  ${PROGRAM_NAME} env -- aws sts get-caller-identity
  ${PROGRAM_NAME} env --filename aws.env   # mode 0600; unquoted KEY=value, a valid dotenv report`,
};

const DESCRIPTIONS: Record<CommandName, string> = {
  process: 'print credentials for the AWS credential_process interface',
  'aws-profile': 'write credentials into a profile of the AWS shared credentials file',
  env: 'print credentials as environment variables, or run a command with them',
};

/** Commander's name for the value of a long flag: `--aws-account` → `awsAccount`. */
function attributeOf(flag: string): string {
  return new Option(flag).attributeName();
}

function addOptions(command: Command, specs: readonly OptionSpec[]): void {
  for (const spec of specs) {
    const value = spec.value === undefined ? '' : ` <${spec.value}>`;
    const flags = spec.short === undefined ? `${spec.flag}${value}` : `${spec.short}, ${spec.flag}${value}`;
    const env = spec.env.length === 0 ? '' : ` [env: ${spec.env.join(', ')}]`;
    const fallback = spec.defaultText === undefined ? '' : ` (default: ${spec.defaultText})`;
    command.addOption(new Option(flags, `${spec.description}${fallback}${env}`));
    if (spec.negatable === true) {
      command.addOption(new Option(`--no-${spec.flag.slice(2)}`, `turn off ${spec.flag}`));
    }
    for (const alias of spec.aliases ?? []) command.addOption(new Option(`${alias}${value}`).hideHelp());
  }
}

function collectFlags(values: Record<string, unknown>, specs: readonly OptionSpec[]): FlagValues {
  const flags: FlagValues = {};
  for (const spec of specs) {
    for (const flag of [spec.flag, ...(spec.aliases ?? [])]) {
      const value = values[attributeOf(flag)];
      if (typeof value === 'string' || typeof value === 'boolean') flags[spec.key as OptionKey] = value;
    }
  }
  return flags;
}

/** --debug before settings are resolved: an invalid GITLAB_AWS_DEBUG is reported by resolveSettings. */
function rawDebug(flags: FlagValues, env: Environment): boolean {
  if (typeof flags.debug === 'boolean') return flags.debug;
  try {
    return parseBoolean(env.GITLAB_AWS_DEBUG ?? '', 'GITLAB_AWS_DEBUG');
  } catch {
    return false;
  }
}

// The three commands are imported statically: they are small, `process` runs before every AWS
// call, and each extra module file costs start-up time. What is heavy (the AWS SDK, proxy agents,
// the lock library) is imported where it is used, only when it is used.
function dispatch(run: CommandRun): Promise<number> {
  switch (run.command) {
    case 'process':
      return runProcess(run);
    case 'aws-profile':
      return runAwsProfile(run);
    case 'env':
      return runEnv(run);
  }
}

export async function runCli(argv: readonly string[], env: Environment, io: CliIo): Promise<number> {
  const redactor = new Redactor();
  // Commander prints usage errors itself, echoing what it did not understand, which may be a token.
  const output = { writeOut: io.stdout, writeErr: (text: string) => io.stderr(redactor.redact(text)) };
  let chosen: { command: CommandName; flags: FlagValues; argv: string[] } | undefined;

  const program = new Command(PROGRAM_NAME)
    .description(
      'Exchange a GitLab CI/CD ID token for temporary AWS credentials (STS AssumeRoleWithWebIdentity).',
    )
    .version(VERSION, '-v, --version')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput(output);
  const globalSpecs = OPTIONS.filter((spec) => spec.commands.length === 3);
  addOptions(program, globalSpecs);

  for (const name of ['process', 'aws-profile', 'env'] as const) {
    const specs = OPTIONS.filter((spec) => spec.commands.includes(name));
    const sub = program
      .command(name)
      .description(DESCRIPTIONS[name])
      .addHelpText('after', EXAMPLES[name])
      .exitOverride()
      .configureOutput(output);
    addOptions(sub, specs);
    if (name === 'env') {
      sub.argument('[command...]', 'command to run with the credentials, after --').passThroughOptions();
    }
    // Commander passes the command object last, after the arguments (if any) and the options.
    sub.action((...actionArgs: unknown[]) => {
      const command = actionArgs.at(-1) as Command;
      const parentFlags = collectFlags(program.opts(), globalSpecs);
      const ownFlags = collectFlags(command.opts(), specs);
      chosen = { command: name, flags: { ...parentFlags, ...ownFlags }, argv: command.args };
    });
  }

  let clearCacheRequested: FlagValues | undefined;
  program
    .command('cache')
    .description('manage the encrypted credential cache')
    .exitOverride()
    .configureOutput(output)
    .command('clear')
    .description('remove every cached credential set of this user')
    .option('--debug', 'explain each step on stderr')
    .exitOverride()
    .configureOutput(output)
    .action((options: { debug?: boolean }) => {
      const rootDebug = program.opts().debug;
      const debug = options.debug ?? (typeof rootDebug === 'boolean' ? rootDebug : undefined);
      clearCacheRequested = debug === undefined ? {} : { debug };
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    return reportError(error, { debug: true, redactor, write: io.stderr });
  }
  if (clearCacheRequested !== undefined) {
    const debug = rawDebug(clearCacheRequested, env);
    try {
      return await (await import('./commands/cache.js')).runCacheClear(env, io, debug);
    } catch (error) {
      return reportError(error, { debug, redactor, write: io.stderr });
    }
  }
  if (chosen === undefined) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  const debug = rawDebug(chosen.flags, env);
  try {
    return await dispatch({ ...chosen, env, io, redactor, debug });
  } catch (error) {
    return reportError(error, { debug, redactor, write: io.stderr });
  }
}
