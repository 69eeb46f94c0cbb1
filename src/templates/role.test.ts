// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are CloudFormation and Terraform interpolations
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { resolveRoleTemplateOptions } from './options.js';
import {
  commandLineFor,
  maxSessionDuration,
  renderCloudFormation,
  renderTerraform,
  subCondition,
} from './role.js';

const JOB = { CI_PROJECT_PATH: 'my-group/my-project' };

function options(flags: Record<string, string | boolean> = {}, env: Record<string, string> = JOB) {
  return resolveRoleTemplateOptions(flags, env);
}

describe('resolveRoleTemplateOptions', () => {
  it('defaults: CloudFormation, gitlab.com, any branch, the instance URL as audience, the helper’s role name', () => {
    expect(options()).toEqual({
      format: 'cloudformation',
      input: {
        projectPath: 'my-group/my-project',
        projectSlug: 'my-group-my-project',
        providerHost: 'gitlab.com',
        roleName: 'gitlab-my-group-my-project',
        rolePath: '/',
        roleNameIsDefault: true,
        ref: '*',
        refType: 'branch',
        audience: 'https://gitlab.com',
        durationSeconds: 3600,
        withProvider: false,
      },
    });
  });

  it('flags beat the job’s variables; the audience follows the host', () => {
    const { input } = options(
      { projectPath: 'other/project', providerHost: 'gitlab.example.com' },
      { CI_PROJECT_PATH: 'my-group/my-project', CI_SERVER_HOST: 'gitlab.internal' },
    );
    expect(input).toMatchObject({
      projectPath: 'other/project',
      providerHost: 'gitlab.example.com',
      audience: 'https://gitlab.example.com',
    });
    expect(options({}, { ...JOB, CI_SERVER_HOST: 'gitlab.internal' }).input.providerHost).toBe(
      'gitlab.internal',
    );
  });

  it.each([
    ['ci/deployer', 'deployer', '/ci/'],
    ['/a/b/deployer', 'deployer', '/a/b/'],
    ['arn:aws:iam::123456789012:role/ci/deployer', 'deployer', '/ci/'],
  ])('--role-name %s', (roleName, name, path) => {
    expect(options({ roleName }).input).toMatchObject({
      roleName: name,
      rolePath: path,
      roleNameIsDefault: false,
    });
  });

  it('reads GITLAB_AWS_ROLE_NAME like the helper does', () => {
    expect(options({}, { ...JOB, GITLAB_AWS_ROLE_NAME: 'deployer' }).input.roleName).toBe('deployer');
  });

  it('reports every problem at once', () => {
    try {
      options({ projectPath: 'x', refType: 'all', format: 'json' }, {});
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toBe(
        '3 problems: --format: expected cloudformation or terraform, got "json"; --project-path: expected a GitLab project path like my-group/my-project, got "x"; --ref-type: expected branch, tag or any, got "all"',
      );
    }
  });

  it.each(['gitlab.com/', 'gitlab.com:8443', 'https://gitlab.com', '-gitlab.com', 'gitlab..com'])(
    'refuses the provider host %j',
    (providerHost) => {
      expect(() => options({ providerHost })).toThrow(/--provider-host: expected the issuer host/);
    },
  );

  it.each(['a b', 'x$y', 'x%{y}', 'x"y', 'x\\y', 'x`y', '', 'ü→'])('refuses the ref %j', (ref) => {
    expect(() => options({ ref })).toThrow(/--ref: expected branch or tag name/);
  });
});

describe('the trust it writes', () => {
  it.each([
    [{}, 'StringLike', 'project_path:my-group/my-project:ref_type:branch:ref:*'],
    [{ ref: 'main' }, 'StringEquals', 'project_path:my-group/my-project:ref_type:branch:ref:main'],
    [{ refType: 'tag' }, 'StringLike', 'project_path:my-group/my-project:ref_type:tag:ref:*'],
    [{ ref: 'release/*' }, 'StringLike', 'project_path:my-group/my-project:ref_type:branch:ref:release/*'],
    [{ refType: 'any', ref: 'v?' }, 'StringLike', 'project_path:my-group/my-project:ref_type:*:ref:v?'],
  ])('%j: %s %s', (flags, operator, value) => {
    expect(subCondition(options(flags).input)).toEqual({ operator, value });
  });

  it.each([
    [900, 3600],
    [3600, 3600],
    [7200, 7200],
    [43200, 43200],
  ])('--duration-seconds %i gives MaxSessionDuration %i', (seconds, maximum) => {
    expect(maxSessionDuration(options({ durationSeconds: String(seconds) }).input)).toBe(maximum);
  });

  it('quotes what a shell would read in the command line of the header', () => {
    expect(
      commandLineFor(
        'terraform',
        options({ ref: 'release/*', roleName: 'ci/deployer', withProvider: true }).input,
      ),
    ).toBe(
      "gitlab-aws-credential-helper role-template --format terraform --project-path my-group/my-project --provider-host gitlab.com --role-name ci/deployer --ref-type branch --ref 'release/*' --audience https://gitlab.com --duration-seconds 3600 --with-provider",
    );
  });
});

describe('renderCloudFormation', () => {
  it('names the role from the slug parameter while gitlab-<slug> fits in 64 characters', () => {
    const text = renderCloudFormation(options().input);
    expect(text).toContain("      RoleName: !Sub 'gitlab-${RepositoryPathSlug}'\n");
    expect(text).toContain("    Default: 'my-group-my-project'\n    MaxLength: 57\n");
    expect(text).toContain(
      "              Federated: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/gitlab.com'\n",
    );
    expect(text).toContain(
      "                'gitlab.com:sub': !Sub 'project_path:${RepositoryPath}:ref_type:branch:ref:*'\n",
    );
    expect(text).not.toContain('AWS::IAM::OIDCProvider');
  });

  it('writes a cut name literally, without the slug parameter, and the provider when asked', () => {
    const long = `my-group/${'p'.repeat(60)}`;
    const input = options({ projectPath: long, withProvider: true }).input;
    const text = renderCloudFormation(input);
    expect(input.roleName).toHaveLength(64);
    expect(text).toContain(
      `      RoleName: '${input.roleName}'  # gitlab-<slug> cut to 64 characters, as the helper does\n`,
    );
    expect(text).not.toContain('RepositoryPathSlug');
    expect(text).toContain('  GitLabOidcProvider:\n    Type: AWS::IAM::OIDCProvider\n');
    expect(text).toContain('              Federated: !Ref GitLabOidcProvider\n');
  });

  it('keeps a role path and puts both conditions under StringEquals for an exact ref', () => {
    const text = renderCloudFormation(options({ roleName: 'ci/deployer', ref: 'main' }).input);
    expect(text).toContain("      RoleName: 'deployer'\n      Path: '/ci/'\n");
    expect(text).toContain(
      "              StringEquals:\n                'gitlab.com:aud': 'https://gitlab.com'\n                'gitlab.com:sub': !Sub 'project_path:${RepositoryPath}:ref_type:branch:ref:main'\n",
    );
    expect(text).not.toContain('StringLike');
  });

  it("doubles a ' in a ref", () => {
    expect(renderCloudFormation(options({ ref: "it's" }).input)).toContain("ref_type:branch:ref:it''s'");
  });
});

describe('renderTerraform', () => {
  it('uses the partition and account data sources, or the provider resource', () => {
    const plain = renderTerraform(options().input);
    expect(plain).toContain('data "aws_partition" "current" {}');
    expect(plain).toContain(
      '      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/${local.gitlab_provider_host}"]\n',
    );
    expect(plain).toContain(
      '      values   = ["project_path:${local.gitlab_project_path}:ref_type:branch:ref:*"]\n',
    );
    const withProvider = renderTerraform(options({ withProvider: true }).input);
    expect(withProvider).toContain('resource "aws_iam_openid_connect_provider" "gitlab" {');
    expect(withProvider).toContain('      identifiers = [aws_iam_openid_connect_provider.gitlab.arn]\n');
    expect(withProvider).not.toContain('aws_caller_identity');
  });

  it('sets the name, path and maximum session duration of the role', () => {
    const text = renderTerraform(options({ roleName: 'ci/deployer', durationSeconds: '7200' }).input);
    expect(text).toContain('  gitlab_role_name     = "deployer"\n');
    expect(text).toContain('  path                 = "/ci/"\n');
    expect(text).toContain('  max_session_duration = 7200\n');
  });
});
