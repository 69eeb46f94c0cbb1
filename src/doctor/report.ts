/**
 * The doctor's report as data: what AWS will see (the token's claims), every setting and where it
 * came from, the trust policy evaluated against the token, the live exchange, and checks with a
 * verdict and a fix each. Pure: the command gathers the inputs (environment, files, STS) and
 * renders the result; the field names are part of `--format json` and documented in the README.
 */
import { MAX_ROLE_NAME_LENGTH } from '../aws/names.js';
import { roleNameBeforeCut } from '../config/naming.js';
import { defaultOf } from '../config/options.js';
import { type FlagValues, projectSlug, rawValue, type Settings } from '../config/resolve.js';
import type { Environment } from '../environment.js';
import type { HelperError } from '../errors.js';
import type { LoadedTrustPolicy } from '../policy/document.js';
import {
  parseTrustPolicy,
  type StatementResult,
  type TrustPolicy,
  type TrustRequest,
} from '../policy/trust.js';
import { TOKEN_CLOCK_SKEW_SECONDS, type TokenClaims } from '../token/claims.js';
import type { Check } from './check.js';
import { analyzeTrustPolicy } from './policy.js';

export interface TokenCandidate {
  /** The variable's name; its value is never reported. */
  readonly name: string;
  readonly iss: string | undefined;
  readonly aud: string | readonly string[] | undefined;
}

export type TokenState =
  | { readonly kind: 'found'; readonly source: string; readonly claims: TokenClaims }
  | {
      readonly kind: 'missing';
      readonly source: string;
      readonly error: HelperError;
      /** Other variables of the environment that hold JWT-shaped values. */
      readonly candidates: readonly TokenCandidate[];
    }
  | { readonly kind: 'unreadable' | 'malformed'; readonly source: string; readonly error: HelperError };

export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: HelperError };

export interface LiveInput {
  readonly exchange:
    | Outcome<{ readonly assumedRoleArn: string | undefined; readonly expiration: Date }>
    | undefined;
  readonly callerIdentity:
    | Outcome<{ readonly account: string; readonly arn: string; readonly userId: string }>
    | undefined;
}

export interface DoctorInput {
  /** Epoch milliseconds. */
  readonly now: number;
  readonly env: Environment;
  readonly flags: FlagValues;
  readonly settings: Outcome<Settings>;
  readonly token: TokenState;
  readonly trustPolicy:
    | { readonly name: string; readonly loaded: Outcome<LoadedTrustPolicy> | undefined }
    | undefined;
  readonly live: LiveInput | undefined;
}

export interface TimeClaim {
  readonly claim: 'iat' | 'nbf' | 'exp';
  readonly epoch: number;
  /** `2026-12-02 16:23:00 UTC`. */
  readonly utc: string;
  /** `in 55 min`, `3 min ago`. */
  readonly relative: string;
}

export interface SettingEntry {
  readonly name: string;
  readonly value: string;
  /** The flag, the variable, or `default …`. */
  readonly source: string;
  readonly note?: string;
}

export interface ErrorView {
  readonly code: string;
  readonly message: string;
  readonly fix: string | undefined;
  readonly requestId: string | undefined;
}

export interface DoctorReport {
  /** Of this JSON shape; grows only by new fields. */
  readonly version: 1;
  readonly ok: boolean;
  readonly problems: number;
  readonly warnings: number;
  readonly token: {
    readonly source: string;
    readonly present: boolean;
    /** The claims AWS and trust policies look at; the token itself is never included. */
    readonly claims: Readonly<Record<string, string | readonly string[]>>;
    readonly times: readonly TimeClaim[];
  };
  readonly settings: readonly SettingEntry[];
  readonly trustPolicy:
    | {
        readonly source: string;
        readonly kind: LoadedTrustPolicy['kind'] | undefined;
        readonly role: LoadedTrustPolicy['role'];
        /** What doctor asked the evaluator, as STS would. */
        readonly request: TrustRequest | undefined;
        readonly decision: 'allowed' | 'explicit-deny' | 'no-matching-allow' | undefined;
        readonly matchedStatement: number | undefined;
        readonly statements: readonly StatementResult[];
      }
    | undefined;
  readonly live:
    | {
        readonly exchange:
          | { readonly ok: true; readonly assumedRoleArn: string | undefined; readonly expiration: string }
          | { readonly ok: false; readonly error: ErrorView }
          | undefined;
        readonly callerIdentity:
          | { readonly ok: true; readonly account: string; readonly arn: string; readonly userId: string }
          | { readonly ok: false; readonly error: ErrorView }
          | undefined;
      }
    | undefined;
  readonly checks: readonly Check[];
}

/** Claims shown besides iss/aud/sub: the ones people base trust on. */
const SHOWN_CLAIMS = [
  'iss',
  'aud',
  'sub',
  'project_path',
  'ref',
  'ref_type',
  'ref_protected',
  'environment',
  'pipeline_source',
  'user_login',
] as const;

const DEPRECATED_TOKENS = new Set(['CI_JOB_JWT', 'CI_JOB_JWT_V1', 'CI_JOB_JWT_V2']);

// ---------------------------------------------------------------------------------------------
// Times

function formatUtc(epochSeconds: number): string {
  return `${new Date(epochSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function formatDuration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 2 * 3600) return `${Math.round(s / 60)} min`;
  if (s < 2 * 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.round(s / 86400)} days`;
}

function relative(epochSeconds: number, nowSeconds: number): string {
  const delta = epochSeconds - nowSeconds;
  if (delta === 0) return 'now';
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(delta)} ago`;
}

// ---------------------------------------------------------------------------------------------
// Helpers

const quote = (value: string): string => JSON.stringify(value);

function audienceList(aud: TokenClaims['aud']): readonly string[] {
  if (aud === undefined) return [];
  return typeof aud === 'string' ? [aud] : aud;
}

/** `https://gitlab.example.com/` → `gitlab.example.com`: the provider's name in IAM and its key prefix. */
function providerHostOf(iss: string): string {
  return iss.replace(/^https:\/\//, '').replace(/\/+$/, '');
}

function providerArnFor(partition: string, accountId: string, iss: string): string {
  return `arn:${partition}:iam::${accountId}:oidc-provider/${providerHostOf(iss)}`;
}

function errorView(error: HelperError): ErrorView {
  return { code: error.code, message: error.message, fix: error.hint, requestId: error.requestId };
}

function sourceOf(
  key: Parameters<typeof rawValue>[0],
  flags: FlagValues,
  env: Environment,
): string | undefined {
  return rawValue(key, flags, env)?.source;
}

function claimText(value: unknown): string | readonly string[] | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Sections

function tokenSection(input: DoctorInput): DoctorReport['token'] {
  const { token } = input;
  if (token.kind !== 'found') return { source: token.source, present: false, claims: {}, times: [] };
  const claims: Record<string, string | readonly string[]> = {};
  for (const name of SHOWN_CLAIMS) {
    const value = claimText(token.claims[name]);
    if (value !== undefined) claims[name] = value;
  }
  const nowSeconds = Math.floor(input.now / 1000);
  const times: TimeClaim[] = [];
  for (const claim of ['iat', 'nbf', 'exp'] as const) {
    const epoch = token.claims[claim];
    if (epoch !== undefined)
      times.push({ claim, epoch, utc: formatUtc(epoch), relative: relative(epoch, nowSeconds) });
  }
  return { source: token.source, present: true, claims, times };
}

function settingsSection(input: DoctorInput): SettingEntry[] {
  const { flags, env } = input;
  if (!input.settings.ok) return [];
  const settings = input.settings.value;
  const from = (key: Parameters<typeof rawValue>[0], fallback: string): string =>
    sourceOf(key, flags, env) ?? fallback;
  const entries: SettingEntry[] = [
    { name: 'account', value: settings.accountId, source: from('awsAccount', 'the role ARN') },
  ];
  const slug = projectSlug(env);
  const roleGiven = sourceOf('roleName', flags, env);
  const uncut = slug === undefined ? undefined : roleNameBeforeCut(slug.slug);
  entries.push({
    name: 'role',
    value: settings.roleArn,
    source: roleGiven ?? `default: gitlab-$${slug?.source ?? 'CI_PROJECT_PATH_SLUG'}`,
    ...(roleGiven === undefined && uncut !== undefined && uncut.length > MAX_ROLE_NAME_LENGTH
      ? { note: `cut to ${MAX_ROLE_NAME_LENGTH} characters from ${uncut} (${uncut.length})` }
      : {}),
  });
  entries.push({
    name: 'session name',
    value: settings.roleSessionName,
    source: from('roleSessionName', `default: <role name>-$CI_PIPELINE_ID`),
  });
  entries.push({
    name: 'region',
    value: `${settings.region} (partition ${settings.partition.id})`,
    source: from('region', 'default'),
  });
  entries.push({
    name: 'endpoint',
    value: settings.endpoint,
    source: settings.endpointSource !== undefined ? from('endpointUrl', 'default') : 'default for the region',
  });
  entries.push({
    name: 'duration',
    value: `${settings.durationSeconds} s`,
    source: from('durationSeconds', 'default'),
  });
  const tokenSource = settings.tokenSource;
  entries.push(
    tokenSource.kind === 'file'
      ? {
          name: 'token source',
          value: `file ${tokenSource.path}`,
          source: from('webIdentityTokenFile', 'default'),
        }
      : {
          name: 'token source',
          value: `variable ${tokenSource.name}`,
          source: from('webIdentityTokenName', 'default'),
        },
  );
  return entries;
}

// ---------------------------------------------------------------------------------------------
// Checks

function settingsChecks(input: DoctorInput): Check[] {
  if (!input.settings.ok) {
    return [
      {
        id: 'settings',
        verdict: 'problem',
        summary: input.settings.error.message,
        ...(input.settings.error.hint === undefined ? {} : { fix: input.settings.error.hint }),
      },
    ];
  }
  const settings = input.settings.value;
  const checks: Check[] = [
    { id: 'settings', verdict: 'ok', summary: `the helper will assume ${settings.roleArn}` },
  ];
  const slug = projectSlug(input.env);
  if (sourceOf('roleName', input.flags, input.env) === undefined && slug !== undefined) {
    const uncut = roleNameBeforeCut(slug.slug);
    checks.push(
      uncut.length > MAX_ROLE_NAME_LENGTH
        ? {
            id: 'role-name',
            verdict: 'warning',
            summary: `the default role name ${uncut} has ${uncut.length} characters; IAM allows ${MAX_ROLE_NAME_LENGTH}, so the helper assumes ${settings.roleName}`,
            fix: `create the role as ${settings.roleName} (role-template does), or name the role with --role-name`,
          }
        : { id: 'role-name', verdict: 'ok', summary: `${settings.roleName}, from ${slug.source}` },
    );
  }
  return checks;
}

function idTokensLines(name: string, env: Environment): string {
  const host = env.CI_SERVER_HOST?.trim() || defaultOf('providerHost');
  return `add to the job:\n  id_tokens:\n    ${name}:\n      aud: https://${host}`;
}

function tokenPresentCheck(input: DoctorInput): Check {
  const { token } = input;
  if (token.kind === 'found')
    return { id: 'token-present', verdict: 'ok', summary: `${token.source} holds a token` };
  if (token.kind !== 'missing') {
    return {
      id: 'token-present',
      verdict: 'problem',
      summary: token.error.message,
      ...(token.error.hint === undefined ? {} : { fix: token.error.hint }),
    };
  }
  const current = token.candidates.filter((candidate) => !DEPRECATED_TOKENS.has(candidate.name));
  const deprecated = token.candidates.filter((candidate) => DEPRECATED_TOKENS.has(candidate.name));
  const describe = (candidate: TokenCandidate): string =>
    `${candidate.name} (iss ${candidate.iss ?? '?'}, aud ${audienceList(candidate.aud).join(', ') || '?'})`;
  const details = [
    ...current.map((candidate) => `${describe(candidate)} holds a JWT`),
    ...deprecated.map(
      (candidate) => `${describe(candidate)} is GitLab's deprecated job JWT, removed in GitLab 17.0`,
    ),
  ];
  const [first, ...others] = current;
  let fix: string;
  if (first !== undefined && others.length === 0) {
    fix = `read it from ${first.name}: pass -j ${first.name} (or set GITLAB_AWS_IDENTITY_TOKEN_NAME=${first.name})`;
  } else if (first !== undefined) {
    fix = `name the id_tokens: variable with -j (one of ${current.map((candidate) => candidate.name).join(', ')})`;
  } else {
    const name = token.source.startsWith('token file ') ? defaultOf('webIdentityTokenName') : token.source;
    fix = idTokensLines(name, input.env);
  }
  return {
    id: 'token-present',
    verdict: 'problem',
    summary: token.error.message,
    fix,
    ...(details.length > 0 ? { details } : {}),
  };
}

function tokenChecks(input: DoctorInput): Check[] {
  const checks = [tokenPresentCheck(input)];
  const { token } = input;
  const skipped = (id: string, what: string): Check => ({
    id,
    verdict: 'skipped',
    summary: `${what}: no token to check`,
  });
  if (token.kind !== 'found') {
    if (token.kind === 'malformed') {
      checks[0] = { id: 'token-present', verdict: 'ok', summary: `${token.source} holds a value` };
      checks.push({
        id: 'token-format',
        verdict: 'problem',
        summary: token.error.message,
        ...(token.error.hint === undefined ? {} : { fix: token.error.hint }),
      });
    } else {
      checks.push(skipped('token-format', 'format'));
    }
    return [
      ...checks,
      skipped('token-expiry', 'expiry'),
      skipped('token-not-before', 'validity start'),
      skipped('issuer', 'issuer'),
      skipped('audience', 'audience'),
    ];
  }
  const { claims } = token;
  const missing = (['iss', 'sub', 'aud', 'exp'] as const).filter((claim) => claims[claim] === undefined);
  checks.push(
    missing.length === 0
      ? {
          id: 'token-format',
          verdict: 'ok',
          summary: 'a JWT with iss, sub, aud and exp (its signature is for STS to verify)',
        }
      : {
          id: 'token-format',
          verdict: 'problem',
          summary: `the token has no ${missing.join(', ')}: STS refuses it`,
          fix: 'use the id_tokens: variable of the job, not another kind of token',
        },
  );
  const nowSeconds = Math.floor(input.now / 1000);
  if (claims.exp === undefined) {
    checks.push(skipped('token-expiry', 'expiry'));
  } else {
    const left = claims.exp - nowSeconds;
    const lifetimeFix =
      'GitLab ID tokens live as long as the job timeout: get credentials earlier in the job (aws-profile or env), or raise the job timeout';
    if (left < -TOKEN_CLOCK_SKEW_SECONDS) {
      checks.push({
        id: 'token-expiry',
        verdict: 'problem',
        summary: `the token expired at ${formatUtc(claims.exp)} (${formatDuration(left)} ago)`,
        fix: lifetimeFix,
      });
    } else if (left < 0) {
      checks.push({
        id: 'token-expiry',
        verdict: 'warning',
        summary: `the token expired ${formatDuration(left)} ago; STS tolerates ${TOKEN_CLOCK_SKEW_SECONDS / 60} minutes of clock skew, so it works for ${formatDuration(left + TOKEN_CLOCK_SKEW_SECONDS)} more at most`,
        fix: lifetimeFix,
      });
    } else if (left < TOKEN_CLOCK_SKEW_SECONDS) {
      checks.push({
        id: 'token-expiry',
        verdict: 'warning',
        summary: `the token expires in ${formatDuration(left)}`,
        fix: lifetimeFix,
      });
    } else {
      checks.push({
        id: 'token-expiry',
        verdict: 'ok',
        summary: `valid until ${formatUtc(claims.exp)} (${relative(claims.exp, nowSeconds)})`,
      });
    }
  }
  const start = claims.nbf ?? claims.iat;
  if (start === undefined) {
    checks.push({ id: 'token-not-before', verdict: 'ok', summary: 'the token has no nbf or iat' });
  } else {
    const ahead = start - nowSeconds;
    const claim = claims.nbf === undefined ? 'iat' : 'nbf';
    const skewFix =
      "this machine's clock is behind GitLab's (or GitLab's is ahead): synchronise the runner's clock (NTP); STS uses its own clock and tolerates 5 minutes";
    if (ahead > TOKEN_CLOCK_SKEW_SECONDS) {
      checks.push({
        id: 'token-not-before',
        verdict: 'problem',
        summary: `the token is valid only from ${formatUtc(start)} (${claim}), ${formatDuration(ahead)} from now by this machine's clock`,
        fix: skewFix,
      });
    } else if (ahead > 0) {
      checks.push({
        id: 'token-not-before',
        verdict: 'warning',
        summary: `the token's ${claim} is ${formatDuration(ahead)} in the future by this machine's clock (within STS's 5 minutes of tolerance)`,
        fix: skewFix,
      });
    } else {
      checks.push({
        id: 'token-not-before',
        verdict: 'ok',
        summary: `valid since ${formatUtc(start)} (${claim})`,
      });
    }
  }
  checks.push(issuerCheck(input, claims));
  checks.push(audienceCheck(claims));
  return checks;
}

function issuerCheck(input: DoctorInput, claims: TokenClaims): Check {
  const iss = claims.iss;
  if (iss === undefined)
    return {
      id: 'issuer',
      verdict: 'problem',
      summary: 'the token has no iss',
      fix: 'use the id_tokens: variable of the job',
    };
  let url: URL | undefined;
  try {
    url = new URL(iss);
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    url.protocol !== 'https:' ||
    url.port !== '' ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    return {
      id: 'issuer',
      verdict: 'problem',
      summary: `the issuer ${quote(iss)} cannot be an IAM OIDC provider (it needs https://, no port, no query)`,
      fix: "set GitLab's ci_id_tokens issuer URL to a public https:// address serving the discovery document and keys",
    };
  }
  const arn = input.settings.ok
    ? providerArnFor(input.settings.value.partition.id, input.settings.value.accountId, iss)
    : undefined;
  return {
    id: 'issuer',
    verdict: 'ok',
    summary: `${iss}: the role's account needs the IAM OIDC provider with this URL${arn === undefined ? '' : ` (${arn})`}`,
  };
}

function audienceCheck(claims: TokenClaims): Check {
  const audiences = audienceList(claims.aud);
  const [only] = audiences;
  if (only === undefined)
    return {
      id: 'audience',
      verdict: 'problem',
      summary: 'the token has no aud',
      fix: 'give the id_tokens: entry an aud:',
    };
  if (audiences.length > 1) {
    return {
      id: 'audience',
      verdict: 'warning',
      summary: `the token has ${audiences.length} audiences (${audiences.join(', ')}); STS's handling of several is undocumented`,
      fix: 'give the id_tokens: entry used for AWS a single aud:',
    };
  }
  return {
    id: 'audience',
    verdict: 'ok',
    summary: `${only}: must be an audience (client ID) of the IAM OIDC provider`,
  };
}

function pipelineCheck(input: DoctorInput, admittedByPolicy: boolean | undefined): Check | undefined {
  if (input.token.kind !== 'found') return undefined;
  const { claims } = input.token;
  const tokenProject = typeof claims.project_path === 'string' ? claims.project_path : undefined;
  const jobProject =
    (typeof claims.job_project_path === 'string' ? claims.job_project_path : undefined) ??
    input.env.CI_PROJECT_PATH?.trim();
  const sourceProject = input.env.CI_MERGE_REQUEST_SOURCE_PROJECT_PATH?.trim();
  const targetProject = input.env.CI_MERGE_REQUEST_PROJECT_PATH?.trim();
  const fork =
    tokenProject !== undefined && jobProject !== undefined && jobProject !== '' && tokenProject !== jobProject
      ? { fork: tokenProject, project: jobProject }
      : sourceProject && targetProject && sourceProject !== targetProject
        ? { fork: sourceProject, project: targetProject }
        : undefined;
  const ref = `${String(claims.ref_type ?? 'ref')} ${String(claims.ref ?? '?')}`;
  if (fork === undefined) {
    return {
      id: 'pipeline',
      verdict: 'ok',
      summary: `project ${tokenProject ?? '?'}, ${ref}, pipeline source ${String(claims.pipeline_source ?? '?')}`,
    };
  }
  if (admittedByPolicy === true) {
    return {
      id: 'pipeline',
      verdict: 'warning',
      summary: `a merge request pipeline from the fork ${fork.fork}, and the role admits it: code from the fork runs with this AWS role`,
      fix: `run jobs that use AWS only in pipelines of ${fork.project} itself (see the README), unless the fork's code is trusted`,
    };
  }
  return {
    id: 'pipeline',
    verdict: 'problem',
    summary: `a merge request pipeline from the fork ${fork.fork}: GitLab puts the fork's path into the token's sub (project_path:${fork.fork}:…), so a role that trusts ${fork.project} refuses it`,
    fix: `run jobs that use AWS only in pipelines of ${fork.project} itself:\n  rules:\n    - if: $CI_MERGE_REQUEST_SOURCE_PROJECT_PATH && $CI_MERGE_REQUEST_SOURCE_PROJECT_PATH != $CI_PROJECT_PATH\n      when: never\nor, if the fork's code may use this AWS role, trust project_path:${fork.fork}:… explicitly`,
  };
}

function roleDefinitionChecks(loaded: LoadedTrustPolicy, settings: Settings, source: string): Check[] {
  const role = loaded.role;
  if (role === undefined) return [];
  const where =
    loaded.kind === 'cloudformation'
      ? `the template's role ${role.logicalId ?? ''}`.trim()
      : `the role in ${source}`;
  const checks: Check[] = [];
  if (role.roleName === undefined) {
    checks.push({
      id: 'role-name-match',
      verdict: 'problem',
      summary: `${where} has no RoleName, so CloudFormation generates one; the helper assumes ${settings.roleName}`,
      fix: `set RoleName: ${settings.roleName} (role-template does), or give the helper the role's name with --role-name`,
    });
  } else if (role.roleName !== settings.roleName || role.path !== roleArnPath(settings.roleArn)) {
    const shown = `${role.path}${role.roleName}`;
    checks.push({
      id: 'role-name-match',
      verdict: 'problem',
      summary: `${where} is ${shown}, but the helper assumes ${settings.roleArn}${role.roleName.length > MAX_ROLE_NAME_LENGTH ? `; IAM role names have at most ${MAX_ROLE_NAME_LENGTH} characters` : ''}`,
      fix: `name the role ${settings.roleName} (role-template does), or give the helper --role-name ${shown.slice(1)}`,
    });
  } else {
    checks.push({
      id: 'role-name-match',
      verdict: 'ok',
      summary: `${where} is ${role.roleName}, the role the helper assumes`,
    });
  }
  checks.push(
    role.maxSessionDuration < settings.durationSeconds
      ? {
          id: 'max-session-duration',
          verdict: 'problem',
          summary: `${where} allows sessions of at most ${role.maxSessionDuration} s, but the helper asks for ${settings.durationSeconds} s: STS answers ValidationError`,
          fix: `lower --duration-seconds (GITLAB_AWS_DURATION_SECONDS) to ${role.maxSessionDuration} or less, or raise the role's MaxSessionDuration to ${settings.durationSeconds}`,
        }
      : {
          id: 'max-session-duration',
          verdict: 'ok',
          summary: `${settings.durationSeconds} s asked, the role allows up to ${role.maxSessionDuration} s`,
        },
  );
  return checks;
}

function roleArnPath(arn: string): string {
  const resource = arn.slice(arn.indexOf(':role/') + ':role'.length);
  return resource.slice(0, resource.lastIndexOf('/') + 1);
}

function liveSection(live: LiveInput): NonNullable<DoctorReport['live']> {
  const exchange = live.exchange;
  const identity = live.callerIdentity;
  return {
    exchange:
      exchange === undefined
        ? undefined
        : exchange.ok
          ? {
              ok: true,
              assumedRoleArn: exchange.value.assumedRoleArn,
              expiration: exchange.value.expiration.toISOString(),
            }
          : { ok: false, error: errorView(exchange.error) },
    callerIdentity:
      identity === undefined
        ? undefined
        : identity.ok
          ? { ok: true, ...identity.value }
          : { ok: false, error: errorView(identity.error) },
  };
}

/** The error's message with its code and STS request id, each once. */
function describeError(error: HelperError): string {
  const withCode = error.message.includes(error.code) ? error.message : `${error.code}: ${error.message}`;
  return error.requestId === undefined || withCode.includes(error.requestId)
    ? withCode
    : `${withCode} [request id ${error.requestId}]`;
}

function liveChecks(live: LiveInput): Check[] {
  const checks: Check[] = [];
  const exchange = live.exchange;
  if (exchange === undefined) {
    checks.push({
      id: 'live-exchange',
      verdict: 'skipped',
      summary: 'not attempted: the settings or the token have a problem',
    });
  } else if (exchange.ok) {
    checks.push({
      id: 'live-exchange',
      verdict: 'ok',
      summary: `STS issued credentials${exchange.value.assumedRoleArn === undefined ? '' : ` for ${exchange.value.assumedRoleArn}`}, valid until ${formatUtc(Math.floor(exchange.value.expiration.getTime() / 1000))}`,
    });
  } else {
    checks.push({
      id: 'live-exchange',
      verdict: 'problem',
      summary: describeError(exchange.error),
      ...(exchange.error.hint === undefined ? {} : { fix: exchange.error.hint }),
    });
  }
  const identity = live.callerIdentity;
  if (identity === undefined) {
    checks.push({ id: 'live-caller-identity', verdict: 'skipped', summary: 'not attempted: no credentials' });
  } else if (identity.ok) {
    checks.push({
      id: 'live-caller-identity',
      verdict: 'ok',
      summary: `account ${identity.value.account}, ${identity.value.arn}`,
    });
  } else {
    checks.push({
      id: 'live-caller-identity',
      verdict: 'problem',
      summary: describeError(identity.error),
      ...(identity.error.hint === undefined ? {} : { fix: identity.error.hint }),
    });
  }
  return checks;
}

export function buildDoctorReport(input: DoctorInput): DoctorReport {
  const checks: Check[] = [...settingsChecks(input), ...tokenChecks(input)];
  let trustPolicy: DoctorReport['trustPolicy'];
  let admitted: boolean | undefined;
  const policyInput = input.trustPolicy;
  if (policyInput === undefined) {
    checks.push({
      id: 'trust-policy',
      verdict: 'skipped',
      summary: 'no trust policy given',
      fix: 'pass --trust-policy with the role’s CloudFormation template, its trust policy, or `aws iam get-role --role-name <role>` output',
    });
  } else if (policyInput.loaded !== undefined && !policyInput.loaded.ok) {
    const error = policyInput.loaded.error;
    checks.push({
      id: 'trust-policy',
      verdict: 'problem',
      summary: error.message,
      ...(error.hint === undefined ? {} : { fix: error.hint }),
    });
    trustPolicy = emptyPolicySection(policyInput.name, undefined);
  } else if (policyInput.loaded === undefined || !input.settings.ok || input.token.kind !== 'found') {
    checks.push({
      id: 'trust-policy',
      verdict: 'skipped',
      summary: 'not evaluated: the settings or the token have a problem (see above)',
    });
    trustPolicy = emptyPolicySection(policyInput.name, policyInput.loaded?.value);
  } else {
    const loaded = policyInput.loaded.value;
    const settings = input.settings.value;
    let policy: TrustPolicy | undefined;
    try {
      policy = parseTrustPolicy(loaded.policy);
    } catch (error) {
      checks.push({
        id: 'trust-policy',
        verdict: 'problem',
        summary: `IAM would reject this policy: ${error instanceof Error ? error.message : String(error)}`,
        fix: 'correct the policy (the message names the element)',
      });
      trustPolicy = emptyPolicySection(policyInput.name, loaded);
    }
    if (policy !== undefined) {
      const analysis = analyzeTrustPolicy(policy, input.token.claims, settings);
      admitted = analysis.decision.allowed;
      checks.push(...analysis.checks);
      trustPolicy = {
        source: policyInput.name,
        kind: loaded.kind,
        role: loaded.role,
        request: analysis.request,
        decision: analysis.decision.reason,
        matchedStatement: analysis.decision.matchedStatement,
        statements: analysis.decision.statements,
      };
    }
    checks.push(...roleDefinitionChecks(loaded, settings, policyInput.name));
  }
  const pipeline = pipelineCheck(input, admitted);
  if (pipeline !== undefined) {
    const at = checks.findIndex((check) => check.id === 'trust-policy');
    checks.splice(at < 0 ? checks.length : at, 0, pipeline);
  }
  if (input.live !== undefined) checks.push(...liveChecks(input.live));

  const problems = checks.filter((check) => check.verdict === 'problem').length;
  const warnings = checks.filter((check) => check.verdict === 'warning').length;
  return {
    version: 1,
    ok: problems === 0,
    problems,
    warnings,
    token: tokenSection(input),
    settings: settingsSection(input),
    trustPolicy,
    live: input.live === undefined ? undefined : liveSection(input.live),
    checks,
  };
}

function emptyPolicySection(
  source: string,
  loaded: LoadedTrustPolicy | undefined,
): NonNullable<DoctorReport['trustPolicy']> {
  return {
    source,
    kind: loaded?.kind,
    role: loaded?.role,
    request: undefined,
    decision: undefined,
    matchedStatement: undefined,
    statements: [],
  };
}
