import { describe, expect, it } from 'vitest';
import { resolveSettings, type Settings } from '../config/resolve.js';
import { ConfigError, TokenError } from '../errors.js';
import type { LoadedTrustPolicy } from '../policy/document.js';
import type { TokenClaims } from '../token/claims.js';
import { renderDoctorJson, renderDoctorText } from './render.js';
import { buildDoctorReport, type DoctorInput, type DoctorReport, formatDuration } from './report.js';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const NOW_S = NOW / 1000;
const HOST = 'gitlab.example.com';
const ISS = `https://${HOST}`;
const SUB = 'project_path:g/p:ref_type:branch:ref:main';
const ENV = {
  GITLAB_AWS_ACCOUNT_ID: '123456789012',
  CI_PROJECT_PATH: 'g/p',
  CI_PROJECT_PATH_SLUG: 'g-p',
  CI_PIPELINE_ID: '9',
};
const SETTINGS: Settings = resolveSettings('doctor', {}, ENV);
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${HOST}`;

function claims(overrides: Record<string, unknown> = {}): TokenClaims {
  return {
    iss: ISS,
    aud: ISS,
    sub: SUB,
    iat: NOW_S - 60,
    nbf: NOW_S - 65,
    exp: NOW_S + 3540,
    project_path: 'g/p',
    ref: 'main',
    ref_type: 'branch',
    pipeline_source: 'push',
    ...overrides,
  };
}

function report(overrides: Partial<DoctorInput> = {}, tokenClaims: TokenClaims = claims()): DoctorReport {
  return buildDoctorReport({
    now: NOW,
    env: ENV,
    flags: {},
    settings: { ok: true, value: SETTINGS },
    token: { kind: 'found', source: 'GITLAB_AWS_IDENTITY_TOKEN', claims: tokenClaims },
    trustPolicy: undefined,
    live: undefined,
    ...overrides,
  });
}

function withPolicy(policy: unknown, tokenClaims?: TokenClaims): DoctorReport {
  const loaded: LoadedTrustPolicy = { kind: 'iam-policy', policy, role: undefined };
  return report({ trustPolicy: { name: 'policy.json', loaded: { ok: true, value: loaded } } }, tokenClaims);
}

function allow(condition: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: PROVIDER },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
        ...extra,
      },
    ],
  };
}

function verdicts(built: DoctorReport): Record<string, string> {
  return Object.fromEntries(built.checks.map((check) => [check.id, check.verdict]));
}

function check(built: DoctorReport, id: string) {
  const found = built.checks.find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no check ${id}`);
  return found;
}

describe('buildDoctorReport: the token', () => {
  it('a healthy token passes every check; the policy is reported as not checked, not as passing', () => {
    const built = report();
    expect(verdicts(built)).toEqual({
      settings: 'ok',
      'role-name': 'ok',
      'token-present': 'ok',
      'token-format': 'ok',
      'token-expiry': 'ok',
      'token-not-before': 'ok',
      issuer: 'ok',
      audience: 'ok',
      pipeline: 'ok',
      'trust-policy': 'skipped',
    });
    expect(built).toMatchObject({ ok: true, problems: 0, warnings: 0 });
    expect(built.token.times).toEqual([
      { claim: 'iat', epoch: NOW_S - 60, utc: '2026-12-02 11:59:00 UTC', relative: '60 s ago' },
      { claim: 'nbf', epoch: NOW_S - 65, utc: '2026-12-02 11:58:55 UTC', relative: '65 s ago' },
      { claim: 'exp', epoch: NOW_S + 3540, utc: '2026-12-02 12:59:00 UTC', relative: 'in 59 min' },
    ]);
  });

  it.each([
    [-301, 'problem', /^the token expired at 2026-12-02 11:54:59 UTC \(5 min ago\)$/],
    [
      -60,
      'warning',
      /^the token expired 60 s ago; STS tolerates 5 minutes of clock skew, so it works for 4 min more at most$/,
    ],
    [100, 'warning', /^the token expires in 100 s$/],
    [301, 'ok', /^valid until/],
  ] as const)('exp %i s from now: %s', (offset, verdict, summary) => {
    const expiry = check(report({}, claims({ exp: NOW_S + offset })), 'token-expiry');
    expect(expiry.verdict).toBe(verdict);
    expect(expiry.summary).toMatch(summary);
  });

  it.each([
    [301, 'problem'],
    [30, 'warning'],
    [0, 'ok'],
  ] as const)('nbf %i s ahead of this clock: %s', (ahead, verdict) => {
    expect(
      check(report({}, claims({ nbf: NOW_S + ahead, iat: NOW_S + ahead })), 'token-not-before').verdict,
    ).toBe(verdict);
  });

  it('several audiences are a warning, none a problem; an issuer without https a problem', () => {
    expect(check(report({}, claims({ aud: [ISS, 'sts.amazonaws.com'] })), 'audience').verdict).toBe(
      'warning',
    );
    expect(check(report({}, claims({ aud: undefined })), 'audience').verdict).toBe('problem');
    expect(check(report({}, claims({ iss: 'http://gitlab.local:8080' })), 'issuer')).toMatchObject({
      verdict: 'problem',
      summary:
        'the issuer "http://gitlab.local:8080" cannot be an IAM OIDC provider (it needs https://, no port, no query)',
    });
  });

  it('a token without sub or exp is a problem of format', () => {
    expect(check(report({}, claims({ sub: undefined, exp: undefined })), 'token-format')).toMatchObject({
      verdict: 'problem',
      summary: 'the token has no sub, exp: STS refuses it',
    });
  });

  it('a malformed value skips the checks that need claims, and says so', () => {
    const built = report({
      token: {
        kind: 'malformed',
        source: 'GITLAB_AWS_IDENTITY_TOKEN',
        error: new TokenError({
          code: 'MalformedToken',
          message: 'GITLAB_AWS_IDENTITY_TOKEN does not hold a JWT',
          hint: 'x',
        }),
      },
    });
    expect(verdicts(built)).toMatchObject({
      'token-present': 'ok',
      'token-format': 'problem',
      'token-expiry': 'skipped',
      issuer: 'skipped',
    });
    expect(built.ok).toBe(false);
  });
});

describe('buildDoctorReport: settings', () => {
  it('a settings problem is a problem, and the policy is then not evaluated', () => {
    const built = report({
      settings: {
        ok: false,
        error: new ConfigError({ code: 'MissingAccount', message: 'no AWS account', hint: 'set it' }),
      },
      trustPolicy: { name: 'p.json', loaded: undefined },
    });
    expect(check(built, 'settings')).toEqual({
      id: 'settings',
      verdict: 'problem',
      summary: 'no AWS account',
      fix: 'set it',
    });
    expect(check(built, 'trust-policy').verdict).toBe('skipped');
    expect(built.settings).toEqual([]);
  });

  it('names where each setting came from', () => {
    const env = { ...ENV, AWS_REGION: 'eu-west-1' };
    const flags = { durationSeconds: '900', roleSessionName: 'mine' };
    const built = report({
      env,
      flags,
      settings: { ok: true, value: resolveSettings('doctor', flags, env) },
    });
    expect(built.settings.map((entry) => [entry.name, entry.value, entry.source])).toEqual([
      ['account', '123456789012', 'GITLAB_AWS_ACCOUNT_ID'],
      ['role', 'arn:aws:iam::123456789012:role/gitlab-g-p', 'default: gitlab-$CI_PROJECT_PATH_SLUG'],
      ['session name', 'mine', '--role-session-name'],
      ['region', 'eu-west-1 (partition aws)', 'AWS_REGION'],
      ['endpoint', 'https://sts.eu-west-1.amazonaws.com', 'default for the region'],
      ['duration', '900 s', '--duration-seconds'],
      ['token source', 'variable GITLAB_AWS_IDENTITY_TOKEN', 'default'],
    ]);
  });
});

describe('buildDoctorReport: trust-policy traps', () => {
  const aud = { [`${HOST}:aud`]: ISS };

  it('a set operator on sub (ForAllValues also holds without the key)', () => {
    const built = withPolicy(
      allow({ StringEquals: aud, 'ForAllValues:StringLike': { [`${HOST}:sub`]: 'project_path:g/p:*' } }),
    );
    expect(check(built, 'policy-set-operator').summary).toBe(
      `Statement[0] uses ForAllValues:StringLike on ${HOST}:sub, a single-valued key: ForAllValues also holds when the key is absent`,
    );
    expect(check(built, 'policy-no-sub-condition').verdict).toBe('problem');
  });

  it('a key of another provider, and a key doctor cannot know', () => {
    const built = withPolicy(
      allow({
        StringEquals: {
          ...aud,
          [`${HOST}:sub`]: SUB,
          'token.actions.githubusercontent.com:sub': 'repo:g/p:ref:refs/heads/main',
        },
        IpAddress: { 'aws:SourceIp': '10.0.0.0/8' },
      }),
    );
    expect(check(built, 'policy-other-provider-key').fix).toBe(`write the key as ${HOST}:sub`);
    expect(check(built, 'policy-unknown-context').summary).toBe(
      'Statement[0] tests aws:SourceIp, which doctor cannot know offline; it was evaluated as absent',
    );
    expect(check(built, 'trust-policy').verdict).toBe('problem');
  });

  it('sts:RoleSessionName is known: the settings give it', () => {
    const built = withPolicy(
      allow({
        StringEquals: { ...aud, [`${HOST}:sub`]: SUB },
        StringLike: { 'sts:RoleSessionName': 'gitlab-g-p-*' },
      }),
    );
    expect(check(built, 'trust-policy').verdict).toBe('ok');
    expect(built.checks.some((c) => c.id === 'policy-unknown-context')).toBe(false);
  });

  it('an action that is not AssumeRoleWithWebIdentity, and no Allow at all', () => {
    const wrongAction = withPolicy(
      allow({ StringEquals: { ...aud, [`${HOST}:sub`]: SUB } }, { Action: 'sts:AssumeRole' }),
    );
    expect(check(wrongAction, 'trust-policy').fix).toBe('allow the action sts:AssumeRoleWithWebIdentity');
    const denyOnly = withPolicy({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 'sts:TagSession' }],
    });
    expect(check(denyOnly, 'trust-policy').summary).toBe(
      'the policy has no Allow statement: nothing can assume the role',
    );
  });

  it('picks the closest of several Allow statements to explain', () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/gitlab.com' },
          Action: 'sts:AssumeRole',
        },
        {
          Effect: 'Allow',
          Principal: { Federated: PROVIDER },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${HOST}:sub`]: 'project_path:g/p:ref_type:branch:ref:dev' } },
        },
      ],
    };
    const decision = check(withPolicy(policy), 'trust-policy');
    expect(decision.summary).toContain('Statement[1] (closest of 2 Allow statements) rejects it on');
    expect(decision.details).toEqual(['ref: the role wants "dev", the token has "main"']);
  });

  it('a fork the policy admits is a warning: the fork’s code gets the role', () => {
    const fork = claims({
      project_path: 'someone/p',
      sub: 'project_path:someone/p:ref_type:branch:ref:main',
      pipeline_source: 'merge_request_event',
    });
    const built = withPolicy(
      allow({ StringLike: { ...aud, [`${HOST}:sub`]: 'project_path:*:ref_type:branch:ref:main' } }),
      fork,
    );
    expect(check(built, 'pipeline').verdict).toBe('warning');
    expect(check(built, 'policy-any-project').verdict).toBe('problem');
  });
});

describe('buildDoctorReport: live', () => {
  it('reports each outcome with the STS error code and request id', () => {
    const built = report({
      live: {
        exchange: {
          ok: false,
          error: new ConfigError({
            code: 'AccessDenied',
            message: 'STS refused',
            hint: 'check the role',
            requestId: 'req-1',
          }),
        },
        callerIdentity: undefined,
      },
    });
    expect(check(built, 'live-exchange')).toEqual({
      id: 'live-exchange',
      verdict: 'problem',
      summary: 'AccessDenied: STS refused [request id req-1]',
      fix: 'check the role',
    });
    expect(check(built, 'live-caller-identity').verdict).toBe('skipped');
    expect(built.live?.exchange).toEqual({
      ok: false,
      error: { code: 'AccessDenied', message: 'STS refused', fix: 'check the role', requestId: 'req-1' },
    });
  });
});

describe('rendering', () => {
  it('JSON keeps the documented top-level fields', () => {
    const parsed = JSON.parse(renderDoctorJson(report())) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual([
      'version',
      'ok',
      'problems',
      'warnings',
      'token',
      'settings',
      'checks',
    ]);
    const withLive = JSON.parse(
      renderDoctorJson(withPolicy(allow({ StringEquals: { [`${HOST}:sub`]: SUB } }))),
    ) as Record<string, unknown>;
    expect(Object.keys(withLive.trustPolicy as object)).toEqual([
      'source',
      'kind',
      'request',
      'decision',
      'matchedStatement',
      'statements',
    ]);
  });

  it('escapes control characters from claims instead of sending them to the terminal', () => {
    const text = renderDoctorText(report({}, claims({ ref: 'main\u001b[2J\nfake line' })));
    expect(text).toContain('main\\u001b[2J\\u000afake line');
    expect(text).not.toContain('\u001b');
  });

  it.each([
    [59, '59 s'],
    [119, '119 s'],
    [3540, '59 min'],
    [7260, '2 h 1 min'],
    [259200, '3 days'],
  ])('formatDuration(%i) = %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
