/**
 * What `doctor --trust-policy` reads: an IAM trust policy (JSON, or YAML), the output of
 * `aws iam get-role` (JSON), or a CloudFormation template (YAML or JSON) whose role is resolved.
 * Pure: the caller reads the file.
 */

import { DEFAULT_ROLE_MAX_SESSION_DURATION_SECONDS } from '../aws/durations.js';
import { ConfigError } from '../errors.js';
import { isRecord } from '../json.js';
import { parseTemplateYaml, roleFromTemplate, type TemplateContext } from './cloudformation.js';

export type TrustPolicyKind = 'iam-policy' | 'get-role' | 'cloudformation';

export interface LoadedTrustPolicy {
  readonly kind: TrustPolicyKind;
  /** The policy document, not yet validated (evaluation validates it). */
  readonly policy: unknown;
  /** What the source says about the role itself, where it says anything. */
  readonly role:
    | {
        readonly logicalId: string | undefined;
        readonly roleName: string | undefined;
        readonly path: string;
        readonly maxSessionDuration: number;
      }
    | undefined;
}

function loadError(message: string, hint: string): ConfigError {
  return new ConfigError({ code: 'InvalidTrustPolicy', message, hint });
}

function parseText(text: string, name: string): unknown {
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw loadError(
        `${name} is not valid JSON (${reason})`,
        'check the file; JSON must be complete and without comments',
      );
    }
  }
  return parseTemplateYaml(text, name);
}

/** IAM returns the document URL-encoded; the AWS CLI decodes it, other tools may not. */
function policyOfGetRole(document: unknown, name: string): unknown {
  if (typeof document !== 'string') return document;
  try {
    return JSON.parse(decodeURIComponent(document));
  } catch {
    throw loadError(
      `${name}: Role.AssumeRolePolicyDocument is not a JSON policy`,
      'give the output of aws iam get-role',
    );
  }
}

export function loadTrustPolicy(text: string, name: string, context: TemplateContext): LoadedTrustPolicy {
  const document = parseText(text, name);
  if (!isRecord(document)) {
    throw loadError(
      `${name} holds no object`,
      'give an IAM trust policy, `aws iam get-role` output or a CloudFormation template',
    );
  }
  const template = 'Resources' in document || 'AWSTemplateFormatVersion' in document;
  if (!template && context.parameters.size > 0) {
    throw loadError(
      `--parameter applies to CloudFormation templates, and ${name} is not one`,
      'leave out --parameter',
    );
  }
  if (template) {
    const role = roleFromTemplate(document, context);
    return {
      kind: 'cloudformation',
      policy: role.trustPolicy,
      role: {
        logicalId: role.logicalId,
        roleName: role.roleName,
        path: role.path,
        maxSessionDuration: role.maxSessionDuration,
      },
    };
  }
  if (isRecord(document.Role) && 'AssumeRolePolicyDocument' in document.Role) {
    const role = document.Role;
    return {
      kind: 'get-role',
      policy: policyOfGetRole(role.AssumeRolePolicyDocument, name),
      role: {
        logicalId: undefined,
        roleName: typeof role.RoleName === 'string' ? role.RoleName : undefined,
        path: typeof role.Path === 'string' ? role.Path : '/',
        maxSessionDuration:
          typeof role.MaxSessionDuration === 'number'
            ? role.MaxSessionDuration
            : DEFAULT_ROLE_MAX_SESSION_DURATION_SECONDS,
      },
    };
  }
  if ('Statement' in document) return { kind: 'iam-policy', policy: document, role: undefined };
  throw loadError(
    `${name} is neither a trust policy (no Statement), nor \`aws iam get-role\` output (no Role), nor a CloudFormation template (no Resources)`,
    'give the role’s trust policy, e.g. aws iam get-role --role-name <role> > role.json',
  );
}

/** `--parameter Key=Value`, every one; a repeated key keeps its last value. */
export function parseTemplateParameters(values: readonly string[]): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const value of values) {
    const equals = value.indexOf('=');
    const key = value.slice(0, Math.max(equals, 0));
    if (equals < 1 || !/^[A-Za-z0-9]+$/.test(key)) {
      throw new ConfigError({
        code: 'InvalidValue',
        message: `--parameter: expected Key=Value with an alphanumeric key, got ${JSON.stringify(value)}`,
        hint: 'write --parameter RepositoryPath=my-group/my-project, once per parameter',
      });
    }
    parameters.set(key, value.slice(equals + 1));
  }
  return parameters;
}
