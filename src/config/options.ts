/**
 * Every setting of the tool, declared once: flag, short flag, environment variables, default and
 * help. The CLI builds its options from this table, `resolveSettings` reads values through it and the
 * README's settings table is generated from it, so the three cannot drift apart.
 */

export type CommandName = 'process' | 'aws-profile' | 'env' | 'doctor' | 'role-template';
/** The modes: the commands that hand credentials over. */
export const MODES: readonly CommandName[] = ['process', 'aws-profile', 'env'];
export const ALL_COMMANDS: readonly CommandName[] = [...MODES, 'doctor', 'role-template'];
/** The commands that resolve the exchange settings: the modes, and doctor, which explains them. */
const EXCHANGING: readonly CommandName[] = [...MODES, 'doctor'];

export type OptionKey =
  | 'awsAccount'
  | 'roleName'
  | 'roleSessionName'
  | 'webIdentityTokenName'
  | 'webIdentityTokenFile'
  | 'durationSeconds'
  | 'region'
  | 'endpointUrl'
  | 'profileName'
  | 'filename'
  | 'export'
  | 'cache'
  | 'cacheRefreshWindow'
  | 'maxAttempts'
  | 'timeout'
  | 'debug'
  | 'trustPolicy'
  | 'parameter'
  | 'live'
  | 'format'
  | 'projectPath'
  | 'providerHost'
  | 'withProvider'
  | 'ref'
  | 'refType'
  | 'audience';

export interface OptionSpec {
  readonly key: OptionKey;
  /** Long flag without its value placeholder, e.g. `--aws-account`. */
  readonly flag: string;
  readonly short?: string;
  /** Further long flags accepted for the same setting (not shown in help). */
  readonly aliases?: readonly string[];
  /** Placeholder shown in help; absent for boolean switches. */
  readonly value?: string;
  /** Environment variables read in this order when the flag is absent. */
  readonly env: readonly string[];
  /** What the default is, in words, for help and README. */
  readonly defaultText?: string;
  readonly description: string;
  readonly commands: readonly CommandName[];
  /** A boolean switch that also has a `--no-` form that turns it off. */
  readonly negatable?: boolean;
  /** May be given several times; the values are kept in order. */
  readonly repeatable?: boolean;
}

export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'awsAccount',
    flag: '--aws-account',
    short: '-A',
    value: 'id',
    env: ['GITLAB_AWS_ACCOUNT_ID'],
    defaultText: 'required unless the role is a full ARN',
    description: 'AWS account id (12 digits) that holds the role',
    commands: EXCHANGING,
  },
  {
    key: 'roleName',
    flag: '--role-name',
    short: '-r',
    aliases: ['--role'],
    value: 'name|arn',
    env: ['GITLAB_AWS_ROLE_NAME'],
    defaultText: 'gitlab-$CI_PROJECT_PATH_SLUG, cut to 64 characters',
    description: 'IAM role to assume: a name (may include a path, e.g. ci/deployer) or a full role ARN',
    commands: [...EXCHANGING, 'role-template'],
  },
  {
    key: 'roleSessionName',
    flag: '--role-session-name',
    short: '-n',
    value: 'name',
    env: ['GITLAB_AWS_ROLE_SESSION_NAME'],
    defaultText: '<role name>-$CI_PIPELINE_ID, cut to 64 characters keeping the pipeline id',
    description: 'role session name, shown in CloudTrail and in the assumed-role ARN',
    commands: EXCHANGING,
  },
  {
    key: 'webIdentityTokenName',
    flag: '--web-identity-token-name',
    short: '-j',
    value: 'variable',
    env: ['GITLAB_AWS_IDENTITY_TOKEN_NAME'],
    defaultText: 'GITLAB_AWS_IDENTITY_TOKEN',
    description: 'name of the environment variable that holds the ID token (the `id_tokens:` entry)',
    commands: EXCHANGING,
  },
  {
    key: 'webIdentityTokenFile',
    flag: '--web-identity-token-file',
    value: 'path',
    env: ['GITLAB_AWS_IDENTITY_TOKEN_FILE'],
    defaultText: 'none',
    description: 'read the ID token from this file instead of an environment variable',
    commands: EXCHANGING,
  },
  {
    key: 'durationSeconds',
    flag: '--duration-seconds',
    short: '-d',
    value: 'seconds',
    env: ['GITLAB_AWS_DURATION_SECONDS'],
    defaultText: '3600',
    description: 'session length, 900 to 43200 and at most the role’s maximum session duration',
    commands: [...EXCHANGING, 'role-template'],
  },
  {
    key: 'region',
    flag: '--region',
    value: 'region',
    env: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
    defaultText: 'us-east-1',
    description: 'region of the STS endpoint; also selects the partition (aws, aws-cn, aws-us-gov, …)',
    commands: EXCHANGING,
  },
  {
    key: 'endpointUrl',
    flag: '--endpoint-url',
    value: 'url',
    env: ['AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL'],
    defaultText: 'https://sts.<region>.<partition domain>',
    description: 'STS endpoint to call instead of the regional one',
    commands: EXCHANGING,
  },
  {
    key: 'profileName',
    flag: '--name',
    short: '-p',
    value: 'profile',
    env: ['GITLAB_AWS_PROFILE'],
    defaultText: 'default',
    description: 'profile (section) of the shared credentials file to write',
    commands: ['aws-profile'],
  },
  {
    key: 'filename',
    flag: '--filename',
    short: '-f',
    value: 'path',
    env: [],
    defaultText: 'stdout',
    description: 'write the variables to this file (mode 0600) instead of stdout',
    commands: ['env'],
  },
  {
    key: 'export',
    flag: '--export',
    short: '-e',
    env: [],
    defaultText: 'off',
    description: 'prefix each line with `export ` for `eval` in a shell',
    commands: ['env'],
  },
  {
    key: 'cache',
    flag: '--cache',
    env: ['GITLAB_AWS_CACHE'],
    defaultText: 'on',
    description: 'reuse unexpired credentials from the encrypted cache (`--no-cache` turns it off)',
    commands: MODES,
    negatable: true,
  },
  {
    key: 'cacheRefreshWindow',
    flag: '--cache-refresh-window',
    value: 'seconds',
    env: ['GITLAB_AWS_CACHE_REFRESH_WINDOW'],
    defaultText: '1200',
    description: 'fetch new credentials when a cached set has less than this many seconds left',
    commands: MODES,
  },
  {
    key: 'maxAttempts',
    flag: '--max-attempts',
    value: 'n',
    env: ['GITLAB_AWS_MAX_ATTEMPTS'],
    defaultText: '5',
    description:
      'attempts at the STS call when it fails for a reason that can pass (throttling, 5xx, network)',
    commands: EXCHANGING,
  },
  {
    key: 'timeout',
    flag: '--timeout',
    value: 'seconds',
    env: ['GITLAB_AWS_TIMEOUT'],
    defaultText: '10',
    description: 'time limit of one STS request, in seconds',
    commands: EXCHANGING,
  },
  {
    key: 'debug',
    flag: '--debug',
    env: ['GITLAB_AWS_DEBUG'],
    defaultText: 'off',
    description: 'explain each step on stderr (secrets redacted) and show stack traces',
    commands: ALL_COMMANDS,
  },
  {
    key: 'trustPolicy',
    flag: '--trust-policy',
    value: 'file|-',
    env: [],
    defaultText: 'none',
    description:
      'evaluate this trust policy against the token: IAM JSON, `aws iam get-role` output, or a CloudFormation template (YAML or JSON); `-` reads stdin',
    commands: ['doctor'],
  },
  {
    key: 'parameter',
    flag: '--parameter',
    value: 'Key=Value',
    env: [],
    defaultText: 'the template’s defaults',
    description: 'value of a CloudFormation template parameter; may be repeated',
    commands: ['doctor'],
    repeatable: true,
  },
  {
    key: 'live',
    flag: '--live',
    env: [],
    defaultText: 'off',
    description: 'also exchange the token at STS (no cache) and call GetCallerIdentity with the result',
    commands: ['doctor'],
  },
  {
    key: 'format',
    flag: '--format',
    value: 'format',
    env: [],
    defaultText: 'text (doctor), cloudformation (role-template)',
    description: 'doctor: `text` or `json`; role-template: `cloudformation` or `terraform`',
    commands: ['doctor', 'role-template'],
  },
  {
    key: 'projectPath',
    flag: '--project-path',
    value: 'group/project',
    env: ['CI_PROJECT_PATH'],
    defaultText: 'required',
    description: 'GitLab project whose pipelines may assume the role',
    commands: ['role-template'],
  },
  {
    key: 'providerHost',
    flag: '--provider-host',
    value: 'host',
    env: ['CI_SERVER_HOST'],
    defaultText: 'gitlab.com',
    description:
      'the IAM OIDC provider: the token’s issuer without https:// (host, and path if the issuer has one)',
    commands: ['role-template'],
  },
  {
    key: 'withProvider',
    flag: '--with-provider',
    env: [],
    defaultText: 'off',
    description: 'also define the IAM OIDC identity provider (once per account and GitLab)',
    commands: ['role-template'],
  },
  {
    key: 'ref',
    flag: '--ref',
    value: 'name|pattern',
    env: [],
    defaultText: '*',
    description: 'branch or tag the role trusts; `*` and `?` are wildcards (e.g. `release/*`)',
    commands: ['role-template'],
  },
  {
    key: 'refType',
    flag: '--ref-type',
    value: 'branch|tag|any',
    env: [],
    defaultText: 'branch',
    description: 'whether --ref names a branch or a tag; `any` trusts both',
    commands: ['role-template'],
  },
  {
    key: 'audience',
    flag: '--audience',
    value: 'aud',
    env: [],
    defaultText: 'https://<provider host>',
    description: 'the `aud:` of the job’s `id_tokens:` entry, required by the trust policy',
    commands: ['role-template'],
  },
];

export function optionSpec(key: OptionKey): OptionSpec {
  const spec = OPTIONS.find((option) => option.key === key);
  if (spec === undefined) throw new Error(`unknown option key ${key}`);
  return spec;
}

/** The flag as a user types it, with its short form: `-A, --aws-account`. */
export function flagLabel(spec: OptionSpec): string {
  return spec.short === undefined ? spec.flag : `${spec.short}, ${spec.flag}`;
}

/** `all`, or the commands with the three modes abbreviated to `modes`. */
function commandsText(commands: readonly CommandName[]): string {
  if (ALL_COMMANDS.every((command) => commands.includes(command))) return 'all';
  const allModes = MODES.every((command) => commands.includes(command));
  const others = commands.filter((command) => !allModes || !MODES.includes(command));
  return [...(allModes ? ['modes'] : []), ...others].join(', ');
}

/** The settings table of the README, generated so that it always matches the CLI. */
export function renderOptionsMarkdown(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = OPTIONS.map((spec) => {
    const flag = cell(`\`${flagLabel(spec)}${spec.value === undefined ? '' : ` <${spec.value}>`}\``);
    const env = spec.env.length === 0 ? '' : spec.env.map((name) => `\`${name}\``).join(', then ');
    const commands = commandsText(spec.commands);
    const fallback = spec.defaultText === undefined ? '' : `\`${spec.defaultText}\``;
    return `| ${cell(spec.description)} | ${flag} | ${env} | ${fallback} | ${commands} |`;
  });
  return ['| setting | flag | environment | default | commands |', '|---|---|---|---|---|', ...rows].join(
    '\n',
  );
}
