/**
 * Turns flags and environment into validated settings: precedence flag > environment > default,
 * every problem collected and reported together, nothing read from disk or network.
 */

import { isValidRoleName, isValidSessionName } from '../aws/names.js';
import {
  roleArn as buildRoleArn,
  isValidRegion,
  type Partition,
  parseRoleArn,
  partitionForRegion,
  stsEndpointForRegion,
} from '../aws/partitions.js';
import { DEFAULT_CACHE_REFRESH_WINDOW_SECONDS } from '../cache/freshness.js';
import type { Environment } from '../environment.js';
import { ConfigError } from '../errors.js';
import type { TokenSource } from '../token/read.js';
import { defaultRoleName, defaultSessionName, slugifyProjectPath } from './naming.js';
import { type CommandName, type OptionKey, optionSpec } from './options.js';
import {
  type Parser,
  parseAccountId,
  parseBoolean,
  parseEnvVarName,
  parseIntegerInRange,
  parseNonEmpty,
  parseProfileName,
  parseUrl,
} from './parse.js';

/** A repeatable flag (`--parameter`) keeps every value, in order. */
export type FlagValues = Partial<Record<OptionKey, string | boolean | readonly string[]>>;

export const DEFAULT_TOKEN_VARIABLE = 'GITLAB_AWS_IDENTITY_TOKEN';
export const DEFAULT_DURATION_SECONDS = 3600;
export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_TIMEOUT_SECONDS = 10;

export interface Settings {
  readonly command: CommandName;
  readonly accountId: string;
  readonly roleArn: string;
  readonly roleName: string;
  readonly roleSessionName: string;
  readonly tokenSource: TokenSource;
  /**
   * The job's `id_tokens:` variable, also when the token is read from a file: it holds the token
   * all the same, and `env --` keeps it from the command.
   */
  readonly tokenVariable: string;
  readonly durationSeconds: number;
  readonly region: string;
  readonly partition: Partition;
  /** The STS endpoint to call. */
  readonly endpoint: string;
  /** The flag or variable the endpoint came from; `undefined` when it follows from the region. */
  readonly endpointSource: string | undefined;
  readonly profileName: string;
  readonly filename: string | undefined;
  readonly exportPrefix: boolean;
  /**
   * `reuse`: only `process` takes credentials from the cache. Its consumers (AWS CLI, SDKs) call it
   * again before expiry; a profile or exported variables are never renewed, so `aws-profile` and
   * `env` always hand over a new full-length set (and store it for later `process` calls).
   */
  readonly cache: {
    readonly enabled: boolean;
    readonly reuse: boolean;
    readonly refreshWindowSeconds: number;
  };
  readonly maxAttempts: number;
  readonly timeoutMs: number;
  readonly debug: boolean;
}

export interface RawValue {
  readonly text: string;
  /** Flag or variable the value came from, for error messages. */
  readonly source: string;
}

/** True when a value's source is a flag (`--aws-account`), false for an environment variable. */
function isFlag(source: string): boolean {
  return source.startsWith('-');
}

/** The text of a setting and where it came from (flag, else the first variable set), unparsed. */
export function rawValue(
  key: OptionKey,
  flags: FlagValues,
  env: Environment,
  ignoreEnv = false,
): RawValue | undefined {
  const spec = optionSpec(key);
  const flagValue = flags[key];
  if (flagValue !== undefined) {
    const text =
      typeof flagValue === 'string'
        ? flagValue
        : Array.isArray(flagValue)
          ? flagValue.at(-1)
          : String(flagValue);
    return { text: text ?? '', source: spec.flag };
  }
  if (ignoreEnv) return undefined;
  for (const name of spec.env) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return { text: value, source: name };
  }
  return undefined;
}

/** Collects every ConfigError of a resolution, so that all are reported at once. */
export class ProblemCollector {
  readonly problems: ConfigError[] = [];

  attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      if (error instanceof ConfigError) {
        this.problems.push(error);
        return undefined;
      }
      throw error;
    }
  }

  value<T>(key: OptionKey, flags: FlagValues, env: Environment, parse: Parser<T>): T | undefined {
    const raw = rawValue(key, flags, env);
    if (raw === undefined) return undefined;
    return this.attempt(() => parse(raw.text, raw.source));
  }

  throwIfAny(): void {
    const [first, ...rest] = this.problems;
    if (first === undefined) return;
    if (rest.length === 0) throw first;
    throw new ConfigError({
      code: 'InvalidSettings',
      message: `${this.problems.length} problems: ${this.problems.map((problem) => problem.message).join('; ')}`,
      hint: this.problems
        .map((problem) => problem.hint)
        .filter((hint) => hint !== undefined)
        .join('; '),
    });
  }
}

const parseDuration = parseIntegerInRange(
  900,
  43200,
  'STS accepts 900 to 43200 seconds, and at most the role’s MaxSessionDuration',
);
const parseMaxAttempts = parseIntegerInRange(1, 10, 'use 1 (no retries) to 10');
const parseTimeout = parseIntegerInRange(1, 300, 'use 1 to 300 seconds');
const parseRefreshWindow = parseIntegerInRange(0, 3600, 'use 0 to 3600 seconds');

interface RoleChoice {
  readonly roleArn: string;
  readonly roleName: string;
  readonly accountId: string;
}

function resolveRole(
  collector: ProblemCollector,
  flags: FlagValues,
  env: Environment,
  account: string | undefined,
  partition: Partition,
): RoleChoice | undefined {
  const given = rawValue('roleName', flags, env);
  if (given?.text.trim().startsWith('arn:')) {
    const parsed = parseRoleArn(given.text.trim());
    if (parsed === undefined) {
      collector.problems.push(
        new ConfigError({
          code: 'InvalidRoleArn',
          message: `${given.source}: expected a role ARN like arn:aws:iam::123456789012:role/name, got ${JSON.stringify(given.text)}`,
          hint: 'copy the role ARN from the IAM console, or give only the role name with --aws-account',
        }),
      );
      return undefined;
    }
    if (parsed.partition !== partition.id) {
      collector.problems.push(
        new ConfigError({
          code: 'PartitionMismatch',
          message: `${given.source} is in partition ${parsed.partition} but the region selects partition ${partition.id}`,
          hint: `set --region (or AWS_REGION) to a region of ${parsed.partition}`,
        }),
      );
      return undefined;
    }
    const accountSource = rawValue('awsAccount', flags, env)?.source;
    if (account === undefined || accountSource === undefined || account === parsed.accountId) {
      return { roleArn: given.text.trim(), roleName: parsed.roleName, accountId: parsed.accountId };
    }
    // The two disagree. A flag never loses to the environment: `--role-name arn:…` overrides a
    // group-level GITLAB_AWS_ACCOUNT_ID, and `--aws-account` moves a GITLAB_AWS_ROLE_NAME ARN's role
    // to its account. At the same level nothing says which one is meant.
    const arnIsFlag = isFlag(given.source);
    if (arnIsFlag === isFlag(accountSource)) {
      collector.problems.push(
        new ConfigError({
          code: 'AccountMismatch',
          message: `${given.source} names account ${parsed.accountId} but ${accountSource} sets account ${account}`,
          hint: 'give either the full role ARN or the account id with a role name, not both with different accounts',
        }),
      );
      return undefined;
    }
    if (arnIsFlag) {
      return { roleArn: given.text.trim(), roleName: parsed.roleName, accountId: parsed.accountId };
    }
    const roleArn = buildRoleArn(partition, account, `${parsed.path.replace(/^\/+/, '')}${parsed.roleName}`);
    return { roleArn, roleName: parsed.roleName, accountId: account };
  }

  let roleNameWithPath: string | undefined;
  if (given !== undefined) {
    roleNameWithPath = given.text.trim().replace(/^\/+/, '');
    const name = roleNameWithPath.slice(roleNameWithPath.lastIndexOf('/') + 1);
    const path = roleNameWithPath.slice(0, roleNameWithPath.lastIndexOf('/') + 1);
    if (!isValidRoleName(name) || !/^[\u0021-\u007e]*$/.test(path)) {
      collector.problems.push(
        new ConfigError({
          code: 'InvalidRoleName',
          message: `${given.source}: expected an IAM role name of 1 to 64 characters from [A-Za-z0-9+=,.@_-], optionally after a path like ci/, got ${JSON.stringify(given.text)}`,
          hint: 'use the role name as IAM shows it, or a full role ARN',
        }),
      );
      return undefined;
    }
  } else {
    const slug = projectSlug(env)?.slug ?? '';
    if (slug === '') {
      collector.problems.push(
        new ConfigError({
          code: 'MissingRoleName',
          message: 'no role name: --role-name is not given and CI_PROJECT_PATH_SLUG is not set',
          hint: 'run inside a GitLab CI/CD job (which sets CI_PROJECT_PATH_SLUG), or pass --role-name',
        }),
      );
      return undefined;
    }
    roleNameWithPath = defaultRoleName(slug);
  }

  if (account === undefined) {
    if (rawValue('awsAccount', flags, env) === undefined) {
      collector.problems.push(
        new ConfigError({
          code: 'MissingAccount',
          message: 'no AWS account: GITLAB_AWS_ACCOUNT_ID is not set and --aws-account is not given',
          hint: 'set the CI/CD variable GITLAB_AWS_ACCOUNT_ID to the 12-digit account id, or pass --aws-account, or give --role-name as a full role ARN',
        }),
      );
    }
    return undefined;
  }
  const name = roleNameWithPath.slice(roleNameWithPath.lastIndexOf('/') + 1);
  const source = given?.source ?? 'the default role name';
  const arn = collector.attempt(() => {
    try {
      return buildRoleArn(partition, account, roleNameWithPath);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new ConfigError({
        code: 'InvalidRoleName',
        message: `${source}: ${error.message.replace(/^./, (first) => first.toLowerCase())}`,
        hint: error.hint ?? 'use the role name as IAM shows it, or a full role ARN',
      });
    }
  });
  return arn === undefined ? undefined : { roleArn: arn, roleName: name, accountId: account };
}

/** The project's slug for the default role name: CI_PROJECT_PATH_SLUG, else the slug of CI_PROJECT_PATH. */
export function projectSlug(env: Environment): { slug: string; source: string } | undefined {
  const given = env.CI_PROJECT_PATH_SLUG?.trim();
  if (given) return { slug: given, source: 'CI_PROJECT_PATH_SLUG' };
  const slug = slugifyProjectPath(env.CI_PROJECT_PATH?.trim() ?? '');
  return slug === '' ? undefined : { slug, source: 'CI_PROJECT_PATH' };
}

/** A boolean AWS variable, parsed as strictly as our own settings (AWS tools accept true/false). */
function awsSwitch(collector: ProblemCollector, env: Environment, name: string): boolean {
  const value = env[name];
  if (value === undefined || value.trim() === '') return false;
  return collector.attempt(() => parseBoolean(value, name)) ?? false;
}

function resolveEndpoint(
  collector: ProblemCollector,
  flags: FlagValues,
  env: Environment,
  region: string,
): { endpoint: string; source: string | undefined } | undefined {
  const ignoreEnv = awsSwitch(collector, env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS');
  const given = rawValue('endpointUrl', flags, env, ignoreEnv);
  if (given !== undefined) {
    const url = collector.attempt(() => parseUrl(given.text, given.source));
    return url === undefined ? undefined : { endpoint: url, source: given.source };
  }
  const useFips = awsSwitch(collector, env, 'AWS_USE_FIPS_ENDPOINT');
  const useDualStack = awsSwitch(collector, env, 'AWS_USE_DUALSTACK_ENDPOINT');
  const endpoint = collector.attempt(() => stsEndpointForRegion(region, { useFips, useDualStack }));
  return endpoint === undefined ? undefined : { endpoint, source: undefined };
}

/**
 * Without a region, a role ARN of another partition (arn:aws-cn:…, arn:aws-us-gov:…) selects that
 * partition's home region, as the default region could only lead to a partition mismatch.
 */
function defaultRegion(flags: FlagValues, env: Environment): string {
  const role = rawValue('roleName', flags, env)?.text.trim();
  const partition = role?.startsWith('arn:') ? parseRoleArn(role)?.partition : undefined;
  if (partition === undefined || partition === 'aws') return DEFAULT_REGION;
  const home = partitionForRegion(`${partition}-global`);
  return home.id === partition ? home.implicitGlobalRegion : DEFAULT_REGION;
}

function resolveRegion(collector: ProblemCollector, flags: FlagValues, env: Environment): string {
  const given = rawValue('region', flags, env);
  if (given === undefined) return defaultRegion(flags, env);
  const region = given.text.trim();
  if (isValidRegion(region)) return region;
  collector.problems.push(
    new ConfigError({
      code: 'InvalidRegion',
      message: `${given.source}: expected an AWS region such as eu-west-1, got ${JSON.stringify(given.text)}`,
      hint: 'use a region code (eu-west-1, us-gov-west-1, cn-north-1), not a name or an availability zone',
    }),
  );
  return DEFAULT_REGION;
}

function resolveTokenSource(
  collector: ProblemCollector,
  flags: FlagValues,
  env: Environment,
): { source: TokenSource; variable: string } {
  const variable =
    collector.value('webIdentityTokenName', flags, env, parseEnvVarName) ?? DEFAULT_TOKEN_VARIABLE;
  const file = rawValue('webIdentityTokenFile', flags, env);
  if (file !== undefined) {
    const path = collector.attempt(() =>
      parseNonEmpty('a file path', 'give the path of a file that holds the ID token')(file.text, file.source),
    );
    if (path !== undefined) return { source: { kind: 'file', path }, variable };
  }
  return { source: { kind: 'env', name: variable }, variable };
}

function resolveSessionName(
  collector: ProblemCollector,
  flags: FlagValues,
  env: Environment,
  roleName: string | undefined,
): string {
  const given = rawValue('roleSessionName', flags, env);
  if (given !== undefined) {
    const name = given.text.trim();
    if (isValidSessionName(name)) return name;
    collector.problems.push(
      new ConfigError({
        code: 'InvalidRoleSessionName',
        message: `${given.source}: expected 2 to 64 characters from [A-Za-z0-9+=,.@_-], got ${JSON.stringify(given.text)}`,
        hint: 'leave it unset to get <role name>-$CI_PIPELINE_ID, or use only letters, digits and +=,.@_-',
      }),
    );
    return '';
  }
  return roleName === undefined ? '' : defaultSessionName(roleName, env.CI_PIPELINE_ID);
}

export function resolveSettings(command: CommandName, flags: FlagValues, env: Environment): Settings {
  const collector = new ProblemCollector();
  const account = collector.value('awsAccount', flags, env, parseAccountId);
  const region = resolveRegion(collector, flags, env);
  const partition = partitionForRegion(region);
  const role = resolveRole(collector, flags, env, account, partition);
  const roleSessionName = resolveSessionName(collector, flags, env, role?.roleName);
  const token = resolveTokenSource(collector, flags, env);
  const durationSeconds =
    collector.value('durationSeconds', flags, env, parseDuration) ?? DEFAULT_DURATION_SECONDS;
  const endpoint = resolveEndpoint(collector, flags, env, region);
  const profileName =
    command === 'aws-profile'
      ? (collector.value('profileName', flags, env, parseProfileName) ?? 'default')
      : 'default';
  const filename =
    command === 'env'
      ? collector.value(
          'filename',
          flags,
          env,
          parseNonEmpty('a file path', 'give a file path, or omit --filename'),
        )
      : undefined;
  const exportPrefix =
    command === 'env' ? (collector.value('export', flags, env, parseBoolean) ?? false) : false;
  const cacheEnabled = collector.value('cache', flags, env, parseBoolean) ?? true;
  const refreshWindowSeconds =
    collector.value('cacheRefreshWindow', flags, env, parseRefreshWindow) ??
    DEFAULT_CACHE_REFRESH_WINDOW_SECONDS;
  const maxAttempts = collector.value('maxAttempts', flags, env, parseMaxAttempts) ?? DEFAULT_MAX_ATTEMPTS;
  const timeoutSeconds = collector.value('timeout', flags, env, parseTimeout) ?? DEFAULT_TIMEOUT_SECONDS;
  const debug = collector.value('debug', flags, env, parseBoolean) ?? false;

  collector.throwIfAny();
  if (role === undefined || endpoint === undefined) {
    throw new Error('settings resolved without a role or endpoint but no problem was recorded');
  }
  return {
    command,
    accountId: role.accountId,
    roleArn: role.roleArn,
    roleName: role.roleName,
    roleSessionName,
    tokenSource: token.source,
    tokenVariable: token.variable,
    durationSeconds,
    region,
    partition,
    endpoint: endpoint.endpoint,
    endpointSource: endpoint.source,
    profileName,
    filename,
    exportPrefix,
    cache: { enabled: cacheEnabled, reuse: command === 'process', refreshWindowSeconds },
    maxAttempts,
    timeoutMs: timeoutSeconds * 1000,
    debug,
  };
}
