import { describe, expect, it } from 'vitest';
import type { Environment } from '../environment.js';
import { ConfigError } from '../errors.js';
import { setIniSection } from '../output/ini.js';
import { type FlagValues, resolveSettings } from './resolve.js';

const JOB_ENV: Environment = {
  GITLAB_AWS_ACCOUNT_ID: '123456789012',
  CI_PROJECT_PATH_SLUG: 'demo-group-demo-project',
  CI_PIPELINE_ID: '4242',
  GITLAB_AWS_IDENTITY_TOKEN: 'x.y.z',
};

function resolveError(
  flags: FlagValues,
  env: Environment,
  command: 'process' | 'env' | 'aws-profile' = 'process',
) {
  try {
    resolveSettings(command, flags, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveSettings', () => {
  it('derives everything from a GitLab job with only the account id set', () => {
    const settings = resolveSettings('process', {}, JOB_ENV);
    expect(settings).toMatchObject({
      roleArn: 'arn:aws:iam::123456789012:role/gitlab-demo-group-demo-project',
      roleSessionName: 'gitlab-demo-group-demo-project-4242',
      tokenSource: { kind: 'env', name: 'GITLAB_AWS_IDENTITY_TOKEN' },
      tokenVariable: 'GITLAB_AWS_IDENTITY_TOKEN',
      durationSeconds: 3600,
      region: 'us-east-1',
      endpoint: 'https://sts.us-east-1.amazonaws.com',
      endpointSource: undefined,
      profileName: 'default',
      cache: { enabled: true, reuse: true, refreshWindowSeconds: 1200 },
      maxAttempts: 5,
      timeoutMs: 10_000,
    });
  });

  it('prefers flags over environment over defaults', () => {
    const env = { ...JOB_ENV, GITLAB_AWS_DURATION_SECONDS: '7200', GITLAB_AWS_ROLE_NAME: 'from-env' };
    const settings = resolveSettings('process', { durationSeconds: '900', awsAccount: '333333333333' }, env);
    expect(settings.durationSeconds).toBe(900);
    expect(settings.roleArn).toBe('arn:aws:iam::333333333333:role/from-env');
    expect(settings.roleSessionName).toBe('from-env-4242');
  });

  it('lets a role ARN given as a flag override the account from the environment', () => {
    const settings = resolveSettings('process', { roleName: 'arn:aws:iam::210987654321:role/x' }, JOB_ENV);
    expect(settings.roleArn).toBe('arn:aws:iam::210987654321:role/x');
  });

  describe('a role ARN and an account from every pair of levels', () => {
    const ARN = 'arn:aws:iam::210987654321:role/ci/Deployer';
    const base: Environment = { ...JOB_ENV, GITLAB_AWS_ACCOUNT_ID: undefined };
    type Level = 'flag' | 'env';
    const place = (level: Level, key: 'roleName' | 'awsAccount', value: string) => {
      const variable = key === 'roleName' ? 'GITLAB_AWS_ROLE_NAME' : 'GITLAB_AWS_ACCOUNT_ID';
      return level === 'flag'
        ? { flags: { [key]: value }, env: {} }
        : { flags: {}, env: { [variable]: value } };
    };
    const resolveWith = (arnLevel: Level, accountLevel: Level, account: string) => {
      const arn = place(arnLevel, 'roleName', ARN);
      const acc = place(accountLevel, 'awsAccount', account);
      return () =>
        resolveSettings('process', { ...arn.flags, ...acc.flags }, { ...base, ...arn.env, ...acc.env });
    };

    it.each<[Level, Level]>([
      ['flag', 'flag'],
      ['flag', 'env'],
      ['env', 'flag'],
      ['env', 'env'],
    ])('ARN from %s, the same account from %s: the ARN as given', (arnLevel, accountLevel) => {
      const settings = resolveWith(arnLevel, accountLevel, '210987654321')();
      expect(settings.roleArn).toBe(ARN);
    });

    it.each<[Level, Level, string | RegExp]>([
      ['flag', 'flag', /--role-name names account 210987654321 but --aws-account sets account 123456789012/],
      [
        'env',
        'env',
        /GITLAB_AWS_ROLE_NAME names account 210987654321 but GITLAB_AWS_ACCOUNT_ID sets account 123456789012/,
      ],
      ['flag', 'env', ARN],
      ['env', 'flag', 'arn:aws:iam::123456789012:role/ci/Deployer'],
    ])('ARN from %s, another account from %s: %s', (arnLevel, accountLevel, expected) => {
      const resolve = resolveWith(arnLevel, accountLevel, '123456789012');
      if (expected instanceof RegExp) {
        expect(resolve).toThrow(expected);
        return;
      }
      // The flag wins, whichever of the two it is.
      const settings = resolve();
      expect(settings.roleArn).toBe(expected);
      expect(settings.roleSessionName).toBe('Deployer-4242');
    });
  });

  it('accepts a role with a path and a full role ARN', () => {
    expect(resolveSettings('process', { roleName: 'ci/deployer' }, JOB_ENV).roleArn).toBe(
      'arn:aws:iam::123456789012:role/ci/deployer',
    );
    const env = { ...JOB_ENV, GITLAB_AWS_ACCOUNT_ID: undefined };
    const settings = resolveSettings(
      'process',
      { roleName: 'arn:aws:iam::210987654321:role/x/Deployer' },
      env,
    );
    expect(settings).toMatchObject({
      roleArn: 'arn:aws:iam::210987654321:role/x/Deployer',
      roleSessionName: 'Deployer-4242',
    });
  });

  it('takes the home region of a role ARN’s partition when no region is given', () => {
    const env = { ...JOB_ENV, GITLAB_AWS_ACCOUNT_ID: undefined };
    const gov = resolveSettings('process', { roleName: 'arn:aws-us-gov:iam::123456789012:role/x' }, env);
    expect(gov).toMatchObject({
      region: 'us-gov-west-1',
      endpoint: 'https://sts.us-gov-west-1.amazonaws.com',
    });
    const cn = resolveSettings('process', { roleName: 'arn:aws-cn:iam::123456789012:role/x' }, env);
    expect(cn.endpoint).toBe('https://sts.cn-northwest-1.amazonaws.com.cn');
  });

  it('selects the partition and regional endpoint from the region', () => {
    const gov = resolveSettings('process', {}, { ...JOB_ENV, AWS_DEFAULT_REGION: 'us-gov-west-1' });
    expect(gov.roleArn).toMatch(/^arn:aws-us-gov:iam::/);
    expect(gov.endpoint).toBe('https://sts.us-gov-west-1.amazonaws.com');
    const cn = resolveSettings('process', { region: 'cn-north-1' }, { ...JOB_ENV, AWS_REGION: 'eu-west-1' });
    expect(cn.endpoint).toBe('https://sts.cn-north-1.amazonaws.com.cn');
    expect(
      resolveSettings('process', {}, { ...JOB_ENV, AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2' })
        .region,
    ).toBe('eu-west-1');
  });

  it('honours endpoint overrides in AWS order unless ignored', () => {
    const env = {
      ...JOB_ENV,
      AWS_ENDPOINT_URL: 'http://general:1',
      AWS_ENDPOINT_URL_STS: 'http://sts-only:2',
    };
    const endpointOf = (flags: FlagValues, environment: Environment) => {
      const settings = resolveSettings('process', flags, environment);
      return [settings.endpoint, settings.endpointSource];
    };
    expect(endpointOf({}, env)).toEqual(['http://sts-only:2', 'AWS_ENDPOINT_URL_STS']);
    expect(endpointOf({}, { ...env, AWS_ENDPOINT_URL_STS: undefined })).toEqual([
      'http://general:1',
      'AWS_ENDPOINT_URL',
    ]);
    expect(endpointOf({ endpointUrl: 'http://flag:3' }, env)).toEqual(['http://flag:3', '--endpoint-url']);
    expect(endpointOf({}, { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toEqual([
      'https://sts.us-east-1.amazonaws.com',
      undefined,
    ]);
  });

  it('reads the token from a file when asked', () => {
    expect(resolveSettings('process', { webIdentityTokenFile: '/run/token' }, JOB_ENV).tokenVariable).toBe(
      'GITLAB_AWS_IDENTITY_TOKEN',
    );
    expect(
      resolveSettings(
        'process',
        { webIdentityTokenFile: '/run/token', webIdentityTokenName: 'MY_TOKEN' },
        JOB_ENV,
      ).tokenVariable,
    ).toBe('MY_TOKEN');
    expect(resolveSettings('process', { webIdentityTokenFile: '/run/token' }, JOB_ENV).tokenSource).toEqual({
      kind: 'file',
      path: '/run/token',
    });
    expect(resolveSettings('process', { webIdentityTokenName: 'MY_TOKEN' }, JOB_ENV).tokenSource).toEqual({
      kind: 'env',
      name: 'MY_TOKEN',
    });
  });

  it('falls back to CI_PROJECT_PATH when the slug is absent', () => {
    const env = { ...JOB_ENV, CI_PROJECT_PATH_SLUG: undefined, CI_PROJECT_PATH: 'My.Group/Sub/App' };
    expect(resolveSettings('process', {}, env).roleArn).toBe(
      'arn:aws:iam::123456789012:role/gitlab-my-group-sub-app',
    );
  });

  it.each([
    [{}, { GITLAB_AWS_ACCOUNT_ID: undefined }, 'MissingAccount', /GITLAB_AWS_ACCOUNT_ID/],
    [
      { awsAccount: '12345' },
      {},
      'InvalidValue',
      /--aws-account: expected a 12-digit AWS account id, got "12345"/,
    ],
    [
      {},
      { GITLAB_AWS_ACCOUNT_ID: '1234-5678-9012' },
      'InvalidValue',
      /GITLAB_AWS_ACCOUNT_ID: expected a 12-digit/,
    ],
    [
      { durationSeconds: '899' },
      {},
      'InvalidValue',
      /--duration-seconds: expected a whole number from 900 to 43200, got "899"/,
    ],
    [
      {},
      { GITLAB_AWS_DURATION_SECONDS: '1h' },
      'InvalidValue',
      /GITLAB_AWS_DURATION_SECONDS: expected a whole number/,
    ],
    [{ durationSeconds: '43201' }, {}, 'InvalidValue', /43201/],
    [{ roleName: 'has space' }, {}, 'InvalidRoleName', /--role-name: expected an IAM role name/],
    [{ roleName: 'x'.repeat(65) }, {}, 'InvalidRoleName', /IAM role name/],
    [{ roleName: 'arn:aws:iam::12:role/x' }, {}, 'InvalidRoleArn', /expected a role ARN/],
    [
      { roleName: 'arn:aws:iam::210987654321:role/x', awsAccount: '123456789012' },
      {},
      'AccountMismatch',
      /names account 210987654321/,
    ],
    [{}, { GITLAB_AWS_ROLE_NAME: 'arn:aws:iam::210987654321:role/x' }, 'AccountMismatch', /210987654321/],
    [{ roleName: 'ci//deployer' }, {}, 'InvalidRoleName', /^--role-name: /],
    [
      {},
      { AWS_USE_FIPS_ENDPOINT: 'yes please' },
      'InvalidValue',
      /AWS_USE_FIPS_ENDPOINT: expected true or false/,
    ],
    [
      { roleName: 'arn:aws-cn:iam::123456789012:role/x', region: 'eu-west-1' },
      {},
      'PartitionMismatch',
      /partition aws-cn/,
    ],
    [{ roleSessionName: 'a' }, {}, 'InvalidRoleSessionName', /expected 2 to 64 characters/],
    [{ roleSessionName: 'with/slash' }, {}, 'InvalidRoleSessionName', /"with\/slash"/],
    [{ webIdentityTokenName: 'eyJhbGciOi.x.y' }, {}, 'InvalidValue', /name of an environment variable/],
    [{ region: 'Frankfurt' }, {}, 'InvalidRegion', /expected an AWS region/],
    [{ endpointUrl: 'sts.example.com' }, {}, 'InvalidValue', /--endpoint-url: expected an http\(s\) URL/],
    [{ maxAttempts: '0' }, {}, 'InvalidValue', /--max-attempts/],
    [{ timeout: 'soon' }, {}, 'InvalidValue', /--timeout/],
    [
      {},
      { GITLAB_AWS_CACHE: 'maybe' },
      'InvalidValue',
      /GITLAB_AWS_CACHE: expected true or false, got "maybe"/,
    ],
    [{}, { CI_PROJECT_PATH_SLUG: undefined }, 'MissingRoleName', /CI_PROJECT_PATH_SLUG/],
  ] as const)('rejects %o %o with %s', (flags, envChanges, code, message) => {
    const error = resolveError(flags, { ...JOB_ENV, ...envChanges });
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.hint).toBeTruthy();
  });

  it('validates the profile name for aws-profile', () => {
    expect(resolveSettings('aws-profile', { profileName: 'production' }, JOB_ENV).profileName).toBe(
      'production',
    );
    expect(resolveSettings('aws-profile', {}, { ...JOB_ENV, GITLAB_AWS_PROFILE: 'ci' }).profileName).toBe(
      'ci',
    );
    expect(resolveError({ profileName: 'profile x' }, JOB_ENV, 'aws-profile').message).toMatch(/--name/);
    expect(resolveError({ profileName: 'a]b' }, JOB_ENV, 'aws-profile').code).toBe('InvalidValue');
  });

  it.each([
    ['#ci', /must not contain "#" or ";"/],
    ['a;b', /must not contain "#" or ";"/],
    ['two words', /must not contain whitespace/],
    ['tab\there', /must not contain line breaks or control characters/],
    ['[x]', /must not contain "\[" or "\]"/],
    ['__proto__', /is reserved/],
    ['nul\0byte', /control characters/],
  ])('refuses the profile name %j with the settings, before any STS call', (name, reason) => {
    for (const [flags, env, source] of [
      [{ profileName: name }, JOB_ENV, '--name'],
      [{}, { ...JOB_ENV, GITLAB_AWS_PROFILE: name }, 'GITLAB_AWS_PROFILE'],
    ] as const) {
      const error = resolveError(flags, env, 'aws-profile');
      expect(error.code).toBe('InvalidValue');
      expect(error.message).toMatch(reason);
      expect(error.message.startsWith(`${source}: expected a profile name`)).toBe(true);
    }
  });

  it('accepts every profile name the INI editor can write', () => {
    for (const name of ['default', 'production', 'ci-deploy_2', 'a.b@c+d=e', 'Ünïcode']) {
      expect(resolveSettings('aws-profile', { profileName: name }, JOB_ENV).profileName).toBe(name);
      expect(() => setIniSection('', name, [['k', 'v']])).not.toThrow();
    }
  });

  it('reports every problem at once', () => {
    const error = resolveError(
      { durationSeconds: '5', region: 'nowhere' },
      { ...JOB_ENV, GITLAB_AWS_ACCOUNT_ID: 'abc' },
    );
    expect(error.code).toBe('InvalidSettings');
    expect(error.message).toMatch(/^3 problems: /);
    expect(error.message).toMatch(/GITLAB_AWS_ACCOUNT_ID/);
    expect(error.message).toMatch(/--duration-seconds/);
    expect(error.message).toMatch(/--region/);
    expect(error.message).not.toMatch(/\n/);
  });

  it('reuses cached credentials only for process, whose consumers renew them', () => {
    expect(resolveSettings('env', {}, JOB_ENV).cache.reuse).toBe(false);
    expect(resolveSettings('aws-profile', {}, JOB_ENV).cache.reuse).toBe(false);
  });

  it('reads env output settings only for env', () => {
    const settings = resolveSettings('env', { filename: 'out.env', export: true }, JOB_ENV);
    expect(settings).toMatchObject({ filename: 'out.env', exportPrefix: true });
  });
});
