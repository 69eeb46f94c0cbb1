/**
 * The settings of `role-template`, from flags and environment (flag > environment > default), each
 * checked so that the template can quote it without escaping: a bad value is an error naming the
 * flag or variable, never a template that IAM or Terraform would reject later.
 */

import { isValidRoleName } from '../aws/names.js';
import { parseRoleArn } from '../aws/partitions.js';
import { defaultRoleName, slugifyProjectPath } from '../config/naming.js';
import { parseIntegerInRange } from '../config/parse.js';
import {
  DEFAULT_DURATION_SECONDS,
  type FlagValues,
  ProblemCollector,
  type RawValue,
  rawValue,
} from '../config/resolve.js';
import type { Environment } from '../environment.js';
import { ConfigError } from '../errors.js';
import type { RefType, RoleTemplateInput, TemplateFormat } from './role.js';

export interface RoleTemplateOptions {
  readonly format: TemplateFormat;
  readonly input: RoleTemplateInput;
}

const DEFAULT_PROVIDER_HOST = 'gitlab.com';
const PROJECT_PATH = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+$/;
/** A host name, optionally with a path, as IAM names an OIDC provider (no scheme, port or query). */
const PROVIDER_HOST =
  /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(\/[A-Za-z0-9._~-]+)*$/;
/**
 * What a ref or an audience may hold: IAM policy characters (printable Latin-1), without the ones
 * CloudFormation's !Sub or HCL templates would read as syntax (`$ % { } " \`) and without spaces.
 */
const SAFE_VALUE = /^[\u0021-\u007e\u00a1-\u00ff]+$/;
const UNSAFE_CHARACTERS = /[$%{}"\\`]/;

function invalid(raw: RawValue, expected: string, hint: string): ConfigError {
  return new ConfigError({
    code: 'InvalidValue',
    message: `${raw.source}: expected ${expected}, got ${JSON.stringify(raw.text)}`,
    hint,
  });
}

function safeValue(raw: RawValue, what: string): string {
  const text = raw.text.trim();
  if (SAFE_VALUE.test(text) && !UNSAFE_CHARACTERS.test(text)) return text;
  throw invalid(
    raw,
    `${what} of printable characters without spaces or $ % { } " \\ \``,
    `give the ${what} as GitLab shows it; policies cannot hold those characters literally here`,
  );
}

const parseDuration = parseIntegerInRange(
  900,
  43200,
  'STS accepts 900 to 43200 seconds; the role gets a MaxSessionDuration of at least this',
);

function roleChoice(
  flags: FlagValues,
  env: Environment,
  slug: string,
): { name: string; path: string; isDefault: boolean } {
  const given = rawValue('roleName', flags, env);
  if (given === undefined) return { name: defaultRoleName(slug), path: '/', isDefault: true };
  const text = given.text.trim();
  if (text.startsWith('arn:')) {
    const arn = parseRoleArn(text);
    if (arn === undefined) {
      throw invalid(given, 'a role name or role ARN', 'give the role name, e.g. gitlab-my-group-my-project');
    }
    return { name: arn.roleName, path: arn.path, isDefault: false };
  }
  const withPath = text.replace(/^\/+/, '');
  const slash = withPath.lastIndexOf('/');
  const name = withPath.slice(slash + 1);
  const path = slash < 0 ? '/' : `/${withPath.slice(0, slash)}/`;
  if (!isValidRoleName(name) || !/^\/([\u0021-\u007e]+\/)*$/.test(path)) {
    throw invalid(
      given,
      'an IAM role name of 1 to 64 characters from [A-Za-z0-9+=,.@_-], optionally after a path like ci/',
      'use the name the helper assumes (leave --role-name out for gitlab-<project slug>)',
    );
  }
  return { name, path, isDefault: false };
}

/** Reads every setting; all problems are reported together. */
export function resolveRoleTemplateOptions(flags: FlagValues, env: Environment): RoleTemplateOptions {
  const collector = new ProblemCollector();
  const attempt = <T>(read: () => T): T | undefined => collector.attempt(read);

  const formatRaw = rawValue('format', flags, env);
  const format = attempt((): TemplateFormat => {
    const text = formatRaw?.text.trim() ?? 'cloudformation';
    if (text === 'cloudformation' || text === 'terraform') return text;
    throw invalid(
      formatRaw ?? { text, source: '--format' },
      'cloudformation or terraform',
      'use --format cloudformation or --format terraform',
    );
  });

  const projectRaw = rawValue('projectPath', flags, env);
  const projectPath = attempt(() => {
    if (projectRaw === undefined) {
      throw new ConfigError({
        code: 'MissingProjectPath',
        message: 'no project: --project-path is not given and CI_PROJECT_PATH is not set',
        hint: 'pass --project-path my-group/my-project, or run it in a job of the project',
      });
    }
    const text = projectRaw.text.trim().replace(/\/+$/, '');
    if (PROJECT_PATH.test(text)) return text;
    throw invalid(
      projectRaw,
      'a GitLab project path like my-group/my-project',
      'give the path as in the project URL, without the host',
    );
  });

  const hostRaw = rawValue('providerHost', flags, env);
  const providerHost = attempt(() => {
    if (hostRaw === undefined) return DEFAULT_PROVIDER_HOST;
    const text = hostRaw.text.trim();
    if (PROVIDER_HOST.test(text)) return text;
    throw invalid(
      hostRaw,
      'the issuer host without https://, port or trailing slash, like gitlab.example.com',
      'give the token’s iss without https:// (doctor shows it)',
    );
  });

  const refRaw = rawValue('ref', flags, env);
  const ref = attempt(() => (refRaw === undefined ? '*' : safeValue(refRaw, 'branch or tag name')));

  const refTypeRaw = rawValue('refType', flags, env);
  const refType = attempt((): RefType => {
    const text = refTypeRaw?.text.trim() ?? 'branch';
    if (text === 'branch' || text === 'tag' || text === 'any') return text;
    throw invalid(
      refTypeRaw ?? { text, source: '--ref-type' },
      'branch, tag or any',
      'use --ref-type branch, tag or any',
    );
  });

  const audienceRaw = rawValue('audience', flags, env);
  const audience = attempt(() =>
    audienceRaw === undefined ? undefined : safeValue(audienceRaw, 'audience'),
  );

  const durationSeconds = attempt(() => {
    const raw = rawValue('durationSeconds', flags, env);
    return raw === undefined ? DEFAULT_DURATION_SECONDS : parseDuration(raw.text, raw.source);
  });

  const slug = projectPath === undefined ? undefined : slugifyProjectPath(projectPath);
  const role = slug === undefined ? undefined : attempt(() => roleChoice(flags, env, slug));

  const withProvider = flags.withProvider === true;
  collector.throwIfAny();
  if (
    format === undefined ||
    projectPath === undefined ||
    slug === undefined ||
    role === undefined ||
    providerHost === undefined ||
    ref === undefined ||
    refType === undefined ||
    durationSeconds === undefined
  ) {
    throw new Error('role-template options resolved without a value but no problem was recorded');
  }
  return {
    format,
    input: {
      projectPath,
      projectSlug: slug,
      providerHost,
      roleName: role.name,
      rolePath: role.path,
      roleNameIsDefault: role.isDefault,
      ref,
      refType,
      audience: audience ?? `https://${providerHost}`,
      durationSeconds,
      withProvider,
    },
  };
}
