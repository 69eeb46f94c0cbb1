/**
 * A trust policy against a token, as STS evaluates it, turned into checks: the decision with the
 * cause and the fix, and the known traps (a wildcard under StringEquals, no `sub` condition, a
 * pattern admitting every project, conditions on claims IAM does not offer for GitLab).
 */
import type { Settings } from '../config/resolve.js';
import {
  type ConditionResult,
  evaluateTrustPolicy,
  type StatementResult,
  type TrustDecision,
  type TrustPolicy,
  type TrustRequest,
} from '../policy/trust.js';
import type { TokenClaims } from '../token/claims.js';
import type { Check } from './check.js';
import { explainSubMismatch } from './sub.js';

const WEB_IDENTITY_ACTION = 'sts:AssumeRoleWithWebIdentity';
/** A project no real policy names: a policy that admits it admits every project. */
const PROBE_SUB = 'project_path:doctor-probe-7f3c2a/another-project:ref_type:branch:ref:main';
/** Context keys doctor supplies besides `<host>:sub` and `<host>:aud`. */
const SUPPLIED_KEYS = new Set(['aws:federatedprovider', 'sts:rolesessionname']);

export interface PolicyAnalysis {
  readonly request: TrustRequest;
  readonly decision: TrustDecision;
  readonly checks: readonly Check[];
}

const quote = (value: string): string => JSON.stringify(value);

function firstAudience(aud: TokenClaims['aud']): string {
  return typeof aud === 'string' ? aud : (aud?.[0] ?? '');
}

/** What STS puts into the request: the provider of the token's issuer in the role's account. */
function webIdentityRequest(claims: TokenClaims, settings: Settings): TrustRequest {
  const host = (claims.iss ?? '').replace(/^https:\/\//, '').replace(/\/+$/, '');
  const providerArn = `arn:${settings.partition.id}:iam::${settings.accountId}:oidc-provider/${host}`;
  return {
    action: WEB_IDENTITY_ACTION,
    principal: { federated: providerArn },
    context: {
      [`${host}:sub`]: claims.sub ?? '',
      [`${host}:aud`]: firstAudience(claims.aud),
      'aws:FederatedProvider': providerArn,
      'sts:RoleSessionName': settings.roleSessionName,
    },
  };
}

function providerHost(request: TrustRequest): string {
  return request.principal.federated.slice(
    request.principal.federated.indexOf(':oidc-provider/') + ':oidc-provider/'.length,
  );
}

function keyKind(
  key: string,
  host: string,
): 'sub' | 'aud' | 'other-claim' | 'other-provider' | 'supplied' | 'unknown' {
  const lower = key.toLowerCase();
  const prefix = `${host.toLowerCase()}:`;
  if (lower.startsWith(prefix)) {
    const claim = lower.slice(prefix.length);
    return claim === 'sub' ? 'sub' : claim === 'aud' ? 'aud' : 'other-claim';
  }
  if (SUPPLIED_KEYS.has(lower)) return 'supplied';
  if (/^[^:]+\.[^:]+:[a-z_]+$/.test(lower)) return 'other-provider';
  return 'unknown';
}

function baseOperator(operator: string): { name: string; set: boolean } {
  const colon = operator.indexOf(':');
  const rest = colon < 0 ? operator : operator.slice(colon + 1);
  return { name: rest.replace(/IfExists$/i, '').toLowerCase(), set: colon >= 0 };
}

function isPositiveStringOperator(operator: string): boolean {
  const { name } = baseOperator(operator);
  return name === 'stringequals' || name === 'stringlike' || name === 'stringequalsignorecase';
}

function rejectingLine(condition: ConditionResult): string {
  const actual = condition.actual === undefined ? 'no such key' : condition.actual.map(quote).join(', ');
  return `${condition.operator} ${condition.key}: the token has ${actual}, the role wants ${condition.values.map(quote).join(', ')}`;
}

function fixForCondition(
  condition: ConditionResult,
  claims: TokenClaims,
  host: string,
): { fix: string; details: string[] } {
  const kind = keyKind(condition.key, host);
  const { name } = baseOperator(condition.operator);
  if (kind === 'sub' && claims.sub !== undefined && isPositiveStringOperator(condition.operator)) {
    const mismatch = explainSubMismatch(claims.sub, condition.values, name === 'stringlike');
    return { fix: mismatch.fix, details: [...mismatch.differences] };
  }
  if (kind === 'aud') {
    const aud = firstAudience(claims.aud);
    return {
      fix: `the token's aud is ${quote(aud)}: set the job's id_tokens: aud: to ${condition.values.map(quote).join(' or ')}, or add ${quote(aud)} to this condition (and to the OIDC provider's audiences)`,
      details: [],
    };
  }
  if (kind === 'other-claim') {
    return {
      fix: `IAM has no condition key ${condition.key} for GitLab tokens (only ${host}:sub and ${host}:aud): express it through ${host}:sub (project_path, ref_type, ref) and remove this condition`,
      details: [],
    };
  }
  if (kind === 'other-provider') {
    return {
      fix: `the key names another identity provider than the token's (${host}): write it as ${host}:${condition.key.slice(condition.key.lastIndexOf(':') + 1)}`,
      details: [],
    };
  }
  return { fix: `make the condition hold for this token: ${condition.explanation}`, details: [] };
}

interface Failure {
  readonly summary: string;
  readonly fix: string;
  readonly details: readonly string[];
}

function statementFailures(
  statement: StatementResult,
  claims: TokenClaims,
  request: TrustRequest,
): Failure[] {
  const host = providerHost(request);
  const failures: Failure[] = [];
  if (!statement.principal.ok) {
    failures.push({
      summary: `Principal: ${statement.principal.explanation}`,
      fix: `trust the token's provider: Principal: { Federated: ${request.principal.federated} } (the IAM OIDC provider for ${claims.iss ?? 'the issuer'} in the role's account)`,
      details: [],
    });
  }
  if (!statement.action.ok) {
    failures.push({
      summary: `Action: ${statement.action.explanation}`,
      fix: `allow the action ${WEB_IDENTITY_ACTION}`,
      details: [],
    });
  }
  for (const condition of statement.conditions) {
    if (condition.ok) continue;
    const { fix, details } = fixForCondition(condition, claims, host);
    failures.push({ summary: rejectingLine(condition), fix, details });
  }
  return failures;
}

function label(statement: StatementResult): string {
  return `Statement[${statement.index}]${statement.sid === undefined ? '' : ` (Sid ${quote(statement.sid)})`}`;
}

function decisionCheck(decision: TrustDecision, claims: TokenClaims, request: TrustRequest): Check {
  const statements = decision.statements;
  if (decision.reason === 'allowed') {
    const statement = statements[decision.matchedStatement ?? 0];
    return {
      id: 'trust-policy',
      verdict: 'ok',
      summary: `${statement === undefined ? 'a statement' : label(statement)} admits this token (sub ${quote(claims.sub ?? '')})`,
    };
  }
  if (decision.reason === 'explicit-deny') {
    const deny = statements[decision.matchedStatement ?? 0];
    const conditions =
      deny?.conditions.map(
        (condition) => `${condition.operator} ${condition.key}: ${condition.explanation}`,
      ) ?? [];
    return {
      id: 'trust-policy',
      verdict: 'problem',
      summary: `${deny === undefined ? 'a Deny statement' : label(deny)} (Deny) refuses this token explicitly${conditions.length === 0 ? ': it has no condition' : ': all its conditions hold'}; an explicit Deny wins over every Allow`,
      fix: 'remove or narrow that Deny, or run the job where its conditions do not hold',
      details: conditions,
    };
  }
  const allows = statements.filter((statement) => statement.effect === 'Allow');
  if (allows.length === 0) {
    return {
      id: 'trust-policy',
      verdict: 'problem',
      summary: 'the policy has no Allow statement: nothing can assume the role',
      fix: `add an Allow statement for ${WEB_IDENTITY_ACTION} (role-template writes one)`,
    };
  }
  const ranked = allows
    .map((statement) => ({ statement, failures: statementFailures(statement, claims, request) }))
    .sort((a, b) => a.failures.length - b.failures.length);
  const [best] = ranked;
  const [first] = best?.failures ?? [];
  if (best === undefined || first === undefined) {
    return {
      id: 'trust-policy',
      verdict: 'problem',
      summary: 'no statement admits this token',
      fix: 'see the statements above',
    };
  }
  const others = ranked.length > 1 ? ` (closest of ${ranked.length} Allow statements)` : '';
  return {
    id: 'trust-policy',
    verdict: 'problem',
    summary: `no statement admits this token: ${label(best.statement)}${others} rejects it on ${best.failures.map((failure) => failure.summary).join('; ')}`,
    fix: best.failures.map((failure) => failure.fix).join('; '),
    details: best.failures.flatMap((failure) => failure.details),
  };
}

function trapChecks(policy: TrustPolicy, decision: TrustDecision, request: TrustRequest): Check[] {
  const host = providerHost(request);
  const checks: Check[] = [];
  const conditionsOf = (statement: StatementResult) =>
    statement.conditions.map((condition) => ({ statement, condition, kind: keyKind(condition.key, host) }));
  const all = decision.statements.flatMap(conditionsOf);

  const wildcards = all.filter(
    ({ condition, kind }) =>
      (kind === 'sub' || kind === 'aud') &&
      /^string(not)?equals/.test(baseOperator(condition.operator).name) &&
      condition.values.some((value) => /[*?]/.test(value)),
  );
  for (const { statement, condition } of wildcards) {
    checks.push({
      id: 'policy-wildcard-in-equals',
      verdict: 'warning',
      summary: `${label(statement)} ${condition.operator} ${condition.key} holds a wildcard, but ${condition.operator} compares * and ? literally`,
      fix: `use StringLike for ${condition.key}`,
    });
  }

  // Allow statements that would apply to a token of this provider, whatever its sub.
  const reachable = decision.statements.filter(
    (statement) => statement.effect === 'Allow' && statement.principal.ok && statement.action.ok,
  );
  const withoutSub = reachable.filter(
    (statement) =>
      !statement.conditions.some(
        (condition) =>
          keyKind(condition.key, host) === 'sub' &&
          isPositiveStringOperator(condition.operator) &&
          !baseOperator(condition.operator).set,
      ),
  );
  for (const statement of withoutSub) {
    checks.push({
      id: 'policy-no-sub-condition',
      verdict: 'problem',
      summary: `${label(statement)} has no ${host}:sub condition: every project on ${host} can assume the role${host === 'gitlab.com' ? ', including anyone’s on gitlab.com' : ''}`,
      fix: `add a condition StringEquals (or StringLike) ${host}:sub: project_path:<group>/<project>:ref_type:branch:ref:<branch> (role-template writes one)`,
    });
  }
  if (withoutSub.length === 0) {
    const probe = evaluateTrustPolicy(policy, {
      ...request,
      context: { ...request.context, [`${host}:sub`]: PROBE_SUB },
    });
    if (probe.allowed) {
      checks.push({
        id: 'policy-any-project',
        verdict: 'problem',
        summary: `the policy admits a token of any project on ${host}: it admits ${quote(PROBE_SUB)} (Statement[${probe.matchedStatement ?? 0}])`,
        fix: 'name the project in the sub pattern: project_path:<group>/<project>:… (a * inside the project path admits others too)',
      });
    }
  }

  for (const { statement, condition, kind } of all) {
    if (kind === 'other-claim') {
      checks.push({
        id: 'policy-unknown-key',
        verdict: 'warning',
        summary: `${label(statement)} tests ${condition.key}, which IAM does not offer for GitLab tokens (only ${host}:sub and ${host}:aud): the condition never sees a value`,
        fix: 'express it through the sub condition (project_path, ref_type, ref) and remove this condition',
      });
    } else if (kind === 'other-provider') {
      checks.push({
        id: 'policy-other-provider-key',
        verdict: 'warning',
        summary: `${label(statement)} tests ${condition.key}, a key of another identity provider than the token's (${host}): it never sees a value`,
        fix: `write the key as ${host}:${condition.key.slice(condition.key.lastIndexOf(':') + 1)}`,
      });
    } else if (kind === 'unknown') {
      checks.push({
        id: 'policy-unknown-context',
        verdict: 'warning',
        summary: `${label(statement)} tests ${condition.key}, which doctor cannot know offline; it was evaluated as absent`,
        fix: 'check this condition with doctor --live, which asks STS itself',
      });
    } else if ((kind === 'sub' || kind === 'aud') && baseOperator(condition.operator).set) {
      const allValues = condition.operator.toLowerCase().startsWith('forallvalues:');
      checks.push({
        id: 'policy-set-operator',
        verdict: 'warning',
        summary: `${label(statement)} uses ${condition.operator} on ${condition.key}, a single-valued key${allValues ? ': ForAllValues also holds when the key is absent' : ''}`,
        fix: `use plain ${condition.operator.slice(condition.operator.indexOf(':') + 1)} for ${condition.key}`,
      });
    }
  }
  return checks;
}

export function analyzeTrustPolicy(
  policy: TrustPolicy,
  claims: TokenClaims,
  settings: Settings,
): PolicyAnalysis {
  const request = webIdentityRequest(claims, settings);
  const decision = evaluateTrustPolicy(policy, request);
  return {
    request,
    decision,
    checks: [decisionCheck(decision, claims, request), ...trapChecks(policy, decision, request)],
  };
}
