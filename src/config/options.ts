/**
 * Every setting of the tool, declared once: flag, short flag, environment variables, the parser of
 * its text and its typed default. The CLI reads its options from this table, `resolveSettings`
 * parses and defaults values through it, and help and the README's settings table show it, so none
 * of them can drift apart.
 */

import { MAX_SESSION_DURATION_SECONDS, MIN_SESSION_DURATION_SECONDS } from '../aws/durations.js';
import { DEFAULT_CACHE_REFRESH_WINDOW_SECONDS } from '../cache/freshness.js';
import {
  type Parser,
  parseAccountId,
  parseBoolean,
  parseEnvVarName,
  parseFilePath,
  parseFormat,
  parseIntegerInRange,
  parseNonEmpty,
  parsePolicyText,
  parseProfileName,
  parseProjectPath,
  parseProviderHost,
  parseRefType,
  parseRegion,
  parseRoleNameOrArn,
  parseSessionName,
  parseUrl,
  type RefType,
  type RoleGiven,
  type TemplateFormat,
} from './parse.js';

export type CommandName = 'process' | 'aws-profile' | 'env' | 'doctor' | 'role-template';
/** The modes: the commands that hand credentials over. */
export const MODES: readonly CommandName[] = ['process', 'aws-profile', 'env'];
const ALL_COMMANDS: readonly CommandName[] = [...MODES, 'doctor', 'role-template'];
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

export interface OptionSpec<T = unknown> {
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
  /**
   * The default in words, for help and README: `defaultValue` as written, or, where the default is a
   * rule (the role name, the endpoint), that rule.
   */
  readonly defaultText?: string;
  readonly description: string;
  readonly commands: readonly CommandName[];
  /** A boolean switch that also has a `--no-` form that turns it off. */
  readonly negatable?: boolean;
  /** May be given several times; the values are kept in order (each is parsed on its own). */
  readonly repeatable?: boolean;
  /** The strict parser of the flag's or a variable's text; its errors name the flag or variable. */
  readonly parse: Parser<T>;
  /** The value when neither the flag nor a variable is given; absent when the default is a rule. */
  readonly defaultValue?: T;
}

/** The type of each option's value, as its parser returns it. */
interface OptionTypes {
  readonly awsAccount: string;
  readonly roleName: RoleGiven;
  readonly roleSessionName: string;
  readonly webIdentityTokenName: string;
  readonly webIdentityTokenFile: string;
  readonly durationSeconds: number;
  readonly region: string;
  readonly endpointUrl: string;
  readonly profileName: string;
  readonly filename: string;
  readonly export: boolean;
  readonly cache: boolean;
  readonly cacheRefreshWindow: number;
  readonly maxAttempts: number;
  readonly timeout: number;
  readonly debug: boolean;
  readonly trustPolicy: string;
  readonly parameter: string;
  readonly live: boolean;
  readonly format: TemplateFormat | 'text' | 'json';
  readonly projectPath: string;
  readonly providerHost: string;
  readonly withProvider: boolean;
  readonly ref: string;
  readonly refType: RefType;
  readonly audience: string;
}

export type OptionValue<K extends OptionKey> = OptionTypes[K];

/**
 * The options whose row must have a default value; the others are required, or their default is a
 * rule that `defaultText` describes.
 */
export type DefaultedKey =
  | 'webIdentityTokenName'
  | 'durationSeconds'
  | 'region'
  | 'profileName'
  | 'export'
  | 'cache'
  | 'cacheRefreshWindow'
  | 'maxAttempts'
  | 'timeout'
  | 'debug'
  | 'live'
  | 'providerHost'
  | 'withProvider'
  | 'ref'
  | 'refType';

type OptionRows = { readonly [K in OptionKey]: OptionSpec<OptionTypes[K]> & { readonly key: K } };
type OptionDefaults = { readonly [K in DefaultedKey]: { readonly defaultValue: OptionTypes[K] } };

/** The table by key, typed: `OPTION_TABLE.durationSeconds.parse` returns a number. */
const OPTION_TABLE: OptionRows & OptionDefaults = {
  awsAccount: {
    key: 'awsAccount',
    flag: '--aws-account',
    short: '-A',
    value: 'id',
    env: ['GITLAB_AWS_ACCOUNT_ID'],
    defaultText: 'required unless the role is a full ARN',
    description: 'AWS account id (12 digits) that holds the role',
    commands: EXCHANGING,
    parse: parseAccountId,
  },
  roleName: {
    key: 'roleName',
    flag: '--role-name',
    short: '-r',
    aliases: ['--role'],
    value: 'name|arn',
    env: ['GITLAB_AWS_ROLE_NAME'],
    defaultText: 'gitlab-$CI_PROJECT_PATH_SLUG, cut to 64 characters',
    description: 'IAM role to assume: a name (may include a path, e.g. ci/deployer) or a full role ARN',
    commands: [...EXCHANGING, 'role-template'],
    parse: parseRoleNameOrArn,
  },
  roleSessionName: {
    key: 'roleSessionName',
    flag: '--role-session-name',
    short: '-n',
    value: 'name',
    env: ['GITLAB_AWS_ROLE_SESSION_NAME'],
    defaultText: '<role name>-$CI_PIPELINE_ID, cut to 64 characters keeping the pipeline id',
    description: 'role session name, shown in CloudTrail and in the assumed-role ARN',
    commands: EXCHANGING,
    parse: parseSessionName,
  },
  webIdentityTokenName: {
    key: 'webIdentityTokenName',
    flag: '--web-identity-token-name',
    short: '-j',
    value: 'variable',
    env: ['GITLAB_AWS_IDENTITY_TOKEN_NAME'],
    description: 'name of the environment variable that holds the ID token (the `id_tokens:` entry)',
    commands: EXCHANGING,
    parse: parseEnvVarName,
    defaultValue: 'GITLAB_AWS_IDENTITY_TOKEN',
  },
  webIdentityTokenFile: {
    key: 'webIdentityTokenFile',
    flag: '--web-identity-token-file',
    value: 'path',
    env: ['GITLAB_AWS_IDENTITY_TOKEN_FILE'],
    defaultText: 'none',
    description: 'read the ID token from this file instead of an environment variable',
    commands: EXCHANGING,
    parse: parseFilePath('give the path of a file that holds the ID token'),
  },
  durationSeconds: {
    key: 'durationSeconds',
    flag: '--duration-seconds',
    short: '-d',
    value: 'seconds',
    env: ['GITLAB_AWS_DURATION_SECONDS'],
    description: `session length, ${MIN_SESSION_DURATION_SECONDS} to ${MAX_SESSION_DURATION_SECONDS} and at most the role’s maximum session duration`,
    commands: [...EXCHANGING, 'role-template'],
    parse: parseIntegerInRange(
      MIN_SESSION_DURATION_SECONDS,
      MAX_SESSION_DURATION_SECONDS,
      `STS accepts ${MIN_SESSION_DURATION_SECONDS} to ${MAX_SESSION_DURATION_SECONDS} seconds, and at most the role’s MaxSessionDuration`,
    ),
    defaultValue: 3600,
  },
  region: {
    key: 'region',
    flag: '--region',
    value: 'region',
    env: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
    description: 'region of the STS endpoint; also selects the partition (aws, aws-cn, aws-us-gov, …)',
    commands: EXCHANGING,
    parse: parseRegion,
    defaultValue: 'us-east-1',
  },
  endpointUrl: {
    key: 'endpointUrl',
    flag: '--endpoint-url',
    value: 'url',
    env: ['AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL'],
    defaultText: 'https://sts.<region>.<partition domain>',
    description: 'STS endpoint to call instead of the regional one',
    commands: EXCHANGING,
    parse: parseUrl,
  },
  profileName: {
    key: 'profileName',
    flag: '--name',
    short: '-p',
    value: 'profile',
    env: ['GITLAB_AWS_PROFILE'],
    description: 'profile (section) of the shared credentials file to write',
    commands: ['aws-profile'],
    parse: parseProfileName,
    defaultValue: 'default',
  },
  filename: {
    key: 'filename',
    flag: '--filename',
    short: '-f',
    value: 'path',
    env: [],
    defaultText: 'stdout',
    description: 'write the variables to this file (mode 0600) instead of stdout',
    commands: ['env'],
    parse: parseFilePath('give a file path, or omit --filename'),
  },
  export: {
    key: 'export',
    flag: '--export',
    short: '-e',
    env: [],
    description: 'prefix each line with `export ` for `eval` in a shell',
    commands: ['env'],
    parse: parseBoolean,
    defaultValue: false,
  },
  cache: {
    key: 'cache',
    flag: '--cache',
    env: ['GITLAB_AWS_CACHE'],
    description: 'reuse unexpired credentials from the encrypted cache (`--no-cache` turns it off)',
    commands: MODES,
    negatable: true,
    parse: parseBoolean,
    defaultValue: true,
  },
  cacheRefreshWindow: {
    key: 'cacheRefreshWindow',
    flag: '--cache-refresh-window',
    value: 'seconds',
    env: ['GITLAB_AWS_CACHE_REFRESH_WINDOW'],
    description: 'fetch new credentials when a cached set has less than this many seconds left',
    commands: MODES,
    parse: parseIntegerInRange(0, 3600, 'use 0 to 3600 seconds'),
    defaultValue: DEFAULT_CACHE_REFRESH_WINDOW_SECONDS,
  },
  maxAttempts: {
    key: 'maxAttempts',
    flag: '--max-attempts',
    value: 'n',
    env: ['GITLAB_AWS_MAX_ATTEMPTS'],
    description:
      'attempts at the STS call when it fails for a reason that can pass (throttling, 5xx, network)',
    commands: EXCHANGING,
    parse: parseIntegerInRange(1, 10, 'use 1 (no retries) to 10'),
    defaultValue: 5,
  },
  timeout: {
    key: 'timeout',
    flag: '--timeout',
    value: 'seconds',
    env: ['GITLAB_AWS_TIMEOUT'],
    description: 'time limit of one STS request, in seconds',
    commands: EXCHANGING,
    parse: parseIntegerInRange(1, 300, 'use 1 to 300 seconds'),
    defaultValue: 10,
  },
  debug: {
    key: 'debug',
    flag: '--debug',
    env: ['GITLAB_AWS_DEBUG'],
    description: 'explain each step on stderr (secrets redacted) and show stack traces',
    commands: ALL_COMMANDS,
    parse: parseBoolean,
    defaultValue: false,
  },
  trustPolicy: {
    key: 'trustPolicy',
    flag: '--trust-policy',
    value: 'file|-',
    env: [],
    defaultText: 'none',
    description:
      'evaluate this trust policy against the token: IAM JSON, `aws iam get-role` output, or a CloudFormation template (YAML or JSON); `-` reads stdin',
    commands: ['doctor'],
    parse: parseFilePath('give the path of the role’s template or policy, or - for stdin'),
  },
  parameter: {
    key: 'parameter',
    flag: '--parameter',
    value: 'Key=Value',
    env: [],
    defaultText: 'the template’s defaults',
    description: 'value of a CloudFormation template parameter; may be repeated',
    commands: ['doctor'],
    repeatable: true,
    parse: parseNonEmpty('Key=Value', 'give a template parameter as Key=Value'),
  },
  live: {
    key: 'live',
    flag: '--live',
    env: [],
    description: 'also exchange the token at STS (no cache) and call GetCallerIdentity with the result',
    commands: ['doctor'],
    parse: parseBoolean,
    defaultValue: false,
  },
  format: {
    key: 'format',
    flag: '--format',
    value: 'format',
    env: [],
    defaultText: 'text (doctor), cloudformation (role-template)',
    description: 'doctor: `text` or `json`; role-template: `cloudformation` or `terraform`',
    commands: ['doctor', 'role-template'],
    parse: parseFormat,
  },
  projectPath: {
    key: 'projectPath',
    flag: '--project-path',
    value: 'group/project',
    env: ['CI_PROJECT_PATH'],
    defaultText: 'required',
    description: 'GitLab project whose pipelines may assume the role',
    commands: ['role-template'],
    parse: parseProjectPath,
  },
  providerHost: {
    key: 'providerHost',
    flag: '--provider-host',
    value: 'host',
    env: ['CI_SERVER_HOST'],
    description:
      'the IAM OIDC provider: the token’s issuer without https:// (host, and path if the issuer has one)',
    commands: ['role-template'],
    parse: parseProviderHost,
    defaultValue: 'gitlab.com',
  },
  withProvider: {
    key: 'withProvider',
    flag: '--with-provider',
    env: [],
    description: 'also define the IAM OIDC identity provider (once per account and GitLab)',
    commands: ['role-template'],
    parse: parseBoolean,
    defaultValue: false,
  },
  ref: {
    key: 'ref',
    flag: '--ref',
    value: 'name|pattern',
    env: [],
    description: 'branch or tag the role trusts; `*` and `?` are wildcards (e.g. `release/*`)',
    commands: ['role-template'],
    parse: parsePolicyText('branch or tag name'),
    defaultValue: '*',
  },
  refType: {
    key: 'refType',
    flag: '--ref-type',
    value: 'branch|tag|any',
    env: [],
    description: 'whether --ref names a branch or a tag; `any` trusts both',
    commands: ['role-template'],
    parse: parseRefType,
    defaultValue: 'branch',
  },
  audience: {
    key: 'audience',
    flag: '--audience',
    value: 'aud',
    env: [],
    defaultText: 'https://<provider host>',
    description: 'the `aud:` of the job’s `id_tokens:` entry, required by the trust policy',
    commands: ['role-template'],
    parse: parsePolicyText('audience'),
  },
};

/**
 * The table in the order help and README show it; `defaultText` is filled from `defaultValue` when
 * the default is a value (`on`/`off` for switches), so that each default is written once.
 */
export const OPTIONS: readonly OptionSpec[] = Object.values(OPTION_TABLE).map((spec: OptionSpec) => {
  if (spec.defaultText !== undefined || spec.defaultValue === undefined) return spec;
  const value = spec.defaultValue;
  return { ...spec, defaultText: typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value) };
});

const ROWS: OptionRows = OPTION_TABLE;
const DEFAULTS: OptionDefaults = OPTION_TABLE;

export function optionSpec<K extends OptionKey>(key: K): OptionSpec<OptionValue<K>> {
  return ROWS[key];
}

/** The default value of an option that has one. */
export function defaultOf<K extends DefaultedKey>(key: K): OptionValue<K> {
  return DEFAULTS[key].defaultValue;
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
