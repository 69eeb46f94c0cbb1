/**
 * `doctor` end to end: the built helper in a job's environment, real tokens from the local issuer,
 * trust policies in files (and on stdin), `--live` against the local STS. One test per
 * misconfiguration of issue 9; each asserts the cause, the fix, the exit code, and that neither the
 * token nor any issued credential appears in the output.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SUB, startTestBed, type TestBed } from '../support/bed.js';
import { assertBuilt, createJob, type Job, type RunResult, runCli } from './harness.js';

interface Check {
  id: string;
  verdict: 'ok' | 'warning' | 'problem' | 'skipped';
  summary: string;
  fix?: string;
  details?: string[];
}
interface Report {
  version: number;
  ok: boolean;
  problems: number;
  warnings: number;
  token: { source: string; present: boolean; claims: Record<string, unknown>; times: { claim: string }[] };
  settings: { name: string; value: string; source: string; note?: string }[];
  trustPolicy?: {
    kind?: string;
    decision?: string;
    matchedStatement?: number;
    statements: {
      index: number;
      applies: boolean;
      conditions: { key: string; ok: boolean; actual?: string[] }[];
    }[];
  };
  live?: {
    exchange?: { ok: boolean; error?: { code: string; requestId?: string } };
    callerIdentity?: { ok: boolean };
  };
  checks: Check[];
}

const HOST = 'gitlab.example.com';
const ISS = `https://${HOST}`;

let bed: TestBed;
const jobs: Job[] = [];

beforeAll(async () => {
  assertBuilt();
  bed = await startTestBed();
  bed.addDemoRole('one-hour-max', 3600);
});
afterAll(async () => {
  await Promise.all(jobs.map((job) => job.cleanup()));
  await bed?.stop();
});

async function job(token: string | undefined, extra: Record<string, string | undefined> = {}): Promise<Job> {
  const created = await createJob(bed, token ?? '', { GITLAB_AWS_IDENTITY_TOKEN: token, ...extra });
  jobs.push(created);
  return created;
}

function policy(condition: Record<string, unknown>, extraStatements: unknown[] = []): unknown {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: bed.providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
      },
      ...extraStatements,
    ],
  };
}

const DOCUMENTED = (sub: string) => ({ StringEquals: { [`${HOST}:aud`]: ISS, [`${HOST}:sub`]: sub } });

async function writePolicy(target: Job, document: unknown, name = 'policy.json'): Promise<string> {
  const path = join(target.home, name);
  await writeFile(path, typeof document === 'string' ? document : JSON.stringify(document, null, 2));
  return path;
}

/** Every secret the run could have seen: the job's tokens and every credential STS handed out. */
function assertNoSecrets(result: RunResult, target: Job): void {
  const output = `${result.stdout}\n${result.stderr}`;
  for (const value of Object.values(target.env)) {
    if (value !== undefined && /^eyJ/.test(value)) expect(output).not.toContain(value);
  }
  for (const issued of bed.sts.issued) {
    expect(output).not.toContain(issued.secretAccessKey);
    expect(output).not.toContain(issued.sessionToken);
  }
}

async function doctor(
  target: Job,
  args: readonly string[] = [],
  input?: string,
): Promise<{ result: RunResult; report: Report }> {
  const result = await runCli(
    ['doctor', '--format', 'json', ...args],
    target.env,
    input === undefined ? {} : { input },
  );
  assertNoSecrets(result, target);
  let report: Report;
  try {
    report = JSON.parse(result.stdout) as Report;
  } catch {
    throw new Error(`doctor printed no JSON (exit ${result.code}): ${result.stdout}${result.stderr}`);
  }
  expect(result.code).toBe(report.ok ? 0 : 1);
  return { result, report };
}

function check(report: Report, id: string): Check {
  const found = report.checks.find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no check ${id} in ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
}

describe('doctor: a healthy job', () => {
  it('passes every check with the role-template role, offline and --live, and exits 0', async () => {
    const target = await job(await bed.mint());
    const template = await runCli(
      [
        'role-template',
        '--provider-host',
        HOST,
        '--ref',
        'main',
        '--audience',
        ISS,
        '--duration-seconds',
        '43200',
      ],
      target.env,
    );
    expect(template.code).toBe(0);
    const path = await writePolicy(target, template.stdout, 'role.yml');
    const { result, report } = await doctor(target, ['--trust-policy', path, '--live']);
    expect(result.code, result.stdout).toBe(0);
    expect(report).toMatchObject({ version: 1, ok: true, problems: 0 });
    expect(report.checks.filter((c) => c.verdict !== 'ok')).toEqual([]);
    expect(report.trustPolicy).toMatchObject({
      kind: 'cloudformation',
      decision: 'allowed',
      matchedStatement: 0,
    });
    expect(report.live).toMatchObject({ exchange: { ok: true }, callerIdentity: { ok: true } });
    expect(check(report, 'live-caller-identity').summary).toContain(
      `arn:aws:sts::${bed.accountId}:assumed-role/gitlab-demo-group-demo-project/gitlab-demo-group-demo-project-777`,
    );
    expect(report.token.claims).toMatchObject({
      iss: ISS,
      aud: ISS,
      sub: DEMO_SUB,
      ref: 'main',
      ref_type: 'branch',
    });
    expect(report.token.times.map((t) => t.claim)).toEqual(['iat', 'nbf', 'exp']);
    expect(report.settings.map((s) => [s.name, s.source])).toEqual([
      ['account', 'GITLAB_AWS_ACCOUNT_ID'],
      ['role', 'default: gitlab-$CI_PROJECT_PATH_SLUG'],
      ['session name', 'default: <role name>-$CI_PIPELINE_ID'],
      ['region', 'AWS_REGION'],
      ['endpoint', 'AWS_ENDPOINT_URL_STS'],
      ['duration', 'default'],
      ['token source', 'default'],
    ]);
  });

  it('prints a report for people: claims, settings, the policy side by side, checks and the result', async () => {
    const target = await job(await bed.mint({ ref: 'v1.2.0', ref_type: 'tag' }));
    const path = await writePolicy(target, policy(DOCUMENTED(DEMO_SUB)));
    const result = await runCli(['doctor', '--trust-policy', path, '-d', '900'], target.env);
    assertNoSecrets(result, target);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    const text = result.stdout;
    expect(text).toMatch(/^gitlab-aws-credential-helper doctor\n\nToken \(GITLAB_AWS_IDENTITY_TOKEN;/);
    expect(text).toMatch(/\n {2}sub +project_path:demo-group\/demo-project:ref_type:tag:ref:v1\.2\.0\n/);
    expect(text).toMatch(/\n {2}exp +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in (59|60) min\)\n/);
    expect(text).toMatch(/\n {2}duration +900 s +--duration-seconds\n/);
    expect(text).toContain('    rejects  Condition StringEquals gitlab.example.com:sub\n');
    expect(text).toContain(
      '               token:  "project_path:demo-group/demo-project:ref_type:tag:ref:v1.2.0"\n',
    );
    expect(text).toContain(`               policy: "${DEMO_SUB}"\n`);
    expect(text).toMatch(/\n {2}PROBLEM +trust-policy +no statement admits this token/);
    expect(text).toContain('- ref_type: the role wants "branch", the token has "tag"');
    expect(text.trimEnd().split('\n').at(-1)).toBe('Result: 1 problem, 0 warnings; exit 1');
  });
});

describe('doctor: each misconfiguration, its cause and its fix', () => {
  it('no token variable', async () => {
    const target = await job(undefined, { CI_SERVER_HOST: 'gitlab.example.com' });
    const { report } = await doctor(target);
    expect(report.token.present).toBe(false);
    expect(check(report, 'token-present')).toMatchObject({
      verdict: 'problem',
      summary: 'no ID token: the variable GITLAB_AWS_IDENTITY_TOKEN is not set',
      fix: 'add to the job:\n  id_tokens:\n    GITLAB_AWS_IDENTITY_TOKEN:\n      aud: https://gitlab.example.com',
    });
    expect(check(report, 'token-expiry').verdict).toBe('skipped');
  });

  it('the token under another variable name (and a deprecated job JWT beside it)', async () => {
    const token = await bed.mint();
    const target = await job(undefined, { MY_AWS_TOKEN: token, CI_JOB_JWT_V2: await bed.mint() });
    const { report } = await doctor(target);
    const present = check(report, 'token-present');
    expect(present.verdict).toBe('problem');
    expect(present.fix).toBe(
      'read it from MY_AWS_TOKEN: pass -j MY_AWS_TOKEN (or set GITLAB_AWS_IDENTITY_TOKEN_NAME=MY_AWS_TOKEN)',
    );
    expect(present.details).toEqual([
      `MY_AWS_TOKEN (iss ${ISS}, aud ${ISS}) holds a JWT`,
      `CI_JOB_JWT_V2 (iss ${ISS}, aud ${ISS}) is GitLab's deprecated job JWT, removed in GitLab 17.0`,
    ]);
    const fixed = await doctor(target, ['-j', 'MY_AWS_TOKEN']);
    expect(check(fixed.report, 'token-present').verdict).toBe('ok');
    expect(fixed.result.code).toBe(0);
  });

  it('an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const target = await job(await bed.mint({}, { issuedAt: now - 7200, expiresInSeconds: 3600 }));
    const { report } = await doctor(target);
    const expiry = check(report, 'token-expiry');
    expect(expiry.verdict).toBe('problem');
    expect(expiry.summary).toMatch(
      /^the token expired at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(60 min ago\)$/,
    );
    expect(expiry.fix).toContain('raise the job timeout');
  });

  it('a token not yet valid (clock skew)', async () => {
    const later = Math.floor(Date.now() / 1000) + 3600;
    const target = await job(await bed.mint({}, { issuedAt: later, notBefore: later }));
    const { report } = await doctor(target);
    const start = check(report, 'token-not-before');
    expect(start.verdict).toBe('problem');
    expect(start.summary).toMatch(/valid only from .* \(nbf\), 60 min from now by this machine's clock/);
    expect(start.fix).toContain('NTP');
  });

  it('a wrong audience: refused by the policy offline, and by STS with --live', async () => {
    const target = await job(await bed.mint({ aud: 'https://gitlab.example.com/' }));
    const path = await writePolicy(target, policy(DOCUMENTED(DEMO_SUB)));
    const { report } = await doctor(target, ['--trust-policy', path, '--live']);
    const decision = check(report, 'trust-policy');
    expect(decision.verdict).toBe('problem');
    expect(decision.summary).toContain(
      'StringEquals gitlab.example.com:aud: the token has "https://gitlab.example.com/", the role wants "https://gitlab.example.com"',
    );
    expect(decision.fix).toContain(
      `the token's aud is "https://gitlab.example.com/": set the job's id_tokens: aud: to "https://gitlab.example.com"`,
    );
    const live = check(report, 'live-exchange');
    expect(live.verdict).toBe('problem');
    expect(live.summary).toContain('STS rejected the token\'s audience "https://gitlab.example.com/"');
    expect(live.summary).toMatch(/\[request id [0-9a-f-]{36}\]/);
    expect(live.fix).toContain('as an audience (client ID) of the IAM OIDC provider');
    expect(report.live?.exchange?.error?.code).toBe('InvalidIdentityToken');
  });

  it('an issuer not registered as a provider: the policy names another, and STS finds none', async () => {
    const target = await job(await bed.mint({ iss: 'https://gitlab.internal.example' }));
    const path = await writePolicy(target, policy(DOCUMENTED(DEMO_SUB)));
    const { report } = await doctor(target, ['--trust-policy', path, '--live']);
    const decision = check(report, 'trust-policy');
    expect(decision.summary).toContain(
      'provider gitlab.example.com ≠ gitlab.internal.example (the token’s issuer)',
    );
    expect(decision.fix).toContain(
      `Principal: { Federated: arn:aws:iam::${bed.accountId}:oidc-provider/gitlab.internal.example }`,
    );
    const live = check(report, 'live-exchange');
    expect(live.summary).toContain(
      "STS found no IAM OIDC provider for the token's issuer https://gitlab.internal.example",
    );
    expect(live.fix).toContain(
      'create an IAM OIDC identity provider with URL https://gitlab.internal.example',
    );
    expect(check(report, 'issuer').summary).toContain(
      `arn:aws:iam::${bed.accountId}:oidc-provider/gitlab.internal.example`,
    );
  });

  it('a role trusting another project', async () => {
    const target = await job(await bed.mint());
    const path = await writePolicy(
      target,
      policy(DOCUMENTED('project_path:demo-group/other-project:ref_type:branch:ref:main')),
    );
    const { report } = await doctor(target, ['--trust-policy', path]);
    const decision = check(report, 'trust-policy');
    expect(decision.verdict).toBe('problem');
    expect(decision.details).toEqual([
      'project_path: the role wants "demo-group/other-project", the token has "demo-group/demo-project"',
    ]);
    expect(decision.fix).toContain(
      "this job runs in demo-group/demo-project, the role trusts demo-group/other-project: use that project's own role (--role-name)",
    );
  });

  it('a role trusting only main while the job runs on a tag', async () => {
    const target = await job(await bed.mint({ ref: 'v1.2.0', ref_type: 'tag' }));
    const path = await writePolicy(target, policy(DOCUMENTED(DEMO_SUB)));
    const { report } = await doctor(target, ['--trust-policy', path]);
    const decision = check(report, 'trust-policy');
    expect(decision.details).toEqual([
      'ref_type: the role wants "branch", the token has "tag"',
      'ref: the role wants "main", the token has "v1.2.0"',
    ]);
    expect(decision.fix).toContain(
      'the role trusts branch main, this pipeline runs for tag v1.2.0: add "project_path:demo-group/demo-project:ref_type:tag:ref:v1.2.0" to the role\'s sub values',
    );
  });

  it('a merge request pipeline from a fork', async () => {
    const target = await job(
      await bed.mint({
        project_path: 'contributor/demo-project',
        ref: 'fix-typo',
        pipeline_source: 'merge_request_event',
      }),
      {
        CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: 'contributor/demo-project',
        CI_MERGE_REQUEST_PROJECT_PATH: 'demo-group/demo-project',
      },
    );
    const path = await writePolicy(target, policy(DOCUMENTED(DEMO_SUB)));
    const { report } = await doctor(target, ['--trust-policy', path]);
    const pipeline = check(report, 'pipeline');
    expect(pipeline.verdict).toBe('problem');
    expect(pipeline.summary).toBe(
      "a merge request pipeline from the fork contributor/demo-project: GitLab puts the fork's path into the token's sub (project_path:contributor/demo-project:…), so a role that trusts demo-group/demo-project refuses it",
    );
    expect(pipeline.fix).toContain('$CI_MERGE_REQUEST_SOURCE_PROJECT_PATH != $CI_PROJECT_PATH');
    expect(check(report, 'trust-policy').verdict).toBe('problem');
  });

  it('StringEquals with a wildcard', async () => {
    const target = await job(await bed.mint());
    const path = await writePolicy(
      target,
      policy(DOCUMENTED('project_path:demo-group/demo-project:ref_type:branch:ref:*')),
    );
    const { report } = await doctor(target, ['--trust-policy', path]);
    const decision = check(report, 'trust-policy');
    expect(decision.verdict).toBe('problem');
    expect(decision.details).toEqual([
      '"project_path:demo-group/demo-project:ref_type:branch:ref:*" holds a wildcard, but StringEquals compares * and ? literally',
    ]);
    expect(decision.fix).toBe(
      'use StringLike for the sub condition: with StringLike the pattern matches this token',
    );
    expect(check(report, 'policy-wildcard-in-equals')).toMatchObject({
      verdict: 'warning',
      fix: 'use StringLike for gitlab.example.com:sub',
    });
  });

  it('no sub condition', async () => {
    const target = await job(await bed.mint());
    const path = await writePolicy(target, policy({ StringEquals: { [`${HOST}:aud`]: ISS } }));
    const { report } = await doctor(target, ['--trust-policy', path]);
    expect(check(report, 'trust-policy').verdict).toBe('ok');
    expect(check(report, 'policy-no-sub-condition')).toMatchObject({
      verdict: 'problem',
      summary:
        'Statement[0] has no gitlab.example.com:sub condition: every project on gitlab.example.com can assume the role',
    });
    expect(report.ok).toBe(false);
  });

  it('a sub pattern that admits every project', async () => {
    const target = await job(await bed.mint());
    const path = await writePolicy(
      target,
      policy({ StringLike: { [`${HOST}:sub`]: 'project_path:*:ref_type:branch:ref:main' } }),
    );
    const { report } = await doctor(target, ['--trust-policy', path]);
    expect(check(report, 'policy-any-project')).toMatchObject({ verdict: 'problem' });
    expect(check(report, 'policy-any-project').fix).toContain('name the project in the sub pattern');
  });

  it('conditions on claims IAM does not offer for GitLab', async () => {
    const target = await job(await bed.mint());
    const path = await writePolicy(
      target,
      policy({ ...DOCUMENTED(DEMO_SUB), StringLike: { [`${HOST}:ref_protected`]: 'true' } }),
    );
    const { report } = await doctor(target, ['--trust-policy', path]);
    expect(check(report, 'policy-unknown-key').summary).toContain(
      'tests gitlab.example.com:ref_protected, which IAM does not offer for GitLab tokens',
    );
    expect(check(report, 'trust-policy').fix).toContain(
      'IAM has no condition key gitlab.example.com:ref_protected',
    );
  });

  it('a role name cut to 64 characters', async () => {
    const slug = `${'platform-engineering-'.repeat(2)}infrastructure-deployments`;
    const uncut = `gitlab-${slug}`;
    const cut = uncut.slice(0, 64);
    const target = await job(await bed.mint(), {
      CI_PROJECT_PATH: 'platform-engineering/platform-engineering/infrastructure-deployments',
      CI_PROJECT_PATH_SLUG: slug,
    });
    const template = `AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Slug: { Type: String, Default: ${slug} }
Resources:
  PipelineRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub gitlab-\${Slug}
      AssumeRolePolicyDocument:
        Version: 2012-10-17
        Statement:
          - Effect: Allow
            Principal: { Federated: !Sub 'arn:\${AWS::Partition}:iam::\${AWS::AccountId}:oidc-provider/${HOST}' }
            Action: sts:AssumeRoleWithWebIdentity
            Condition:
              StringLike: { '${HOST}:sub': 'project_path:platform-engineering/*' }
`;
    const path = await writePolicy(target, template, 'role.yaml');
    const { report } = await doctor(target, ['--trust-policy', path]);
    expect(check(report, 'role-name')).toMatchObject({
      verdict: 'warning',
      summary: `the default role name ${uncut} has ${uncut.length} characters; IAM allows 64, so the helper assumes ${cut}`,
      fix: `create the role as ${cut} (role-template does), or name the role with --role-name`,
    });
    expect(report.settings.find((s) => s.name === 'role')?.note).toBe(
      `cut to 64 characters from ${uncut} (${uncut.length})`,
    );
    const match = check(report, 'role-name-match');
    expect(match.verdict).toBe('problem');
    expect(match.summary).toContain(
      `is /${uncut}, but the helper assumes arn:aws:iam::${bed.accountId}:role/${cut}`,
    );
    expect(match.summary).toContain('IAM role names have at most 64 characters');
  });

  it('a duration above the role maximum (--live), and from the role’s own description', async () => {
    const target = await job(await bed.mint());
    const { report } = await doctor(target, ['--role-name', 'one-hour-max', '-d', '7200', '--live']);
    const live = check(report, 'live-exchange');
    expect(live.verdict).toBe('problem');
    expect(live.summary).toContain(
      `the requested duration of 7200 seconds exceeds the maximum session duration of arn:aws:iam::${bed.accountId}:role/one-hour-max`,
    );
    expect(live.fix).toContain('lower --duration-seconds');
    expect(report.live?.exchange?.error).toMatchObject({ code: 'ValidationError' });

    const getRole = {
      Role: {
        Path: '/',
        RoleName: 'one-hour-max',
        Arn: `arn:aws:iam::${bed.accountId}:role/one-hour-max`,
        MaxSessionDuration: 3600,
        AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(policy(DOCUMENTED(DEMO_SUB)))),
      },
    };
    const offline = await doctor(
      target,
      ['--role-name', 'one-hour-max', '-d', '7200', '--trust-policy', '-'],
      JSON.stringify(getRole),
    );
    expect(offline.report.trustPolicy?.kind).toBe('get-role');
    expect(check(offline.report, 'max-session-duration')).toMatchObject({
      verdict: 'problem',
      summary:
        'the role in stdin allows sessions of at most 3600 s, but the helper asks for 7200 s: STS answers ValidationError',
    });
  });

  it('an explicit Deny', async () => {
    const target = await job(await bed.mint({ ref: 'v1.2.0', ref_type: 'tag' }));
    const deny = {
      Sid: 'NoTags',
      Effect: 'Deny',
      Principal: { Federated: bed.providerArn },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringLike: { [`${HOST}:sub`]: '*:ref_type:tag:*' } },
    };
    const path = await writePolicy(
      target,
      policy({ StringLike: { [`${HOST}:sub`]: 'project_path:demo-group/demo-project:*' } }, [deny]),
    );
    const { report } = await doctor(target, ['--trust-policy', path]);
    expect(report.trustPolicy).toMatchObject({ decision: 'explicit-deny', matchedStatement: 1 });
    const decision = check(report, 'trust-policy');
    expect(decision.summary).toBe(
      'Statement[1] (Sid "NoTags") (Deny) refuses this token explicitly: all its conditions hold; an explicit Deny wins over every Allow',
    );
    expect(decision.fix).toBe('remove or narrow that Deny, or run the job where its conditions do not hold');
  });

  it('a CloudFormation template with !Sub in the conditions, parameters from defaults and --parameter', async () => {
    const target = await job(await bed.mint());
    const template = `AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ProjectPath: { Type: String }
  Branch: { Type: String, Default: main, AllowedPattern: "[A-Za-z0-9._/*-]+" }
Conditions:
  WithAudience: !Equals [!Ref AWS::Partition, aws]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Join ['-', [gitlab, !Select [0, !Split ['/', !Ref ProjectPath]], demo-project]]
      MaxSessionDuration: 7200
      AssumeRolePolicyDocument:
        Version: 2012-10-17
        Statement:
          - Effect: Allow
            Principal:
              Federated: !Sub arn:\${AWS::Partition}:iam::\${AWS::AccountId}:oidc-provider/${HOST}
            Action: [sts:AssumeRoleWithWebIdentity]
            Condition:
              StringEquals:
                ${HOST}:aud: !If [WithAudience, ${ISS}, !Ref AWS::NoValue]
              StringLike:
                ${HOST}:sub: !Sub project_path:\${ProjectPath}:ref_type:branch:ref:\${Branch}
`;
    const path = await writePolicy(target, template, 'role.yml');
    const missing = await doctor(target, ['--trust-policy', path]);
    expect(check(missing.report, 'trust-policy')).toMatchObject({
      verdict: 'problem',
      summary: expect.stringContaining('parameter ProjectPath has no Default'),
      fix: 'pass its value with --parameter ProjectPath=<value>',
    });

    const admitted = await doctor(target, [
      '--trust-policy',
      path,
      '--parameter',
      'ProjectPath=demo-group/demo-project',
    ]);
    expect(admitted.result.code).toBe(0);
    expect(check(admitted.report, 'trust-policy').verdict).toBe('ok');
    expect(check(admitted.report, 'role-name-match').verdict).toBe('ok');

    const refused = await doctor(target, [
      '--trust-policy',
      path,
      '--parameter',
      'ProjectPath=demo-group/demo-project',
      '--parameter',
      'Branch=release/*',
    ]);
    expect(check(refused.report, 'trust-policy').details).toEqual([
      'ref: the role wants "release/*", the token has "main"',
    ]);

    const invalid = await doctor(target, [
      '--trust-policy',
      path,
      '--parameter',
      'ProjectPath=x',
      '--parameter',
      'Branch=a b',
    ]);
    expect(check(invalid.report, 'trust-policy').summary).toBe(
      'template parameter Branch: "a b" does not match its AllowedPattern',
    );
  });
});

describe('doctor: input errors and the other modes', () => {
  it('a wrong --format or --parameter is a usage error on one line', async () => {
    const target = await job(await bed.mint());
    const format = await runCli(['doctor', '--format', 'yaml'], target.env);
    expect(format.code).toBe(2);
    expect(format.stderr).toBe(
      'gitlab-aws-credential-helper: --format: expected text or json for doctor, got "yaml". Fix: use --format json for machines, or leave it out.\n',
    );
    const parameter = await runCli(['doctor', '--parameter', 'novalue'], target.env);
    expect(parameter.code).toBe(2);
    expect(parameter.stderr).toContain('--parameter: expected Key=Value');
    expect(parameter.stdout).toBe('');
  });

  it('an unreadable or malformed trust policy is a problem in the report', async () => {
    const target = await job(await bed.mint());
    const absent = await doctor(target, ['--trust-policy', join(target.home, 'nope.json')]);
    expect(check(absent.report, 'trust-policy').summary).toMatch(
      /^cannot read the trust policy .*nope\.json \(ENOENT\)$/,
    );
    const broken = await writePolicy(target, '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}');
    const malformed = await doctor(target, ['--trust-policy', broken]);
    expect(check(malformed.report, 'trust-policy').summary).toBe(
      'IAM would reject this policy: trust policy: Statement[0].Principal: missing; a role trust policy statement must name a Principal',
    );
  });

  it('AccessDenied in process mode names doctor --trust-policy as the next step', async () => {
    const target = await job(await bed.mint({ ref: 'feature/x' }));
    const result = await runCli(['process', '--no-cache'], target.env);
    assertNoSecrets(result, target);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      "`gitlab-aws-credential-helper doctor --trust-policy <the role's template, or aws iam get-role output>` shows which condition refuses",
    );
  });

  it('InvalidIdentityToken in env mode names doctor', async () => {
    const target = await job(await bed.mint({ aud: 'sts.amazonaws.com' }));
    const result = await runCli(['env', '--no-cache'], target.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "`gitlab-aws-credential-helper doctor` shows the token's iss, aud and times",
    );
  });
});
