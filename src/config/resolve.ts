/**
 * Turns flags and environment into validated settings: precedence flag > environment > default,
 * every problem collected and reported together, nothing read from disk or network.
 */

import {
  roleArn as buildRoleArn,
  type Partition,
  parseRoleArn,
  partitionForRegion,
  stsEndpointForRegion,
} from '../aws/partitions.js';
import type { Environment } from '../environment.js';
import { ConfigError } from '../errors.js';
import type { TokenSource } from '../token/read.js';
import { defaultRoleName, defaultSessionName, slugifyProjectPath } from './naming.js';
import {
  type CommandName,
  type DefaultedKey,
  defaultOf,
  type OptionKey,
  type OptionValue,
  optionSpec,
} from './options.js';
import { parseBoolean } from './parse.js';

/** A repeatable flag (`--parameter`) keeps every value, in order. */
export type FlagValues = Partial<Record<OptionKey, string | boolean | readonly string[]>>;

export interface Settings {
  readonly accountId: string;
  readonly roleArn: string;
  /** The role's name without its path, as IAM names it. */
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

  /** The option's value parsed by its own parser; `undefined` when not given or not valid (recorded). */
  value<K extends OptionKey>(key: K, flags: FlagValues, env: Environment): OptionValue<K> | undefined {
    const raw = rawValue(key, flags, env);
    if (raw === undefined) return undefined;
    return this.attempt(() => optionSpec(key).parse(raw.text, raw.source));
  }

  /** The option's value, or its default from the table. */
  valueOrDefault<K extends DefaultedKey>(key: K, flags: FlagValues, env: Environment): OptionValue<K> {
    return this.value(key, flags, env) ?? defaultOf(key);
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
  const raw = rawValue('roleName', flags, env);
  const given = collector.value('roleName', flags, env);
  if (raw !== undefined && given === undefined) return undefined;
  if (raw !== undefined && given?.kind === 'arn') {
    const { parsed, arn } = given;
    if (parsed.partition !== partition.id) {
      collector.problems.push(
        new ConfigError({
          code: 'PartitionMismatch',
          message: `${raw.source} is in partition ${parsed.partition} but the region selects partition ${partition.id}`,
          hint: `set --region (or AWS_REGION) to a region of ${parsed.partition}`,
        }),
      );
      return undefined;
    }
    const accountSource = rawValue('awsAccount', flags, env)?.source;
    if (account === undefined || accountSource === undefined || account === parsed.accountId) {
      return { roleArn: arn, roleName: parsed.roleName, accountId: parsed.accountId };
    }
    // The two disagree. A flag never loses to the environment: `--role-name arn:…` overrides a
    // group-level GITLAB_AWS_ACCOUNT_ID, and `--aws-account` moves a GITLAB_AWS_ROLE_NAME ARN's role
    // to its account. At the same level nothing says which one is meant.
    const arnIsFlag = isFlag(raw.source);
    if (arnIsFlag === isFlag(accountSource)) {
      collector.problems.push(
        new ConfigError({
          code: 'AccountMismatch',
          message: `${raw.source} names account ${parsed.accountId} but ${accountSource} sets account ${account}`,
          hint: 'give either the full role ARN or the account id with a role name, not both with different accounts',
        }),
      );
      return undefined;
    }
    if (arnIsFlag) return { roleArn: arn, roleName: parsed.roleName, accountId: parsed.accountId };
    const moved = buildRoleArn(partition, account, `${parsed.path.replace(/^\/+/, '')}${parsed.roleName}`);
    return { roleArn: moved, roleName: parsed.roleName, accountId: account };
  }

  let roleNameWithPath: string;
  if (given?.kind === 'name') {
    roleNameWithPath = given.nameWithPath;
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
  const source = raw?.source ?? 'the default role name';
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
    const url = collector.attempt(() => optionSpec('endpointUrl').parse(given.text, given.source));
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
function resolveRegion(collector: ProblemCollector, flags: FlagValues, env: Environment): string {
  const given = collector.value('region', flags, env);
  if (given !== undefined) return given;
  const fallback = defaultOf('region');
  const role = rawValue('roleName', flags, env)?.text.trim();
  const partition = role?.startsWith('arn:') ? parseRoleArn(role)?.partition : undefined;
  if (partition === undefined || partition === 'aws') return fallback;
  const home = partitionForRegion(`${partition}-global`);
  return home.id === partition ? home.implicitGlobalRegion : fallback;
}

function resolveTokenSource(
  collector: ProblemCollector,
  flags: FlagValues,
  env: Environment,
): { source: TokenSource; variable: string } {
  const variable = collector.valueOrDefault('webIdentityTokenName', flags, env);
  const path = collector.value('webIdentityTokenFile', flags, env);
  return { source: path === undefined ? { kind: 'env', name: variable } : { kind: 'file', path }, variable };
}

function resolveSessionName(
  collector: ProblemCollector,
  flags: FlagValues,
  env: Environment,
  roleName: string | undefined,
): string {
  if (rawValue('roleSessionName', flags, env) !== undefined) {
    return collector.value('roleSessionName', flags, env) ?? '';
  }
  return roleName === undefined ? '' : defaultSessionName(roleName, env.CI_PIPELINE_ID);
}

export function resolveSettings(command: CommandName, flags: FlagValues, env: Environment): Settings {
  const collector = new ProblemCollector();
  const account = collector.value('awsAccount', flags, env);
  const region = resolveRegion(collector, flags, env);
  const partition = partitionForRegion(region);
  const role = resolveRole(collector, flags, env, account, partition);
  const roleSessionName = resolveSessionName(collector, flags, env, role?.roleName);
  const token = resolveTokenSource(collector, flags, env);
  const durationSeconds = collector.valueOrDefault('durationSeconds', flags, env);
  const endpoint = resolveEndpoint(collector, flags, env, region);
  // Options of other commands are not read: their variables may be set for another step of the job.
  const profileName =
    command === 'aws-profile'
      ? collector.valueOrDefault('profileName', flags, env)
      : defaultOf('profileName');
  const filename = command === 'env' ? collector.value('filename', flags, env) : undefined;
  const exportPrefix =
    command === 'env' ? collector.valueOrDefault('export', flags, env) : defaultOf('export');
  const cacheEnabled = collector.valueOrDefault('cache', flags, env);
  const refreshWindowSeconds = collector.valueOrDefault('cacheRefreshWindow', flags, env);
  const maxAttempts = collector.valueOrDefault('maxAttempts', flags, env);
  const timeoutSeconds = collector.valueOrDefault('timeout', flags, env);
  // Read by the CLI before the settings (to show how they fail); checked here with the others.
  collector.value('debug', flags, env);

  collector.throwIfAny();
  if (role === undefined || endpoint === undefined) {
    throw new Error('settings resolved without a role or endpoint but no problem was recorded');
  }
  return {
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
  };
}
