// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are CloudFormation !Sub expressions
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import type { TemplateContext } from './cloudformation.js';
import { loadTrustPolicy, parseTemplateParameters } from './document.js';

const CONTEXT: TemplateContext = {
  accountId: '123456789012',
  partition: 'aws-us-gov',
  region: 'us-gov-west-1',
  urlSuffix: 'amazonaws.com',
  parameters: new Map(),
  roleName: 'gitlab-g-p',
};

const POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Federated: 'x' }, Action: 'sts:AssumeRoleWithWebIdentity' }],
};

function load(text: string, context: Partial<TemplateContext> = {}) {
  return loadTrustPolicy(text, 'role.yml', { ...CONTEXT, ...context });
}

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no error');
}

/** A template whose role's trust policy holds `condition` (YAML, indented for the Condition map). */
function template(condition: string, extra = ''): string {
  return `AWSTemplateFormatVersion: 2010-09-09
${extra}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: gitlab-g-p
      AssumeRolePolicyDocument:
        Version: 2012-10-17
        Statement:
          - Effect: Allow
            Principal: { Federated: x }
            Action: sts:AssumeRoleWithWebIdentity
            Condition:
              StringLike:
                value: ${condition}
`;
}

function conditionValue(text: string, context: Partial<TemplateContext> = {}): unknown {
  const policy = load(text, context).policy as {
    Statement: [{ Condition: { StringLike: { value: unknown } } }];
  };
  return policy.Statement[0].Condition.StringLike.value;
}

describe('loadTrustPolicy: kinds of input', () => {
  it('an IAM trust policy in JSON', () => {
    expect(load(JSON.stringify(POLICY))).toEqual({ kind: 'iam-policy', policy: POLICY, role: undefined });
  });

  it('aws iam get-role output, with the document decoded or URL-encoded', () => {
    for (const document of [POLICY, encodeURIComponent(JSON.stringify(POLICY))]) {
      const text = JSON.stringify({
        Role: { Path: '/ci/', RoleName: 'r', MaxSessionDuration: 7200, AssumeRolePolicyDocument: document },
      });
      expect(load(text)).toEqual({
        kind: 'get-role',
        policy: POLICY,
        role: { logicalId: undefined, roleName: 'r', path: '/ci/', maxSessionDuration: 7200 },
      });
    }
  });

  it('a CloudFormation template in JSON with long-form functions', () => {
    const text = JSON.stringify({
      Resources: {
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: {
            RoleName: { 'Fn::Join': ['-', ['gitlab', 'g', 'p']] },
            AssumeRolePolicyDocument: {
              Statement: [
                {
                  Principal: {
                    Federated: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/h' },
                  },
                },
              ],
            },
          },
        },
      },
    });
    expect(load(text)).toEqual({
      kind: 'cloudformation',
      policy: {
        Statement: [{ Principal: { Federated: 'arn:aws-us-gov:iam::123456789012:oidc-provider/h' } }],
      },
      role: { logicalId: 'Role', roleName: 'gitlab-g-p', path: '/', maxSessionDuration: 3600 },
    });
  });

  it.each([
    ['[1, 2]', 'role.yml holds no object'],
    ['{"Version": "2012-10-17"}', 'role.yml is neither a trust policy (no Statement)'],
    ['{"Statement": [', 'role.yml is not valid JSON'],
    ['a: [1\nb: 2', 'role.yml is neither JSON nor valid YAML (line'],
    ['{"Resources": {}}', 'the template defines no AWS::IAM::Role'],
  ])('refuses %j', (text, message) => {
    expect(errorOf(() => load(text)).message).toContain(message);
  });

  it('refuses --parameter for anything but a template', () => {
    expect(errorOf(() => load(JSON.stringify(POLICY), { parameters: new Map([['A', 'b']]) })).message).toBe(
      '--parameter applies to CloudFormation templates, and role.yml is not one',
    );
  });
});

describe('CloudFormation: short tags and intrinsic functions', () => {
  const parameters = `Parameters:
  Path: { Type: String, Default: g/p }
  Refs: { Type: CommaDelimitedList, Default: "main,dev" }
Mappings:
  Hosts: { aws-us-gov: { name: gov.example } }
Conditions:
  Gov: !Equals [!Ref AWS::Partition, aws-us-gov]
  NotGov: !Not [!Condition Gov]
  Both: !And [!Condition Gov, !Or [!Condition NotGov, !Condition Gov]]`;

  it.each([
    [
      '!Sub with pseudo parameters',
      "!Sub '${AWS::AccountId}/${AWS::Partition}/${AWS::Region}/${AWS::URLSuffix}'",
      '123456789012/aws-us-gov/us-gov-west-1/amazonaws.com',
    ],
    [
      '!Sub with a parameter and a literal ${!…}',
      "!Sub 'project_path:${Path}:ref:${!Literal}'",
      'project_path:g/p:ref:${Literal}',
    ],
    ['!Sub with its own variables', "!Sub ['${A}-${Path}', { A: !Ref AWS::AccountId }]", '123456789012-g/p'],
    ['!Ref of a parameter', '!Ref Path', 'g/p'],
    ['!Ref of a list parameter', '!Ref Refs', ['main', 'dev']],
    ['!Join of a !Split', "!Join ['+', !Split ['/', !Ref Path]]", 'g+p'],
    ['!Select', '!Select [1, !Ref Refs]', 'dev'],
    ['!If on a condition', '!If [Gov, gov, other]', 'gov'],
    ['!If on !Not and !And', '!If [NotGov, a, !If [Both, b, c]]', 'b'],
    ['!FindInMap', '!FindInMap [Hosts, !Ref AWS::Partition, name]', 'gov.example'],
    ['a list with AWS::NoValue dropped', '[a, !Ref AWS::NoValue, b]', ['a', 'b']],
    ['!GetAtt of a role', '!GetAtt Role.Arn', 'arn:aws-us-gov:iam::123456789012:role/gitlab-g-p'],
    ['!Base64', '!Base64 abc', 'YWJj'],
    ['a date-like scalar stays text', '2012-10-17', '2012-10-17'],
  ])('%s', (_name, expression, value) => {
    expect(conditionValue(template(expression, parameters))).toEqual(value);
  });

  it('resolves !Ref and !GetAtt of an OIDC provider of the same template to its ARN', () => {
    const provider = `Resources:
  Provider:
    Type: AWS::IAM::OIDCProvider
    Properties: { Url: https://gitlab.example.com, ClientIdList: [https://gitlab.example.com] }`;
    const text = template('[!Ref Provider, !GetAtt Provider.Arn]').replace('Resources:\n', `${provider}\n`);
    expect(conditionValue(text)).toEqual([
      'arn:aws-us-gov:iam::123456789012:oidc-provider/gitlab.example.com',
      'arn:aws-us-gov:iam::123456789012:oidc-provider/gitlab.example.com',
    ]);
  });

  it('takes --parameter over the Default and checks the constraints', () => {
    const declared = `Parameters:
  Path: { Type: String, Default: g/p, AllowedPattern: '[a-z/]+', MaxLength: 5 }
  Tier: { Type: String, Default: dev, AllowedValues: [dev, prod] }`;
    const text = template("!Sub '${Path}:${Tier}'", declared);
    expect(conditionValue(text, { parameters: new Map([['Tier', 'prod']]) })).toBe('g/p:prod');
    expect(errorOf(() => conditionValue(text, { parameters: new Map([['Path', 'G/P']]) })).message).toBe(
      'template parameter Path: "G/P" does not match its AllowedPattern',
    );
    expect(errorOf(() => conditionValue(text, { parameters: new Map([['Path', 'aaa/bbb']]) })).message).toBe(
      'template parameter Path: "aaa/bbb" is longer than its MaxLength 5',
    );
    expect(errorOf(() => conditionValue(text, { parameters: new Map([['Tier', 'qa']]) })).message).toBe(
      'template parameter Tier: "qa" is not one of its AllowedValues',
    );
    const unknown = errorOf(() => conditionValue(text, { parameters: new Map([['Branch', 'x']]) }));
    expect(unknown.message).toBe('--parameter Branch: the template has no such parameter');
    expect(unknown.hint).toBe('its parameters are Path, Tier');
  });

  it.each([
    [
      'a parameter without Default',
      '!Ref Path',
      'Parameters:\n  Path: { Type: String }',
      'parameter Path has no Default',
    ],
    [
      'a name that is nothing',
      '!Ref Nothing',
      '',
      'Ref Nothing names no parameter or resource of the template',
    ],
    ['an import', '!ImportValue shared-host', '', 'Fn::ImportValue cannot be evaluated without AWS'],
    [
      'an attribute known only after deployment',
      '!GetAtt Role.RoleId',
      '',
      '!GetAtt Role.RoleId cannot be known without deploying the stack',
    ],
    ['an unknown condition', '!If [Missing, a, b]', '', 'no condition Missing in Conditions'],
  ])('explains %s', (_name, expression, extra, message) => {
    const error = errorOf(() => conditionValue(template(expression, extra)));
    expect(error.message).toContain(message);
    expect(error.message).toContain(
      'Resources.Role.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringLike.value',
    );
  });

  it('picks the role the helper assumes among several, and says so when none matches', () => {
    const two = `Resources:
  Deployer: { Type: AWS::IAM::Role, Properties: { RoleName: deployer, AssumeRolePolicyDocument: { Statement: [] } } }
  Pipeline: { Type: AWS::IAM::Role, Properties: { RoleName: gitlab-g-p, MaxSessionDuration: 7200, AssumeRolePolicyDocument: { Statement: [{ Sid: mine }] } } }
  Generated: { Type: AWS::IAM::Role, Properties: { AssumeRolePolicyDocument: { Statement: [] } } }`;
    expect(load(two)).toMatchObject({
      policy: { Statement: [{ Sid: 'mine' }] },
      role: { logicalId: 'Pipeline', maxSessionDuration: 7200 },
    });
    const error = errorOf(() => load(two, { roleName: 'other' }));
    expect(error.message).toBe(
      'the template defines the roles Deployer (deployer), Pipeline (gitlab-g-p), Generated (generated name); none is named other, the role the helper assumes',
    );
  });

  it('skips a role whose resource condition is false, and parses a policy given as JSON text', () => {
    const text = `Conditions:
  Never: !Equals [a, b]
Resources:
  Old: { Type: AWS::IAM::Role, Condition: Never, Properties: { RoleName: gitlab-g-p, AssumeRolePolicyDocument: {} } }
  New:
    Type: AWS::IAM::Role
    Properties:
      RoleName: gitlab-g-p
      AssumeRolePolicyDocument: !Sub '{"Statement": [{"Sid": "\${AWS::AccountId}"}]}'`;
    expect(load(text)).toMatchObject({
      role: { logicalId: 'New' },
      policy: { Statement: [{ Sid: '123456789012' }] },
    });
  });

  it('keeps __proto__ as a plain key', () => {
    const value = conditionValue(template('{ __proto__: { polluted: yes } }'));
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseTemplateParameters', () => {
  it('reads Key=Value pairs, values may hold =, a repeated key keeps the last', () => {
    expect([...parseTemplateParameters(['A=1', 'B=x=y', 'A=2', 'C='])]).toEqual([
      ['A', '2'],
      ['B', 'x=y'],
      ['C', ''],
    ]);
  });

  it.each(['novalue', '=x', 'a-b=1', 'AWS::Region=x'])('refuses %j', (value) => {
    expect(errorOf(() => parseTemplateParameters([value])).message).toBe(
      `--parameter: expected Key=Value with an alphanumeric key, got ${JSON.stringify(value)}`,
    );
  });
});
