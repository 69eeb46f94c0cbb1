/**
 * argv → settings → one library call per command, and the one place where a result becomes output
 * and an exit code. What is heavy (the AWS SDK, proxy agents, the lock library, help) is imported
 * where it is used, only when it is used.
 */
import type { CommandName } from '../config/options.js';
import { parseBoolean } from '../config/parse.js';
import type { FlagValues } from '../config/resolve.js';
import type { Environment } from '../environment.js';
import { Redactor } from '../platform/redact.js';
import { PROGRAM_NAME, VERSION } from '../version.js';
import { type CommandInfo, type ParsedArgv, parseArgv, UsageError } from './argv.js';
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
Prints AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION and
AWS_ACCOUNT_ID, or runs a command with them (AWS_PROFILE, AWS_DEFAULT_PROFILE, AWS_SECURITY_TOKEN and
the ID token variable are removed from the command's environment so that the credentials are the
ones used). Exit codes of env -- CMD: the command's own (or its signal), 125 when the helper fails,
126 when the command cannot be run, 127 when it is not found.

Example:
  eval "$(${PROGRAM_NAME} env --export)"
  ${PROGRAM_NAME} env -- aws sts get-caller-identity
  ${PROGRAM_NAME} env --filename aws.env   # mode 0600; unquoted KEY=value, a valid dotenv report`,
  doctor: `
Explains what AWS will see and why STS would refuse: the token's claims (never the token), every
setting and where it came from, and checks with a verdict and a fix each. Exit 0 when no check
found a problem, 1 otherwise. Prints no secret.

Example:
  ${PROGRAM_NAME} doctor
  ${PROGRAM_NAME} doctor --trust-policy role.yml --parameter RepositoryPath=my-group/my-project
  aws iam get-role --role-name gitlab-my-group-my-project | ${PROGRAM_NAME} doctor --trust-policy -
  ${PROGRAM_NAME} doctor --live --format json`,
  'role-template': `
Prints the IAM role for the project's pipelines, named as the helper will ask for it, trusting the
project's branches (default), one ref (--ref), tags (--ref-type tag) or any ref (--ref-type any).

Example:
  ${PROGRAM_NAME} role-template --project-path my-group/my-project > role.yml
  ${PROGRAM_NAME} role-template --format terraform --ref main --with-provider > gitlab-role.tf`,
};

const DESCRIPTION =
  'Exchange a GitLab CI/CD ID token for temporary AWS credentials (STS AssumeRoleWithWebIdentity).';

const COMMANDS: readonly CommandInfo[] = [
  {
    name: 'process',
    summary: 'print credentials for the AWS credential_process interface',
    details: EXAMPLES.process,
  },
  {
    name: 'aws-profile',
    summary: 'write credentials into a profile of the AWS shared credentials file',
    details: EXAMPLES['aws-profile'],
  },
  {
    name: 'env',
    summary: 'print credentials as environment variables, or run a command with them',
    details: EXAMPLES.env,
    operands: '[command...]',
  },
  {
    name: 'doctor',
    summary: 'explain the token, the settings and the trust policy, and why STS would refuse',
    details: EXAMPLES.doctor,
  },
  {
    name: 'role-template',
    summary: 'print the IAM role (CloudFormation or Terraform) the helper will assume',
    details: EXAMPLES['role-template'],
  },
  {
    name: 'cache',
    summary: 'manage the encrypted credential cache',
    subcommands: [{ name: 'clear', summary: 'remove every cached credential set of this user' }],
  },
];

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
    // Rarely used: loaded only when chosen, so that `process` does not pay for them at start-up.
    case 'doctor':
      return import('./commands/doctor.js').then(({ runDoctor }) => runDoctor(run));
    case 'role-template':
      return import('./commands/role-template.js').then(({ runRoleTemplate }) => runRoleTemplate(run));
  }
}

export async function runCli(argv: readonly string[], env: Environment, io: CliIo): Promise<number> {
  const redactor = new Redactor();
  let parsed: ParsedArgv;
  try {
    parsed = parseArgv(argv, COMMANDS);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // What was not understood is echoed back, and it may be a token.
    io.stderr(`${redactor.redact(`error: ${error.message}`)}\n`);
    return EXIT_USAGE;
  }
  switch (parsed.kind) {
    case 'version':
      io.stdout(`${VERSION}\n`);
      return 0;
    case 'help': {
      const { renderHelp } = await import('./help.js');
      (parsed.failed ? io.stderr : io.stdout)(renderHelp(parsed.path, COMMANDS, DESCRIPTION));
      return parsed.failed ? EXIT_USAGE : 0;
    }
    case 'cache-clear': {
      const debug = rawDebug(parsed.flags, env);
      try {
        return await (await import('./commands/cache.js')).runCacheClear(env, io, debug);
      } catch (error) {
        return reportError(error, { debug, redactor, write: io.stderr });
      }
    }
    case 'run': {
      const debug = rawDebug(parsed.flags, env);
      try {
        return await dispatch({ ...parsed, env, io, redactor, debug });
      } catch (error) {
        return reportError(error, { debug, redactor, write: io.stderr });
      }
    }
  }
}
