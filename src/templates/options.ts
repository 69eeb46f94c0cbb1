/**
 * The settings of `role-template`, from flags and environment (flag > environment > default), each
 * checked by its parser in the option table so that the template can quote it without escaping: a
 * bad value is an error naming the flag or variable, never a template that IAM or Terraform would
 * reject later.
 */

import { isValidRoleName } from '../aws/names.js';
import { parseRoleArn } from '../aws/partitions.js';
import { defaultRoleName, slugifyProjectPath } from '../config/naming.js';
import type { TemplateFormat } from '../config/parse.js';
import { type FlagValues, ProblemCollector, type RawValue, rawValue } from '../config/resolve.js';
import type { Environment } from '../environment.js';
import { ConfigError } from '../errors.js';
import type { RoleTemplateInput } from './role.js';

export interface RoleTemplateOptions {
  readonly format: TemplateFormat;
  readonly input: RoleTemplateInput;
}

function invalid(raw: RawValue, expected: string, hint: string): ConfigError {
  return new ConfigError({
    code: 'InvalidValue',
    message: `${raw.source}: expected ${expected}, got ${JSON.stringify(raw.text)}`,
    hint,
  });
}

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

  const projectPath = collector.value('projectPath', flags, env);
  if (rawValue('projectPath', flags, env) === undefined) {
    collector.problems.push(
      new ConfigError({
        code: 'MissingProjectPath',
        message: 'no project: --project-path is not given and CI_PROJECT_PATH is not set',
        hint: 'pass --project-path my-group/my-project, or run it in a job of the project',
      }),
    );
  }
  const providerHost = collector.valueOrDefault('providerHost', flags, env);
  const ref = collector.valueOrDefault('ref', flags, env);
  const refType = collector.valueOrDefault('refType', flags, env);
  const audience = collector.value('audience', flags, env);
  const durationSeconds = collector.valueOrDefault('durationSeconds', flags, env);

  const slug = projectPath === undefined ? undefined : slugifyProjectPath(projectPath);
  const role = slug === undefined ? undefined : attempt(() => roleChoice(flags, env, slug));

  const withProvider = collector.valueOrDefault('withProvider', flags, env);
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
