/**
 * The IAM side of a project's pipelines, as text: the role the helper will assume (named by the same
 * code as the helper), its trust policy and, optionally, the OIDC provider. Pure: no I/O, no clock.
 */

import { DEFAULT_ROLE_MAX_SESSION_DURATION_SECONDS } from '../aws/durations.js';
import { MAX_ROLE_NAME_LENGTH } from '../aws/names.js';
import { ROLE_NAME_PREFIX } from '../config/naming.js';
import type { RefType, TemplateFormat } from '../config/parse.js';

export interface RoleTemplateInput {
  /** `my-group/my-project`. */
  readonly projectPath: string;
  /** CI_PROJECT_PATH_SLUG of the project, from the same slugify as GitLab's. */
  readonly projectSlug: string;
  /** The issuer without `https://`: the provider's name in IAM and the prefix of its condition keys. */
  readonly providerHost: string;
  readonly roleName: string;
  /** `/` or `/ci/`. */
  readonly rolePath: string;
  /** True when the name is the helper's default (`gitlab-<slug>`, cut to 64 characters). */
  readonly roleNameIsDefault: boolean;
  /** Branch or tag name; `*` and `?` are wildcards. */
  readonly ref: string;
  readonly refType: RefType;
  readonly audience: string;
  /** The session length the pipeline asks for; the role's maximum is at least this (and IAM's default). */
  readonly durationSeconds: number;
  readonly withProvider: boolean;
}

export function maxSessionDuration(input: RoleTemplateInput): number {
  return Math.max(DEFAULT_ROLE_MAX_SESSION_DURATION_SECONDS, input.durationSeconds);
}

function hasWildcard(value: string): boolean {
  return /[*?]/.test(value);
}

/** The `sub` the role trusts, with the operator that compares it as meant. */
export function subCondition(input: RoleTemplateInput): {
  readonly operator: 'StringEquals' | 'StringLike';
  readonly value: string;
} {
  const refType = input.refType === 'any' ? '*' : input.refType;
  const value = `project_path:${input.projectPath}:ref_type:${refType}:ref:${input.ref}`;
  return { operator: hasWildcard(value) ? 'StringLike' : 'StringEquals', value };
}

function shellWord(value: string): string {
  return /^[A-Za-z0-9_./:=@,+-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

/** The command that makes this template again, for its header. */
export function commandLineFor(format: TemplateFormat, input: RoleTemplateInput): string {
  const words = [
    'gitlab-aws-credential-helper role-template',
    `--format ${format}`,
    `--project-path ${shellWord(input.projectPath)}`,
    `--provider-host ${shellWord(input.providerHost)}`,
    ...(input.roleNameIsDefault
      ? []
      : [`--role-name ${shellWord(`${input.rolePath.slice(1)}${input.roleName}`)}`]),
    `--ref-type ${input.refType}`,
    `--ref ${shellWord(input.ref)}`,
    `--audience ${shellWord(input.audience)}`,
    `--duration-seconds ${input.durationSeconds}`,
    ...(input.withProvider ? ['--with-provider'] : []),
  ];
  return words.join(' ');
}

/** What the template admits, in words, for its header. */
function describeTrust(input: RoleTemplateInput): string {
  const kind = input.refType === 'any' ? 'branch or tag' : input.refType;
  const which =
    input.ref === '*'
      ? `any ${kind}`
      : hasWildcard(input.ref)
        ? `any ${kind} matching ${input.ref}`
        : `${kind} ${input.ref}`;
  return `pipelines of ${input.projectPath} on ${which}, with ID tokens for audience ${input.audience}`;
}

// ---------------------------------------------------------------------------------------------
// CloudFormation (YAML)

/** A YAML scalar in single quotes: nothing inside is special but the quote itself. */
function yamlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Inside `!Sub`, `${` starts a reference; a literal one is written `${!`. */
function subLiteral(value: string): string {
  return value.replaceAll('${', '${!');
}

function cloudFormationRoleName(input: RoleTemplateInput): { line: string; usesSlug: boolean } {
  const sluggedName = `${ROLE_NAME_PREFIX}${input.projectSlug}`;
  if (input.roleNameIsDefault && sluggedName === input.roleName) {
    return {
      line: `RoleName: !Sub ${yamlString(`${ROLE_NAME_PREFIX}\${RepositoryPathSlug}`)}`,
      usesSlug: true,
    };
  }
  const why = input.roleNameIsDefault
    ? `  # gitlab-<slug> cut to ${MAX_ROLE_NAME_LENGTH} characters, as the helper does`
    : '';
  return { line: `RoleName: ${yamlString(input.roleName)}${why}`, usesSlug: false };
}

export function renderCloudFormation(input: RoleTemplateInput): string {
  const sub = subCondition(input);
  const subValue = `!Sub ${yamlString(
    `project_path:\${RepositoryPath}${subLiteral(sub.value.slice(`project_path:${input.projectPath}`.length))}`,
  )}`;
  const audKey = yamlString(`${input.providerHost}:aud`);
  const subKey = yamlString(`${input.providerHost}:sub`);
  const conditions =
    sub.operator === 'StringEquals'
      ? ['StringEquals:', `  ${audKey}: ${yamlString(input.audience)}`, `  ${subKey}: ${subValue}`]
      : [
          'StringEquals:',
          `  ${audKey}: ${yamlString(input.audience)}`,
          'StringLike:',
          `  ${subKey}: ${subValue}`,
        ];
  const federated = input.withProvider
    ? '!Ref GitLabOidcProvider'
    : `!Sub ${yamlString(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:oidc-provider/${input.providerHost}`)}`;
  const roleName = cloudFormationRoleName(input);
  const indent = (lines: readonly string[], spaces: number): string[] =>
    lines.map((line) => `${' '.repeat(spaces)}${line}`);

  const lines = [
    `# IAM role for ${describeTrust(input)}.`,
    '# The helper (gitlab-aws-credential-helper) assumes it under exactly this name.',
    `# Made by: ${commandLineFor('cloudformation', input)}`,
    `# Check a change with: gitlab-aws-credential-helper doctor --trust-policy <this file>`,
    "AWSTemplateFormatVersion: '2010-09-09'",
    `Description: ${yamlString(`Role ${input.roleName} for the GitLab CI/CD pipelines of ${input.projectPath}`)}`,
    'Parameters:',
    '  RepositoryPath:',
    '    Type: String',
    `    Default: ${yamlString(input.projectPath)}`,
    "    Description: 'GitLab project path (CI_PROJECT_PATH) whose pipelines may assume the role'",
    ...(roleName.usesSlug
      ? [
          '  RepositoryPathSlug:',
          '    Type: String',
          `    Default: ${yamlString(input.projectSlug)}`,
          `    MaxLength: ${MAX_ROLE_NAME_LENGTH - ROLE_NAME_PREFIX.length}`,
          "    Description: 'CI_PROJECT_PATH_SLUG of the project; the role is gitlab-<slug>'",
        ]
      : []),
    'Resources:',
    ...(input.withProvider
      ? [
          '  # One per AWS account and GitLab issuer: leave it out of every other stack.',
          '  GitLabOidcProvider:',
          '    Type: AWS::IAM::OIDCProvider',
          '    Properties:',
          `      Url: ${yamlString(`https://${input.providerHost}`)}`,
          '      ClientIdList:',
          `        - ${yamlString(input.audience)}`,
        ]
      : []),
    '  Role:',
    '    Type: AWS::IAM::Role',
    '    Properties:',
    `      ${roleName.line}`,
    `      Path: ${yamlString(input.rolePath)}`,
    `      Description: ${yamlString(`Assumed by ${describeTrust(input)}`)}`,
    `      MaxSessionDuration: ${maxSessionDuration(input)}`,
    '      AssumeRolePolicyDocument:',
    "        Version: '2012-10-17'",
    '        Statement:',
    '          - Effect: Allow',
    '            Principal:',
    `              Federated: ${federated}`,
    '            Action: sts:AssumeRoleWithWebIdentity',
    '            Condition:',
    ...indent(conditions, 14),
    "      # The pipeline's own permissions go here: ManagedPolicyArns, or more entries under Policies.",
    '      Policies:',
    '        - PolicyName: caller-identity',
    '          PolicyDocument:',
    "            Version: '2012-10-17'",
    '            Statement:',
    '              - Effect: Allow',
    '                Action: sts:GetCallerIdentity',
    "                Resource: '*'",
    'Outputs:',
    '  RoleArn:',
    '    Value: !GetAtt Role.Arn',
  ];
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Terraform (HCL)

/** An HCL string; inputs never hold `"`, `\`, `${` or `%{` (checked when the options are read). */
function hclString(value: string): string {
  return `"${value}"`;
}

export function renderTerraform(input: RoleTemplateInput): string {
  const sub = subCondition(input);
  const subValue = `project_path:\${local.gitlab_project_path}${sub.value.slice(`project_path:${input.projectPath}`.length)}`;
  const providerArn = input.withProvider
    ? 'aws_iam_openid_connect_provider.gitlab.arn'
    : hclString(
        `arn:\${data.aws_partition.current.partition}:iam::\${data.aws_caller_identity.current.account_id}:oidc-provider/\${local.gitlab_provider_host}`,
      );
  const roleNameComment = input.roleNameIsDefault
    ? [
        `# gitlab_role_name: gitlab-<CI_PROJECT_PATH_SLUG> cut to ${MAX_ROLE_NAME_LENGTH} characters, the name the helper assumes.`,
      ]
    : [];
  const lines = [
    `# IAM role for ${describeTrust(input)}.`,
    '# The helper (gitlab-aws-credential-helper) assumes it under exactly this name.',
    `# Made by: ${commandLineFor('terraform', input)}`,
    '',
    ...roleNameComment,
    'locals {',
    `  gitlab_project_path  = ${hclString(input.projectPath)}`,
    `  gitlab_provider_host = ${hclString(input.providerHost)}`,
    `  gitlab_role_name     = ${hclString(input.roleName)}`,
    '}',
    '',
    ...(input.withProvider
      ? [
          '# One per AWS account and GitLab issuer: leave it out of every other configuration.',
          '# AWS checks GitLab’s keys through its trusted CAs, so no thumbprint is needed.',
          'resource "aws_iam_openid_connect_provider" "gitlab" {',
          `  url            = "https://\${local.gitlab_provider_host}"`,
          `  client_id_list = [${hclString(input.audience)}]`,
          '}',
        ]
      : ['data "aws_partition" "current" {}', '', 'data "aws_caller_identity" "current" {}']),
    '',
    'data "aws_iam_policy_document" "gitlab_trust" {',
    '  statement {',
    '    effect  = "Allow"',
    '    actions = ["sts:AssumeRoleWithWebIdentity"]',
    '',
    '    principals {',
    '      type        = "Federated"',
    `      identifiers = [${providerArn}]`,
    '    }',
    '',
    '    condition {',
    '      test     = "StringEquals"',
    `      variable = "\${local.gitlab_provider_host}:aud"`,
    `      values   = [${hclString(input.audience)}]`,
    '    }',
    '',
    '    condition {',
    `      test     = ${hclString(sub.operator)}`,
    `      variable = "\${local.gitlab_provider_host}:sub"`,
    `      values   = [${hclString(subValue)}]`,
    '    }',
    '  }',
    '}',
    '',
    'resource "aws_iam_role" "gitlab" {',
    '  name                 = local.gitlab_role_name',
    `  path                 = ${hclString(input.rolePath)}`,
    `  description          = ${hclString(`Assumed by ${describeTrust(input)}`)}`,
    `  max_session_duration = ${maxSessionDuration(input)}`,
    '  assume_role_policy   = data.aws_iam_policy_document.gitlab_trust.json',
    '}',
    '',
    'data "aws_iam_policy_document" "gitlab_caller_identity" {',
    '  statement {',
    '    effect    = "Allow"',
    '    actions   = ["sts:GetCallerIdentity"]',
    '    resources = ["*"]',
    '  }',
    '}',
    '',
    "# The pipeline's own permissions go here: aws_iam_role_policy_attachment, or more aws_iam_role_policy.",
    'resource "aws_iam_role_policy" "gitlab_caller_identity" {',
    '  name   = "caller-identity"',
    '  role   = aws_iam_role.gitlab.id',
    '  policy = data.aws_iam_policy_document.gitlab_caller_identity.json',
    '}',
    '',
    'output "gitlab_role_arn" {',
    '  value = aws_iam_role.gitlab.arn',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

export function renderRoleTemplate(format: TemplateFormat, input: RoleTemplateInput): string {
  return format === 'terraform' ? renderTerraform(input) : renderCloudFormation(input);
}
