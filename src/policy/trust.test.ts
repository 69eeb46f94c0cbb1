// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables such as ${aws:username} are literal text in these tests
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateTrustPolicy, parseTrustPolicy, type TrustDecision, type TrustRequest } from './trust.js';

const PROVIDER = 'arn:aws:iam::111122223333:oidc-provider/gitlab.example.com';
const ACTION = 'sts:AssumeRoleWithWebIdentity';
const SUB_KEY = 'gitlab.example.com:sub';
const AUD_KEY = 'gitlab.example.com:aud';
const MAIN = 'project_path:mygroup/myproject:ref_type:branch:ref:main';

type Context = TrustRequest['context'];

function request(context: Context, overrides: Partial<Omit<TrustRequest, 'context'>> = {}): TrustRequest {
  return { action: ACTION, principal: { federated: PROVIDER }, context, ...overrides };
}

/** The shape GitLab documents (facts §4.5), with the Condition under test. */
function allowWith(condition: Record<string, unknown> | undefined, version = '2012-10-17'): unknown {
  return {
    Version: version,
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: PROVIDER },
        Action: ACTION,
        ...(condition === undefined ? {} : { Condition: condition }),
      },
    ],
  };
}

function decide(condition: Record<string, unknown>, context: Context, version = '2012-10-17'): TrustDecision {
  return evaluateTrustPolicy(allowWith(condition, version), request(context));
}

interface ConditionCase {
  readonly name: string;
  readonly condition: Record<string, unknown>;
  readonly context: Context;
  readonly allowed: boolean;
  readonly version?: string;
}

const k = 'gitlab.example.com:claim';
const one = (operator: string, values: unknown): Record<string, unknown> => ({ [operator]: { [k]: values } });

const conditionCases: readonly ConditionCase[] = [
  // StringEquals
  {
    name: 'StringEquals exact',
    condition: one('StringEquals', 'main'),
    context: { [k]: 'main' },
    allowed: true,
  },
  {
    name: 'StringEquals is case-sensitive',
    condition: one('StringEquals', 'Main'),
    context: { [k]: 'main' },
    allowed: false,
  },
  {
    name: 'StringEquals empty = empty',
    condition: one('StringEquals', ''),
    context: { [k]: '' },
    allowed: true,
  },
  {
    name: 'StringEquals empty ≠ text',
    condition: one('StringEquals', ''),
    context: { [k]: 'a' },
    allowed: false,
  },
  {
    name: 'StringEquals values are OR-ed',
    condition: one('StringEquals', ['a', 'b']),
    context: { [k]: 'b' },
    allowed: true,
  },
  {
    name: 'StringEquals no value matches',
    condition: one('StringEquals', ['a', 'b']),
    context: { [k]: 'c' },
    allowed: false,
  },
  {
    name: 'StringEquals treats * literally',
    condition: one('StringEquals', 'ref:*'),
    context: { [k]: 'ref:main' },
    allowed: false,
  },
  {
    name: 'StringEquals literal * matches *',
    condition: one('StringEquals', 'ref:*'),
    context: { [k]: 'ref:*' },
    allowed: true,
  },
  { name: 'StringEquals absent key', condition: one('StringEquals', 'a'), context: {}, allowed: false },
  {
    name: 'StringEquals number value',
    condition: one('StringEquals', 42),
    context: { [k]: '42' },
    allowed: true,
  },
  // StringNotEquals
  {
    name: 'StringNotEquals differs',
    condition: one('StringNotEquals', 'a'),
    context: { [k]: 'b' },
    allowed: true,
  },
  {
    name: 'StringNotEquals equal',
    condition: one('StringNotEquals', 'a'),
    context: { [k]: 'a' },
    allowed: false,
  },
  {
    name: 'StringNotEquals NOR hit',
    condition: one('StringNotEquals', ['a', 'b']),
    context: { [k]: 'b' },
    allowed: false,
  },
  {
    name: 'StringNotEquals NOR miss',
    condition: one('StringNotEquals', ['a', 'b']),
    context: { [k]: 'c' },
    allowed: true,
  },
  {
    name: 'StringNotEquals absent key matches',
    condition: one('StringNotEquals', 'a'),
    context: {},
    allowed: true,
  },
  {
    name: 'StringNotEquals is case-sensitive',
    condition: one('StringNotEquals', 'A'),
    context: { [k]: 'a' },
    allowed: true,
  },
  // IgnoreCase
  {
    name: 'StringEqualsIgnoreCase',
    condition: one('StringEqualsIgnoreCase', 'MAIN'),
    context: { [k]: 'main' },
    allowed: true,
  },
  {
    name: 'StringEqualsIgnoreCase differs',
    condition: one('StringEqualsIgnoreCase', 'MAIN'),
    context: { [k]: 'mainx' },
    allowed: false,
  },
  {
    name: 'StringEqualsIgnoreCase absent',
    condition: one('StringEqualsIgnoreCase', 'a'),
    context: {},
    allowed: false,
  },
  {
    name: 'StringNotEqualsIgnoreCase same',
    condition: one('StringNotEqualsIgnoreCase', 'MAIN'),
    context: { [k]: 'main' },
    allowed: false,
  },
  {
    name: 'StringNotEqualsIgnoreCase differs',
    condition: one('StringNotEqualsIgnoreCase', 'MAIN'),
    context: { [k]: 'dev' },
    allowed: true,
  },
  {
    name: 'StringNotEqualsIgnoreCase absent',
    condition: one('StringNotEqualsIgnoreCase', 'a'),
    context: {},
    allowed: true,
  },
  // StringLike
  {
    name: 'StringLike * at start',
    condition: one('StringLike', '*:ref:main'),
    context: { [k]: MAIN },
    allowed: true,
  },
  {
    name: 'StringLike * in middle',
    condition: one('StringLike', 'project_path:mygroup/*:ref_type:branch:ref:main'),
    context: { [k]: MAIN },
    allowed: true,
  },
  {
    name: 'StringLike * at end',
    condition: one('StringLike', 'project_path:mygroup/myproject:*'),
    context: { [k]: MAIN },
    allowed: true,
  },
  {
    name: 'StringLike * matches empty',
    condition: one('StringLike', 'ref:main*'),
    context: { [k]: 'ref:main' },
    allowed: true,
  },
  {
    name: 'StringLike lone * matches empty',
    condition: one('StringLike', '*'),
    context: { [k]: '' },
    allowed: true,
  },
  {
    name: 'StringLike empty pattern',
    condition: one('StringLike', ''),
    context: { [k]: 'a' },
    allowed: false,
  },
  {
    name: 'StringLike ? is one char',
    condition: one('StringLike', 'ref:ma?n'),
    context: { [k]: 'ref:main' },
    allowed: true,
  },
  {
    name: 'StringLike ? not two chars',
    condition: one('StringLike', 'ref:ma?n'),
    context: { [k]: 'ref:maain' },
    allowed: false,
  },
  {
    name: 'StringLike ? not zero chars',
    condition: one('StringLike', 'ref:ma?n'),
    context: { [k]: 'ref:man' },
    allowed: false,
  },
  {
    name: 'StringLike ? is one code point',
    condition: one('StringLike', 'a?b'),
    context: { [k]: 'a😀b' },
    allowed: true,
  },
  {
    name: 'StringLike . is literal',
    condition: one('StringLike', 'a.b'),
    context: { [k]: 'axb' },
    allowed: false,
  },
  {
    name: 'StringLike + is literal',
    condition: one('StringLike', 'a+'),
    context: { [k]: 'aa' },
    allowed: false,
  },
  {
    name: 'StringLike ( [ ^ $ \\ literal',
    condition: one('StringLike', '^a(b[c]$\\'),
    context: { [k]: '^a(b[c]$\\' },
    allowed: true,
  },
  {
    name: 'StringLike is case-sensitive',
    condition: one('StringLike', 'Project*'),
    context: { [k]: 'project' },
    allowed: false,
  },
  {
    name: 'StringLike : and / not special',
    condition: one('StringLike', 'project_path:grp/*'),
    context: { [k]: 'project_path:grp/sub/deep:ref_type:tag:ref:v1' },
    allowed: true,
  },
  {
    name: 'StringLike patterns OR-ed',
    condition: one('StringLike', ['x*', '*main']),
    context: { [k]: MAIN },
    allowed: true,
  },
  { name: 'StringLike absent key', condition: one('StringLike', '*'), context: {}, allowed: false },
  {
    name: 'StringLike many stars',
    condition: one('StringLike', '*a*b*c*'),
    context: { [k]: 'xxaxxbxxcxx' },
    allowed: true,
  },
  {
    name: 'StringLike many stars, wrong order',
    condition: one('StringLike', '*a*b*c*'),
    context: { [k]: 'cba' },
    allowed: false,
  },
  // StringNotLike
  {
    name: 'StringNotLike matches pattern',
    condition: one('StringNotLike', 'a/*'),
    context: { [k]: 'a/b' },
    allowed: false,
  },
  {
    name: 'StringNotLike outside pattern',
    condition: one('StringNotLike', 'a/*'),
    context: { [k]: 'c/d' },
    allowed: true,
  },
  {
    name: 'StringNotLike NOR',
    condition: one('StringNotLike', ['a/*', 'c/*']),
    context: { [k]: 'c/d' },
    allowed: false,
  },
  {
    name: 'StringNotLike absent key matches',
    condition: one('StringNotLike', 'a/*'),
    context: {},
    allowed: true,
  },
  // Bool
  { name: 'Bool true', condition: one('Bool', 'true'), context: { [k]: 'true' }, allowed: true },
  { name: 'Bool JSON true', condition: one('Bool', true), context: { [k]: 'true' }, allowed: true },
  {
    name: 'Bool value case-insensitive',
    condition: one('Bool', 'true'),
    context: { [k]: 'True' },
    allowed: true,
  },
  { name: 'Bool mismatch', condition: one('Bool', 'true'), context: { [k]: 'false' }, allowed: false },
  {
    name: 'Bool non-boolean request',
    condition: one('Bool', 'true'),
    context: { [k]: 'yes' },
    allowed: false,
  },
  { name: 'Bool absent', condition: one('Bool', 'false'), context: {}, allowed: false },
  // Null
  { name: 'Null true, absent', condition: one('Null', 'true'), context: {}, allowed: true },
  { name: 'Null true, present', condition: one('Null', 'true'), context: { [k]: 'x' }, allowed: false },
  {
    name: 'Null false, present empty string',
    condition: one('Null', 'false'),
    context: { [k]: '' },
    allowed: true,
  },
  { name: 'Null false, absent', condition: one('Null', false), context: {}, allowed: false },
  { name: 'Null true, empty list', condition: one('Null', 'true'), context: { [k]: [] }, allowed: true },
  // IfExists
  {
    name: 'StringEqualsIfExists absent',
    condition: one('StringEqualsIfExists', 'a'),
    context: {},
    allowed: true,
  },
  {
    name: 'StringEqualsIfExists mismatch',
    condition: one('StringEqualsIfExists', 'a'),
    context: { [k]: 'b' },
    allowed: false,
  },
  {
    name: 'StringLikeIfExists match',
    condition: one('StringLikeIfExists', 'a*'),
    context: { [k]: 'ab' },
    allowed: true,
  },
  {
    name: 'StringNotEqualsIfExists absent',
    condition: one('StringNotEqualsIfExists', 'a'),
    context: {},
    allowed: true,
  },
  { name: 'BoolIfExists absent', condition: one('BoolIfExists', 'true'), context: {}, allowed: true },
  // ForAnyValue
  {
    name: 'ForAnyValue absent',
    condition: one('ForAnyValue:StringEquals', 'a'),
    context: {},
    allowed: false,
  },
  {
    name: 'ForAnyValue empty list',
    condition: one('ForAnyValue:StringEquals', 'a'),
    context: { [k]: [] },
    allowed: false,
  },
  {
    name: 'ForAnyValue one matches',
    condition: one('ForAnyValue:StringEquals', ['a', 'b']),
    context: { [k]: ['x', 'b'] },
    allowed: true,
  },
  {
    name: 'ForAnyValue none matches',
    condition: one('ForAnyValue:StringEquals', ['a', 'b']),
    context: { [k]: ['x', 'y'] },
    allowed: false,
  },
  {
    name: 'ForAnyValue single-valued key',
    condition: one('ForAnyValue:StringLike', 'a*'),
    context: { [k]: 'ab' },
    allowed: true,
  },
  {
    name: 'ForAnyValue:StringNotEquals some outside',
    condition: one('ForAnyValue:StringNotEquals', ['DataClass', 'Owner']),
    context: { [k]: ['Dept', 'DataClass'] },
    allowed: true,
  },
  {
    name: 'ForAnyValue:StringNotEquals all inside',
    condition: one('ForAnyValue:StringNotEquals', ['DataClass', 'Owner']),
    context: { [k]: ['DataClass', 'Owner'] },
    allowed: false,
  },
  {
    name: 'ForAnyValue ignores IfExists',
    condition: one('ForAnyValue:StringEqualsIfExists', 'a'),
    context: {},
    allowed: false,
  },
  // ForAllValues
  {
    name: 'ForAllValues absent',
    condition: one('ForAllValues:StringEquals', 'a'),
    context: {},
    allowed: true,
  },
  {
    name: 'ForAllValues empty list',
    condition: one('ForAllValues:StringEquals', 'a'),
    context: { [k]: [] },
    allowed: true,
  },
  {
    name: 'ForAllValues empty string',
    condition: one('ForAllValues:StringEquals', 'a'),
    context: { [k]: '' },
    allowed: true,
  },
  {
    name: 'ForAllValues subset',
    condition: one('ForAllValues:StringEquals', ['a', 'b', 'c']),
    context: { [k]: ['a', 'c'] },
    allowed: true,
  },
  {
    name: 'ForAllValues not subset',
    condition: one('ForAllValues:StringEquals', ['a', 'b']),
    context: { [k]: ['a', 'x'] },
    allowed: false,
  },
  {
    name: 'ForAllValues:StringLike',
    condition: one('ForAllValues:StringLike', 'key1*'),
    context: { [k]: ['key1a', 'key1b'] },
    allowed: true,
  },
  {
    name: 'ForAllValues:StringNotEquals hit',
    condition: one('ForAllValues:StringNotEquals', ['DataClass', 'Owner']),
    context: { [k]: ['Dept', 'DataClass'] },
    allowed: false,
  },
  {
    name: 'ForAllValues:StringNotEquals miss',
    condition: one('ForAllValues:StringNotEquals', ['DataClass', 'Owner']),
    context: { [k]: ['Dept', 'SIC'] },
    allowed: true,
  },
  // Multivalued keys without a set operator
  {
    name: 'several values need a set operator',
    condition: one('StringEquals', 'a'),
    context: { [k]: ['a', 'b'] },
    allowed: false,
  },
  {
    name: 'negated with several values, no set operator',
    condition: one('StringNotEquals', 'z'),
    context: { [k]: ['a', 'b'] },
    allowed: false,
  },
  {
    name: 'one-element list is one value',
    condition: one('StringEquals', 'a'),
    context: { [k]: ['a'] },
    allowed: true,
  },
  // Key vs value case
  {
    name: 'condition key case-insensitive',
    condition: { StringEquals: { 'GitLab.Example.COM:Sub': MAIN } },
    context: { [SUB_KEY]: MAIN },
    allowed: true,
  },
  {
    name: 'context key case-insensitive',
    condition: { StringEquals: { [SUB_KEY]: MAIN } },
    context: { 'GITLAB.EXAMPLE.COM:SUB': MAIN },
    allowed: true,
  },
  {
    name: 'value case matters',
    condition: { StringEquals: { [SUB_KEY]: MAIN.toUpperCase() } },
    context: { [SUB_KEY]: MAIN },
    allowed: false,
  },
  {
    name: 'operator name case-insensitive',
    condition: { stringequals: { [SUB_KEY]: MAIN } },
    context: { [SUB_KEY]: MAIN },
    allowed: true,
  },
  // AND across operators and keys
  {
    name: 'operators AND-ed (one fails)',
    condition: { StringEquals: { [SUB_KEY]: MAIN }, StringLike: { [AUD_KEY]: 'https://other*' } },
    context: { [SUB_KEY]: MAIN, [AUD_KEY]: 'https://gitlab.example.com' },
    allowed: false,
  },
  {
    name: 'keys AND-ed (one fails)',
    condition: { StringEquals: { [SUB_KEY]: MAIN, [AUD_KEY]: 'https://gitlab.example.com' } },
    context: { [SUB_KEY]: MAIN, [AUD_KEY]: 'https://gitlab.example.com/' },
    allowed: false,
  },
  {
    name: 'keys AND-ed (all match)',
    condition: { StringEquals: { [SUB_KEY]: MAIN, [AUD_KEY]: 'https://gitlab.example.com' } },
    context: { [SUB_KEY]: MAIN, [AUD_KEY]: 'https://gitlab.example.com' },
    allowed: true,
  },
  // Policy variables
  {
    name: '${*} is a literal * (2012)',
    condition: one('StringLike', 'ref:${*}'),
    context: { [k]: 'ref:*' },
    allowed: true,
  },
  {
    name: '${*} is no wildcard (2012)',
    condition: one('StringLike', 'ref:${*}'),
    context: { [k]: 'ref:main' },
    allowed: false,
  },
  {
    name: '${?} and ${$} (2012)',
    condition: one('StringEquals', 'a${?}b${$}'),
    context: { [k]: 'a?b$' },
    allowed: true,
  },
  {
    name: 'no variables in 2008',
    condition: one('StringEquals', 'a${?}'),
    context: { [k]: 'a${?}' },
    allowed: true,
    version: '2008-10-17',
  },
  {
    name: '${*} has a wildcard inside in 2008',
    condition: one('StringLike', 'ref:${*}'),
    context: { [k]: 'ref:${x}' },
    allowed: true,
    version: '2008-10-17',
  },
  {
    name: 'other variables compared literally',
    condition: one('StringEquals', '${aws:username}'),
    context: { [k]: '${aws:username}', 'aws:username': 'x' },
    allowed: true,
  },
  {
    name: 'unterminated ${ is literal',
    condition: one('StringLike', 'a${b*'),
    context: { [k]: 'a${bcd' },
    allowed: true,
  },
  // Operators this evaluator cannot decide
  { name: 'unknown operator', condition: one('StringEqualz', 'a'), context: { [k]: 'a' }, allowed: false },
  {
    name: 'unsupported IAM operator',
    condition: one('NumericLessThan', 5),
    context: { [k]: '1' },
    allowed: false,
  },
  { name: 'NullIfExists is invalid', condition: one('NullIfExists', 'true'), context: {}, allowed: false },
  {
    name: 'unknown set qualifier',
    condition: one('ForSomeValues:StringEquals', 'a'),
    context: { [k]: 'a' },
    allowed: false,
  },
  { name: 'empty value list', condition: one('StringEquals', []), context: { [k]: 'a' }, allowed: false },
  { name: 'empty condition block', condition: {}, context: {}, allowed: true },
];

describe('evaluateTrustPolicy: condition operators', () => {
  it.each(conditionCases)('$name', ({ condition, context, allowed, version }) => {
    const decision = decide(condition, context, version);
    expect(decision.allowed, decision.details.join('\n')).toBe(allowed);
    expect(decision.reason).toBe(allowed ? 'allowed' : 'no-matching-allow');
  });
});

describe('evaluateTrustPolicy: GitLab documented policies (facts §4.5)', () => {
  const exact = allowWith({ StringEquals: { [SUB_KEY]: MAIN } });
  const anyRef = allowWith({
    StringLike: { [SUB_KEY]: 'project_path:mygroup/myproject:ref_type:branch:ref:*' },
  });
  const anyProject = allowWith({
    StringLike: { [SUB_KEY]: 'project_path:mygroup/*:ref_type:branch:ref:main' },
  });
  const wildcardWithEquals = allowWith({
    StringEquals: { [SUB_KEY]: 'project_path:mygroup/myproject:ref_type:branch:ref:*' },
  });
  const sub = (value: string): TrustRequest =>
    request({ [SUB_KEY]: value, [AUD_KEY]: 'https://gitlab.example.com' });

  it.each([
    ['exact main branch', exact, MAIN, true],
    ['exact, other branch', exact, 'project_path:mygroup/myproject:ref_type:branch:ref:dev', false],
    ['exact, tag named main', exact, 'project_path:mygroup/myproject:ref_type:tag:ref:main', false],
    ['exact, other project', exact, 'project_path:mygroup/other:ref_type:branch:ref:main', false],
    ['exact, fork of the project', exact, 'project_path:someone/myproject:ref_type:branch:ref:main', false],
    ['any branch', anyRef, 'project_path:mygroup/myproject:ref_type:branch:ref:feature/x', true],
    ['any branch, but a tag', anyRef, 'project_path:mygroup/myproject:ref_type:tag:ref:v1', false],
    ['any project in group', anyProject, 'project_path:mygroup/sub/deep:ref_type:branch:ref:main', true],
    ['any project, other group', anyProject, 'project_path:othergroup/x:ref_type:branch:ref:main', false],
    ['wildcard under StringEquals never matches a real ref', wildcardWithEquals, MAIN, false],
  ] as const)('%s', (_name, policy, value, allowed) => {
    expect(evaluateTrustPolicy(policy, sub(value)).allowed).toBe(allowed);
  });

  it('explains a sub mismatch in one precise line', () => {
    const decision = evaluateTrustPolicy(
      allowWith({ StringEquals: { [SUB_KEY]: 'project_path:a/b:ref_type:branch:ref:main' } }),
      sub('project_path:a/c:ref_type:branch:ref:main'),
    );
    expect(decision).toMatchObject({ allowed: false, reason: 'no-matching-allow' });
    expect(decision.matchedStatement).toBeUndefined();
    expect(decision.details).toContain(
      'Statement[0] Condition StringEquals gitlab.example.com:sub: wanted "project_path:a/b:ref_type:branch:ref:main", token has "project_path:a/c:ref_type:branch:ref:main"',
    );
    expect(decision.details.at(-1)).toBe('Decision: denied, no Allow statement applies (implicit deny)');
  });

  it('reports what matched as well as what did not', () => {
    const decision = evaluateTrustPolicy(anyRef, sub(MAIN));
    expect(decision.statements).toEqual([
      {
        index: 0,
        sid: undefined,
        effect: 'Allow',
        applies: true,
        principal: { ok: true, explanation: `Federated "${PROVIDER}"` },
        action: { ok: true, explanation: '"sts:AssumeRoleWithWebIdentity"' },
        conditions: [
          {
            operator: 'StringLike',
            key: SUB_KEY,
            values: ['project_path:mygroup/myproject:ref_type:branch:ref:*'],
            actual: [MAIN],
            ok: true,
            explanation: `wanted "project_path:mygroup/myproject:ref_type:branch:ref:*", token has "${MAIN}" (matches "project_path:mygroup/myproject:ref_type:branch:ref:*")`,
            notes: [],
          },
        ],
      },
    ]);
    expect(decision).toMatchObject({
      allowed: true,
      reason: 'allowed',
      matchedStatement: 0,
      details: [
        'Statement[0] (Allow): applies',
        `Statement[0] Principal: ok: Federated "${PROVIDER}"`,
        'Statement[0] Action: ok: "sts:AssumeRoleWithWebIdentity"',
        `Statement[0] Condition StringLike gitlab.example.com:sub: ok: wanted "project_path:mygroup/myproject:ref_type:branch:ref:*", token has "${MAIN}" (matches "project_path:mygroup/myproject:ref_type:branch:ref:*")`,
        'Decision: allowed by Statement[0]',
      ],
    });
  });
});

describe('evaluateTrustPolicy: effects, principals, actions', () => {
  const allow = { Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: ACTION };
  const policyOf = (...statements: unknown[]): unknown => ({ Version: '2012-10-17', Statement: statements });
  const ctx = { [SUB_KEY]: MAIN };

  it('lets an explicit Deny override an Allow', () => {
    const deny = {
      Effect: 'Deny',
      Principal: '*',
      Action: 'sts:*',
      Condition: { StringLike: { [SUB_KEY]: '*:ref:main' } },
    };
    const decision = evaluateTrustPolicy(policyOf(allow, deny), request(ctx));
    expect(decision).toMatchObject({ allowed: false, reason: 'explicit-deny', matchedStatement: 1 });
    expect(decision.details.at(-1)).toBe(
      'Decision: denied explicitly by Statement[1], overriding the Allow in Statement[0]',
    );
  });

  it('ignores a Deny whose condition does not hold', () => {
    const deny = {
      Effect: 'Deny',
      Principal: '*',
      Action: 'sts:*',
      Condition: { StringLike: { [SUB_KEY]: '*:ref:dev' } },
    };
    expect(evaluateTrustPolicy(policyOf(deny, allow), request(ctx))).toMatchObject({
      allowed: true,
      matchedStatement: 1,
    });
  });

  it('denies explicitly even without any Allow', () => {
    const deny = { Effect: 'Deny', Principal: { Federated: PROVIDER }, Action: ACTION };
    expect(evaluateTrustPolicy(policyOf(deny), request(ctx))).toMatchObject({
      reason: 'explicit-deny',
      matchedStatement: 0,
    });
  });

  it('keeps the Sid in the statement line', () => {
    const decision = evaluateTrustPolicy(policyOf({ Sid: 'GitLabMain', ...allow }), request(ctx));
    expect(decision.details[0]).toBe('Statement[0] (Allow, Sid "GitLabMain"): applies');
  });

  it.each([
    ['another provider', { Federated: 'arn:aws:iam::111122223333:oidc-provider/gitlab.com' }, false],
    ['another account', { Federated: 'arn:aws:iam::999999999999:oidc-provider/gitlab.example.com' }, false],
    ['an AWS principal', { AWS: 'arn:aws:iam::111122223333:root' }, false],
    ['a service principal', { Service: 'ec2.amazonaws.com' }, false],
    [
      'one of several providers',
      { Federated: ['arn:aws:iam::111122223333:oidc-provider/gitlab.com', PROVIDER] },
      true,
    ],
    ['everyone as "*"', '*', true],
    ['everyone as AWS "*"', { AWS: '*' }, true],
    ['Federated wildcard is not a wildcard', { Federated: '*' }, false],
  ] as const)('Principal: %s', (_name, principal, allowed) => {
    expect(evaluateTrustPolicy(policyOf({ ...allow, Principal: principal }), request(ctx)).allowed).toBe(
      allowed,
    );
  });

  it('explains a principal mismatch, noting a case-only difference', () => {
    const upper = PROVIDER.replace('gitlab.example.com', 'GitLab.example.com');
    const decision = evaluateTrustPolicy(
      policyOf({ ...allow, Principal: { Federated: upper } }),
      request(ctx),
    );
    expect(decision.details).toContain(
      `Statement[0] Principal: wanted Federated "${upper}", request is Federated "${PROVIDER}" (provider GitLab.example.com ≠ gitlab.example.com (differs only in letter case))`,
    );
  });

  it.each([
    [
      'another partition',
      'arn:aws-cn:iam::111122223333:oidc-provider/gitlab.example.com',
      'partition aws-cn ≠ aws',
    ],
    [
      'another account',
      'arn:aws:iam::999999999999:oidc-provider/gitlab.example.com',
      "account 999999999999 ≠ 111122223333 (the provider must be in the role's account)",
    ],
    [
      'another issuer',
      'arn:aws:iam::111122223333:oidc-provider/gitlab.com',
      'provider gitlab.com ≠ gitlab.example.com (the token’s issuer)',
    ],
    [
      'a path the issuer does not have',
      'arn:aws:iam::111122223333:oidc-provider/gitlab.example.com/ci',
      'provider gitlab.example.com/ci ≠ gitlab.example.com (the token’s issuer)',
    ],
    [
      'a host instead of an ARN',
      'gitlab.example.com',
      `"gitlab.example.com" is not an OIDC provider ARN; for this token it must be "${PROVIDER}"`,
    ],
  ])('explains a Federated principal with %s part by part', (_name, federated, why) => {
    const decision = evaluateTrustPolicy(
      policyOf({ ...allow, Principal: { Federated: federated } }),
      request(ctx),
    );
    expect(decision.allowed).toBe(false);
    expect(decision.statements[0]?.principal).toEqual({
      ok: false,
      explanation: `wanted Federated "${federated}", request is Federated "${PROVIDER}" (${why})`,
    });
  });

  it.each([
    ['sts:AssumeRole', false],
    ['sts:*', true],
    ['*', true],
    ['sts:assumerolewithwebidentity', true],
    ['STS:AssumeRoleWith*', true],
    ['sts:AssumeRoleWithWebIdentit?', true],
    ['sts:AssumeRoleWithSAML', false],
    ['s3:*', false],
  ])('Action %s', (action, allowed) => {
    expect(evaluateTrustPolicy(policyOf({ ...allow, Action: action }), request(ctx)).allowed).toBe(allowed);
  });

  it('accepts an array of actions and explains a mismatch', () => {
    const decision = evaluateTrustPolicy(
      policyOf({ ...allow, Action: ['sts:AssumeRole', 'sts:TagSession'] }),
      request(ctx),
    );
    expect(decision.allowed).toBe(false);
    expect(decision.details).toContain(
      'Statement[0] Action: wanted one of "sts:AssumeRole", "sts:TagSession", request is "sts:AssumeRoleWithWebIdentity"',
    );
  });

  it.each([
    ['sts:AssumeRole', true],
    ['sts:*', false],
  ])('NotAction %s', (action, allowed) => {
    const { Action: _unused, ...rest } = allow;
    expect(evaluateTrustPolicy(policyOf({ ...rest, NotAction: action }), request(ctx)).allowed).toBe(allowed);
  });

  it('says why an unknown operator fails and that IAM would reject it', () => {
    const decision = decide({ StringEqualz: { [SUB_KEY]: MAIN } }, ctx);
    expect(decision.details).toContain(
      'Statement[0] Condition StringEqualz gitlab.example.com:sub: unknown condition operator "StringEqualz"; IAM would reject this policy',
    );
  });

  it('says when an IAM operator is not supported here', () => {
    const decision = decide({ DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }, ctx);
    expect(
      decision.details.some((line) => line.includes('"DateLessThan" is not supported by this evaluator')),
    ).toBe(true);
  });

  it('notes policy variables it compares literally', () => {
    const decision = decide({ StringLike: { [SUB_KEY]: 'project_path:${aws:username}/*' } }, ctx);
    expect(decision.details).toContain(
      'Statement[0] Condition StringLike gitlab.example.com:sub: note: policy variable "${aws:username}" is compared literally here; IAM would substitute it from the request',
    );
  });

  it('explains absent keys, multivalued keys and set operators', () => {
    const details = decide(
      {
        StringEquals: { [SUB_KEY]: MAIN, [AUD_KEY]: 'https://gitlab.example.com' },
        'ForAnyValue:StringEquals': { 'x:groups': 'admins' },
        'ForAllValues:StringEquals': { 'x:amr': ['a', 'b'] },
        StringNotEqualsIfExists: { 'x:env': 'prod' },
        Null: { 'x:env': 'false' },
      },
      { [SUB_KEY]: MAIN, 'x:amr': ['a', 'c'], 'x:env': ['p1', 'p2'] },
    ).details;
    expect(details).toEqual(
      expect.arrayContaining([
        `Statement[0] Condition StringEquals gitlab.example.com:sub: ok: wanted "${MAIN}", token has "${MAIN}"`,
        'Statement[0] Condition StringEquals gitlab.example.com:aud: wanted "https://gitlab.example.com", token has no such key',
        'Statement[0] Condition ForAnyValue:StringEquals x:groups: wanted "admins" (for any value), token has no such key (ForAnyValue never matches an absent or empty key)',
        'Statement[0] Condition ForAllValues:StringEquals x:amr: wanted one of "a", "b" (for every value), token has ["a", "c"]; failing: "c"',
        'Statement[0] Condition StringNotEqualsIfExists x:env: wanted not "prod", token has ["p1", "p2"]; a key with several values needs ForAnyValue: or ForAllValues: (treated as no match)',
        'Statement[0] Condition Null x:env: ok: wanted the key present, token has the key',
      ]),
    );
  });

  it('accepts a parsed policy, a JSON string and a single statement object', () => {
    const document = {
      Version: '2012-10-17',
      Statement: { ...allow, Condition: { StringEquals: { [SUB_KEY]: MAIN } } },
    };
    const expected = evaluateTrustPolicy(document, request(ctx));
    expect(expected.allowed).toBe(true);
    expect(evaluateTrustPolicy(JSON.stringify(document), request(ctx))).toEqual(expected);
    expect(evaluateTrustPolicy(parseTrustPolicy(document), request(ctx))).toEqual(expected);
  });

  it('throws the parse error for a malformed policy', () => {
    expect(() => evaluateTrustPolicy({ Statement: [] }, request(ctx))).toThrow(
      'trust policy: Statement: expected at least one statement, got []',
    );
  });
});

describe('parseTrustPolicy', () => {
  const statement = { Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: ACTION };
  const withStatement = (patch: Record<string, unknown>): unknown => ({
    Version: '2012-10-17',
    Statement: [statement, { ...statement, ...patch }],
  });
  const without = (key: string): unknown => ({
    Version: '2012-10-17',
    Statement: [Object.fromEntries(Object.entries(statement).filter(([name]) => name !== key))],
  });

  it.each([
    ['not JSON', '{"Version": ', /^trust policy: not valid JSON \(.+\)$/],
    ['not an object', '[]', 'trust policy: expected a JSON object, got array'],
    [
      'unknown top-level element',
      { Statement: [statement], Foo: 1 },
      'trust policy: Foo: unknown element (expected Version, Id, Statement)',
    ],
    [
      'bad Version',
      { Version: '2012-10-18', Statement: [statement] },
      'trust policy: Version: expected "2012-10-17" or "2008-10-17", got "2012-10-18"',
    ],
    [
      'numeric Version',
      { Version: 2012, Statement: [statement] },
      'trust policy: Version: expected "2012-10-17" or "2008-10-17", got number',
    ],
    ['missing Statement', { Version: '2012-10-17' }, 'trust policy: Statement: missing'],
    [
      'empty Statement',
      { Statement: [] },
      'trust policy: Statement: expected at least one statement, got []',
    ],
    [
      'Statement string',
      { Statement: 'x' },
      'trust policy: Statement: expected an object or an array of objects, got string',
    ],
    [
      'statement not an object',
      { Statement: [statement, 7] },
      'trust policy: Statement[1]: expected a statement object, got number',
    ],
    [
      'lower-case Effect',
      withStatement({ Effect: 'allow' }),
      'trust policy: Statement[1].Effect: expected "Allow" or "Deny" (case-sensitive), got "allow"',
    ],
    [
      'missing Effect',
      without('Effect'),
      'trust policy: Statement[0].Effect: expected "Allow" or "Deny" (case-sensitive), got nothing',
    ],
    [
      'missing Principal',
      without('Principal'),
      'trust policy: Statement[0].Principal: missing; a role trust policy statement must name a Principal',
    ],
    [
      'NotPrincipal',
      withStatement({ NotPrincipal: { AWS: '*' } }),
      'trust policy: Statement[1].NotPrincipal: not supported in a role trust policy (IAM rejects it); use Principal and a Condition instead',
    ],
    [
      'Principal string',
      withStatement({ Principal: PROVIDER }),
      `trust policy: Statement[1].Principal: expected "*" or an object such as {"Federated": "<OIDC provider ARN>"}, got "${PROVIDER}"`,
    ],
    [
      'Principal empty object',
      withStatement({ Principal: {} }),
      'trust policy: Statement[1].Principal: expected at least one principal type, got {}',
    ],
    [
      'Principal type',
      withStatement({ Principal: { federated: PROVIDER } }),
      'trust policy: Statement[1].Principal.federated: unknown principal type (expected AWS, Federated, Service, CanonicalUser; names are case-sensitive)',
    ],
    [
      'Principal ids',
      withStatement({ Principal: { Federated: [] } }),
      'trust policy: Statement[1].Principal.Federated: expected a principal id string or a non-empty array of them, got an empty array',
    ],
    [
      'missing Action',
      without('Action'),
      'trust policy: Statement[0].Action: missing; expected Action (or NotAction)',
    ],
    [
      'Action and NotAction',
      withStatement({ NotAction: 'sts:AssumeRole' }),
      'trust policy: Statement[1]: has both Action and NotAction; use one',
    ],
    [
      'Action without service',
      withStatement({ Action: 'AssumeRoleWithWebIdentity' }),
      'trust policy: Statement[1].Action: expected "*" or "service:action", got "AssumeRoleWithWebIdentity"',
    ],
    [
      'Action item type',
      withStatement({ Action: [ACTION, 5] }),
      'trust policy: Statement[1].Action[1]: expected an action string, got number',
    ],
    [
      'Resource',
      withStatement({ Resource: '*' }),
      'trust policy: Statement[1].Resource: not allowed in a role trust policy (IAM: "Has prohibited field Resource")',
    ],
    [
      'unknown statement element',
      withStatement({ Conditions: {} }),
      'trust policy: Statement[1].Conditions: unknown element (expected Sid, Effect, Principal, Action or NotAction, Condition)',
    ],
    ['Sid type', withStatement({ Sid: 1 }), 'trust policy: Statement[1].Sid: expected a string, got number'],
    [
      'Condition type',
      withStatement({ Condition: [] }),
      'trust policy: Statement[1].Condition: expected an object of condition operators, got array',
    ],
    [
      'operator value type',
      withStatement({ Condition: { StringLike: 'x' } }),
      'trust policy: Statement[1].Condition.StringLike: expected an object of condition keys, got string',
    ],
    [
      'condition value type',
      withStatement({ Condition: { StringEquals: { [SUB_KEY]: { a: 1 } } } }),
      'trust policy: Statement[1].Condition.StringEquals["gitlab.example.com:sub"]: expected a string, number or boolean, got object',
    ],
    [
      'condition value item type',
      withStatement({ Condition: { StringEquals: { [SUB_KEY]: ['a', null] } } }),
      'trust policy: Statement[1].Condition.StringEquals["gitlab.example.com:sub"][1]: expected a string, number or boolean, got null',
    ],
    [
      'set operator path',
      withStatement({ Condition: { 'ForAnyValue:StringLike': 1 } }),
      'trust policy: Statement[1].Condition["ForAnyValue:StringLike"]: expected an object of condition keys, got number',
    ],
  ] as const)('rejects %s', (_name, document, message) => {
    expect(() => parseTrustPolicy(document)).toThrow(message);
  });

  it('accepts both language versions, no Version, an Id and a single statement', () => {
    expect(parseTrustPolicy({ Statement: statement }).version).toBe('2008-10-17');
    expect(parseTrustPolicy({ Version: '2008-10-17', Statement: statement }).version).toBe('2008-10-17');
    const parsed = parseTrustPolicy(
      JSON.stringify({ Version: '2012-10-17', Id: 'x', Statement: [{ Sid: 'A', ...statement }] }),
    );
    expect(parsed).toEqual({
      version: '2012-10-17',
      statements: [
        {
          sid: 'A',
          effect: 'Allow',
          principal: { Federated: [PROVIDER] },
          action: { negated: false, patterns: [ACTION] },
          conditions: [],
        },
      ],
    });
  });

  it('keeps condition values as IAM compares them', () => {
    const parsed = parseTrustPolicy(
      withStatement({
        Condition: { Bool: { 'aws:SecureTransport': true }, 'ForAnyValue:StringEquals': { n: [1, 'a'] } },
      }),
    );
    expect(parsed.statements[1]?.conditions).toEqual([
      { operator: 'Bool', key: 'aws:SecureTransport', values: ['true'] },
      { operator: 'ForAnyValue:StringEquals', key: 'n', values: ['1', 'a'] },
    ]);
  });
});

describe('properties', () => {
  // Printable text without `$`, so no `${…}` escapes change what the value means.
  const text = fc.string({ unit: fc.constantFrom(...'ab*?.+()[]:/_-Z😀 '.split('')), maxLength: 24 });
  const plain = text.filter((s) => !s.includes('*') && !s.includes('?'));
  const anyText = fc.string({ unit: 'binary', maxLength: 40 });
  const contextValue = fc.oneof(anyText, fc.array(anyText, { maxLength: 4 }));

  it('StringLike without wildcards is StringEquals', () => {
    fc.assert(
      fc.property(plain, text, (pattern, value) => {
        const like = decide({ StringLike: { [k]: pattern } }, { [k]: value }).allowed;
        const equals = decide({ StringEquals: { [k]: pattern } }, { [k]: value }).allowed;
        expect(like).toBe(equals);
        expect(equals).toBe(pattern === value);
      }),
    );
  });

  it('a value matches any pattern made by replacing parts of it with *', () => {
    const valueAndPattern = text.chain((value) =>
      fc.array(fc.tuple(fc.nat(value.length), fc.nat(value.length)), { maxLength: 4 }).map((cuts) => {
        const chars = Array.from(value);
        // Replace each [from, to) run (in code points) with a single *, right to left.
        const runs = cuts
          .map(([a, b]) => [Math.min(a, b, chars.length), Math.min(Math.max(a, b), chars.length)] as const)
          .sort((x, y) => y[0] - x[0]);
        let end = Number.POSITIVE_INFINITY;
        for (const [from, to] of runs) {
          if (to > end) continue;
          chars.splice(from, to - from, '*');
          end = from;
        }
        return { value, pattern: chars.join('') };
      }),
    );
    fc.assert(
      fc.property(valueAndPattern, ({ value, pattern }) => {
        expect(decide({ StringLike: { [k]: pattern } }, { [k]: value }).allowed).toBe(true);
        expect(decide({ StringNotLike: { [k]: pattern } }, { [k]: value }).allowed).toBe(false);
      }),
    );
  });

  it('negated operators are the complement for a present single value', () => {
    const pairs = [
      ['StringEquals', 'StringNotEquals'],
      ['StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase'],
      ['StringLike', 'StringNotLike'],
    ] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...pairs),
        fc.array(text, { minLength: 1, maxLength: 3 }),
        text,
        ([pos, neg], values, value) => {
          const positive = decide({ [pos]: { [k]: values } }, { [k]: value }).allowed;
          const negative = decide({ [neg]: { [k]: values } }, { [k]: value }).allowed;
          expect(negative).toBe(!positive);
        },
      ),
    );
  });

  it('condition key case never changes the decision', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: k.length, maxLength: k.length }),
        text,
        text,
        (upper, pattern, value) => {
          const key = Array.from(k, (c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
          const a = decide({ StringLike: { [key]: pattern } }, { [k]: value }).allowed;
          const b = decide({ StringLike: { [k]: pattern } }, { [key]: value }).allowed;
          expect(a).toBe(decide({ StringLike: { [k]: pattern } }, { [k]: value }).allowed);
          expect(b).toBe(a);
        },
      ),
    );
  });

  it('a Deny with the same conditions always wins', () => {
    const operators = [
      'StringEquals',
      'StringLike',
      'StringNotLike',
      'ForAnyValue:StringLike',
      'ForAllValues:StringEquals',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...operators), text, contextValue, (operator, pattern, value) => {
        const condition = { [operator]: { [k]: pattern } };
        const statement = { Principal: { Federated: PROVIDER }, Action: ACTION, Condition: condition };
        const policy = {
          Statement: [
            { Effect: 'Allow', ...statement },
            { Effect: 'Deny', ...statement },
          ],
        };
        expect(evaluateTrustPolicy(policy, request({ [k]: value })).allowed).toBe(false);
      }),
    );
  });

  it('never throws for arbitrary requests, and explains every decision', () => {
    const policy = parseTrustPolicy({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: PROVIDER },
          Action: 'sts:AssumeRole*',
          Condition: {
            StringLike: { [SUB_KEY]: 'project_path:*:ref_type:?*:ref:*' },
            'ForAllValues:StringEqualsIgnoreCase': { [AUD_KEY]: 'https://gitlab.example.com' },
            Null: { 'x:y': 'true' },
            BoolIfExists: { 'x:z': 'true' },
          },
        },
        {
          Effect: 'Deny',
          Principal: '*',
          NotAction: 'sts:${*}',
          Condition: { StringNotLike: JSON.parse('{"__proto__": "x"}') },
        },
      ],
    });
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(anyText, fc.constantFrom(SUB_KEY, AUD_KEY, '__proto__', 'constructor')),
          contextValue,
        ),
        anyText,
        anyText,
        (context, action, federated) => {
          const decision = evaluateTrustPolicy(policy, { action, principal: { federated }, context });
          expect(decision.details.length).toBeGreaterThan(0);
          expect(decision.details.at(-1)).toMatch(/^Decision: /);
        },
      ),
    );
  });

  it('parsing arbitrary JSON either succeeds or fails with one line', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseTrustPolicy(value);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          const message = error instanceof Error ? error.message : '';
          expect(message).toMatch(/^trust policy: /);
          expect(message).not.toMatch(/\n/);
        }
      }),
    );
  });
});
