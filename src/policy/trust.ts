/**
 * A pure evaluator for IAM role trust policies, as AWS evaluates them for
 * `sts:AssumeRoleWithWebIdentity`. The STS emulator uses it to decide; `doctor` shows its
 * `statements` to explain a refusal. No I/O, no clock, no secrets: the only request data echoed back are the
 * action, the federated principal and the context values the caller passes in.
 *
 * Semantics follow the IAM User Guide (policy grammar, Condition, condition operators, multivalued
 * context keys, policy variables, Principal, NotPrincipal). Where AWS documents nothing, the
 * choice made here is stated next to the code:
 * - Explicit Deny beats Allow; without an applying Allow the request is implicitly denied.
 * - Operators in a Condition are AND-ed, keys under one operator AND-ed, values for one key OR-ed
 *   (NOR for negated operators). Key names are case-insensitive, values case-sensitive except for
 *   the `IgnoreCase` operators and `Bool`.
 * - A key absent from the context fails every operator except negated ones (true), `…IfExists`
 *   (true) and `Null`. `ForAnyValue:` is false and `ForAllValues:` true for an absent key, an empty
 *   list or a lone empty string (AWS: "an empty data set"). Set operators ignore `IfExists`
 *   (as cloud-copilot/iam-simulate models it; AWS documents nothing).
 * - A context key with several values but no set operator is not evaluated (no match): AWS says
 *   multivalued keys require `ForAnyValue:`/`ForAllValues:` and documents no result without one.
 *   A one-element list counts as a single value.
 * - Policy variables are not substituted: `${aws:username}` is compared literally (with a note in
 *   `details`). In `2012-10-17` policies `${*}`, `${?}` and `${$}` stand for a literal `*`, `?`, `$`
 *   in String operators; `2008-10-17` (also the default without `Version`) has no variables at all.
 * - Operators known to IAM but not implemented here (Numeric, Date, Arn, IpAddress, Binary) make
 *   the statement not apply, and say so; an unknown operator does the same and notes that IAM
 *   would reject the policy. Operator names match case-insensitively.
 */

export type PolicyVersion = '2012-10-17' | '2008-10-17';
export type PrincipalType = 'AWS' | 'Federated' | 'Service' | 'CanonicalUser';

/** One key under one operator of a statement's Condition. */
export interface TrustCondition {
  /** As written in the policy, e.g. `ForAnyValue:StringLike`. */
  readonly operator: string;
  /** As written in the policy; matched against the context case-insensitively. */
  readonly key: string;
  /** JSON numbers and booleans are kept as their JSON text, as IAM compares them. */
  readonly values: readonly string[];
}

export interface TrustStatement {
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  /** `'*'` means every principal. */
  readonly principal: '*' | Readonly<Partial<Record<PrincipalType, readonly string[]>>>;
  /** `negated` for `NotAction`. */
  readonly action: { readonly negated: boolean; readonly patterns: readonly string[] };
  readonly conditions: readonly TrustCondition[];
}

/** A validated trust policy; `evaluateTrustPolicy` accepts it without parsing again. */
export interface TrustPolicy {
  readonly version: PolicyVersion;
  readonly statements: readonly TrustStatement[];
}

export interface TrustRequest {
  action: string;
  principal: { federated: string };
  context: Record<string, string | readonly string[]>;
}

/** How one element (Principal, Action) of a statement compared with the request. */
export interface ElementResult {
  readonly ok: boolean;
  /** E.g. `wanted Federated "arn:…", request is Federated "arn:…" (account 111… ≠ 123…)`. */
  readonly explanation: string;
}

/** How one key under one operator compared with the request's context. */
export interface ConditionResult {
  readonly operator: string;
  readonly key: string;
  /** The policy's values, as written. */
  readonly values: readonly string[];
  /** The request's values for the key; `undefined` when the key is absent. */
  readonly actual: readonly string[] | undefined;
  readonly ok: boolean;
  /** E.g. `wanted "a", token has "b"`. */
  readonly explanation: string;
  /** Caveats, such as a policy variable compared literally. */
  readonly notes: readonly string[];
}

export interface StatementResult {
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: 'Allow' | 'Deny';
  /** Principal, action and every condition match: the statement's effect applies. */
  readonly applies: boolean;
  readonly principal: ElementResult;
  /** For `NotAction` too. */
  readonly action: ElementResult;
  readonly conditions: readonly ConditionResult[];
}

export interface TrustDecision {
  allowed: boolean;
  reason: 'allowed' | 'explicit-deny' | 'no-matching-allow';
  /** The Allow that granted, or the Deny that refused. */
  matchedStatement?: number;
  /** One line per element, as the emulator records them. */
  details: string[];
  /** The same, as data: what `doctor` shows side by side. */
  statements: StatementResult[];
}

// ---------------------------------------------------------------------------------------------
// Parsing

const PRINCIPAL_TYPES: readonly PrincipalType[] = ['AWS', 'Federated', 'Service', 'CanonicalUser'];
const STATEMENT_ELEMENTS = 'Sid, Effect, Principal, Action or NotAction, Condition';

/** Policies returned by `parseTrustPolicy`, so evaluation can skip re-validating them. */
const parsedPolicies = new WeakSet<object>();

/** One line, naming the element at fault: `trust policy: <path>: <problem>`. */
function shapeError(path: string, problem: string): Error {
  return new Error(`trust policy: ${path === '' ? '' : `${path}: `}${problem}`);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function keyPath(parent: string, key: string): string {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** Strings or a non-empty array of strings, as Action and principal ids take them. */
function stringList(value: unknown, path: string, what: string): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0) {
    return value.map((item, i) => {
      if (typeof item !== 'string')
        throw shapeError(`${path}[${i}]`, `expected ${what}, got ${kindOf(item)}`);
      return item;
    });
  }
  throw shapeError(
    path,
    `expected ${what} or a non-empty array of them, got ${Array.isArray(value) ? 'an empty array' : kindOf(value)}`,
  );
}

function conditionValue(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  throw shapeError(path, `expected a string, number or boolean, got ${kindOf(value)}`);
}

function parsePrincipal(value: unknown, path: string): TrustStatement['principal'] {
  if (value === '*') return '*';
  if (!isRecord(value)) {
    throw shapeError(
      path,
      `expected "*" or an object such as {"Federated": "<OIDC provider ARN>"}, got ${
        typeof value === 'string' ? JSON.stringify(value) : kindOf(value)
      }`,
    );
  }
  const entries = Object.entries(value);
  if (entries.length === 0) throw shapeError(path, 'expected at least one principal type, got {}');
  const principal: Partial<Record<PrincipalType, readonly string[]>> = {};
  for (const [type, ids] of entries) {
    const known = PRINCIPAL_TYPES.find((t) => t === type);
    if (known === undefined) {
      throw shapeError(
        keyPath(path, type),
        `unknown principal type (expected ${PRINCIPAL_TYPES.join(', ')}; names are case-sensitive)`,
      );
    }
    principal[known] = stringList(ids, keyPath(path, type), 'a principal id string');
  }
  return principal;
}

function parseAction(value: unknown, path: string): string[] {
  const patterns = stringList(value, path, 'an action string');
  patterns.forEach((pattern, i) => {
    if (pattern !== '*' && !/^[^:]+:.+$/.test(pattern)) {
      const at = typeof value === 'string' ? path : `${path}[${i}]`;
      throw shapeError(at, `expected "*" or "service:action", got ${JSON.stringify(pattern)}`);
    }
  });
  return patterns;
}

function parseCondition(value: unknown, path: string): TrustCondition[] {
  if (!isRecord(value)) {
    throw shapeError(path, `expected an object of condition operators, got ${kindOf(value)}`);
  }
  const conditions: TrustCondition[] = [];
  for (const [operator, keys] of Object.entries(value)) {
    const operatorPath = keyPath(path, operator);
    if (!isRecord(keys)) {
      throw shapeError(operatorPath, `expected an object of condition keys, got ${kindOf(keys)}`);
    }
    for (const [key, raw] of Object.entries(keys)) {
      const valuePath = keyPath(operatorPath, key);
      // An empty array is kept: it matches nothing (and every value for a negated operator).
      const values = Array.isArray(raw)
        ? raw.map((item, i) => conditionValue(item, `${valuePath}[${i}]`))
        : [conditionValue(raw, valuePath)];
      conditions.push({ operator, key, values });
    }
  }
  return conditions;
}

function parseStatement(value: unknown, path: string): TrustStatement {
  if (!isRecord(value)) throw shapeError(path, `expected a statement object, got ${kindOf(value)}`);
  for (const element of Object.keys(value)) {
    if (element === 'Resource' || element === 'NotResource') {
      throw shapeError(
        `${path}.${element}`,
        `not allowed in a role trust policy (IAM: "Has prohibited field ${element}")`,
      );
    }
    if (element === 'NotPrincipal') {
      throw shapeError(
        `${path}.NotPrincipal`,
        'not supported in a role trust policy (IAM rejects it); use Principal and a Condition instead',
      );
    }
    if (!['Sid', 'Effect', 'Principal', 'Action', 'NotAction', 'Condition'].includes(element)) {
      throw shapeError(keyPath(path, element), `unknown element (expected ${STATEMENT_ELEMENTS})`);
    }
  }

  const { Sid: sid, Effect: effect, Principal: principal, Action: action, NotAction: notAction } = value;
  if (sid !== undefined && typeof sid !== 'string') {
    throw shapeError(`${path}.Sid`, `expected a string, got ${kindOf(sid)}`);
  }
  if (effect !== 'Allow' && effect !== 'Deny') {
    const got =
      effect === undefined ? 'nothing' : typeof effect === 'string' ? JSON.stringify(effect) : kindOf(effect);
    throw shapeError(`${path}.Effect`, `expected "Allow" or "Deny" (case-sensitive), got ${got}`);
  }
  if (principal === undefined) {
    throw shapeError(`${path}.Principal`, 'missing; a role trust policy statement must name a Principal');
  }
  if (action !== undefined && notAction !== undefined) {
    throw shapeError(path, 'has both Action and NotAction; use one');
  }
  if (action === undefined && notAction === undefined) {
    throw shapeError(`${path}.Action`, 'missing; expected Action (or NotAction)');
  }

  const statement: TrustStatement = {
    effect,
    principal: parsePrincipal(principal, `${path}.Principal`),
    action:
      action === undefined
        ? { negated: true, patterns: parseAction(notAction, `${path}.NotAction`) }
        : { negated: false, patterns: parseAction(action, `${path}.Action`) },
    conditions: value.Condition === undefined ? [] : parseCondition(value.Condition, `${path}.Condition`),
  };
  return sid === undefined ? statement : { sid, ...statement };
}

function parseVersion(version: unknown): PolicyVersion {
  // The grammar makes Version optional; without it IAM uses the 2008-10-17 language.
  if (version === undefined) return '2008-10-17';
  if (version === '2012-10-17' || version === '2008-10-17') return version;
  const got = typeof version === 'string' ? JSON.stringify(version) : kindOf(version);
  throw shapeError('Version', `expected "2012-10-17" or "2008-10-17", got ${got}`);
}

/**
 * Validates a role trust policy given as JSON text or as an already-parsed object.
 * Throws an `Error` with a one-line message naming the element at fault, e.g.
 * `trust policy: Statement[1].Condition.StringLike: expected an object of condition keys, got string`.
 * Condition operators are not checked here: `evaluateTrustPolicy` explains unknown ones.
 */
export function parseTrustPolicy(document: unknown): TrustPolicy {
  let raw = document;
  if (typeof document === 'string') {
    try {
      raw = JSON.parse(document);
    } catch (error) {
      const reason = error instanceof Error ? error.message.replace(/\s+/g, ' ') : String(error);
      throw shapeError('', `not valid JSON (${reason})`);
    }
  }
  if (!isRecord(raw)) throw shapeError('', `expected a JSON object, got ${kindOf(raw)}`);
  for (const element of Object.keys(raw)) {
    if (!['Version', 'Id', 'Statement'].includes(element)) {
      throw shapeError(keyPath('', element), 'unknown element (expected Version, Id, Statement)');
    }
  }

  const { Version: version, Id: id, Statement: statement } = raw;
  if (id !== undefined && typeof id !== 'string') {
    throw shapeError('Id', `expected a string, got ${kindOf(id)}`);
  }
  if (statement === undefined) throw shapeError('Statement', 'missing');
  if (!Array.isArray(statement) && !isRecord(statement)) {
    throw shapeError('Statement', `expected an object or an array of objects, got ${kindOf(statement)}`);
  }
  const items: unknown[] = Array.isArray(statement) ? statement : [statement];
  if (items.length === 0) throw shapeError('Statement', 'expected at least one statement, got []');

  const policy: TrustPolicy = {
    version: parseVersion(version),
    statements: items.map((item, i) => parseStatement(item, `Statement[${i}]`)),
  };
  parsedPolicies.add(policy);
  return policy;
}

// ---------------------------------------------------------------------------------------------
// Matching primitives

type Token = { readonly kind: 'char'; readonly char: string } | { readonly kind: 'any' | 'one' };

interface PolicyValue {
  readonly raw: string;
  /** The value with `${*}`-style escapes resolved; what the Equals operators compare. */
  readonly literal: string;
  /** For StringLike: `*` and `?` are wildcards unless they came from an escape. */
  readonly tokens: readonly Token[];
  /** Policy variables other than the escapes, compared literally. */
  readonly variables: readonly string[];
}

/** `${*}`, `${?}`, `${$}`: IAM's way to write a literal `*`, `?`, `$` where variables are allowed. */
const ESCAPES: ReadonlySet<string> = new Set(['*', '?', '$']);

function compileValue(raw: string, version: PolicyVersion): PolicyValue {
  const chars = Array.from(raw);
  const tokens: Token[] = [];
  const variables: string[] = [];
  let literal = '';
  const push = (char: string): void => {
    tokens.push({ kind: 'char', char });
    literal += char;
  };
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] ?? '';
    if (version === '2012-10-17' && char === '$' && chars[i + 1] === '{') {
      const escaped = chars[i + 2];
      if (chars[i + 3] === '}' && escaped !== undefined && ESCAPES.has(escaped)) {
        push(escaped);
        i += 3;
        continue;
      }
      const end = chars.indexOf('}', i + 2);
      if (end !== -1) {
        const variable = chars.slice(i, end + 1).join('');
        variables.push(variable);
        for (const c of variable) push(c);
        i = end;
        continue;
      }
    }
    if (char === '*') {
      tokens.push({ kind: 'any' });
      literal += char;
    } else if (char === '?') {
      tokens.push({ kind: 'one' });
      literal += char;
    } else {
      push(char);
    }
  }
  return { raw, literal, tokens, variables };
}

/**
 * `*` matches any run of characters (also none), `?` exactly one; everything else is literal.
 * Greedy with backtracking to the last `*`: O(pattern × value), no regular expressions, so no
 * escaping mistakes and no catastrophic backtracking on hostile patterns.
 */
function globMatch(pattern: readonly Token[], value: readonly string[]): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let starValue = 0;
  while (v < value.length) {
    const token = pattern[p];
    if (token !== undefined && (token.kind === 'one' || (token.kind === 'char' && token.char === value[v]))) {
      p++;
      v++;
    } else if (token?.kind === 'any') {
      star = p++;
      starValue = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++starValue;
    } else {
      return false;
    }
  }
  while (pattern[p]?.kind === 'any') p++;
  return p === pattern.length;
}

/** `StringLike` without policy variables: `*` any run of characters, `?` exactly one. */
export function matchesStringLike(pattern: string, value: string): boolean {
  return globMatch(compileValue(pattern, '2008-10-17').tokens, Array.from(value));
}

function actionMatches(pattern: string, action: string): boolean {
  // Action names are case-insensitive, and no policy variables apply to them.
  return globMatch(
    compileValue(pattern.toLowerCase(), '2008-10-17').tokens,
    Array.from(action.toLowerCase()),
  );
}

// ---------------------------------------------------------------------------------------------
// Condition operators

type BaseOperator =
  | {
      readonly kind: 'string';
      readonly name: string;
      readonly negated: boolean;
      readonly ignoreCase: boolean;
      readonly like: boolean;
    }
  | { readonly kind: 'bool'; readonly name: 'Bool'; readonly negated: false }
  | { readonly kind: 'null'; readonly name: 'Null'; readonly negated: false };

const BASE_OPERATORS: ReadonlyMap<string, BaseOperator> = new Map(
  (
    [
      { kind: 'string', name: 'StringEquals', negated: false, ignoreCase: false, like: false },
      { kind: 'string', name: 'StringNotEquals', negated: true, ignoreCase: false, like: false },
      { kind: 'string', name: 'StringEqualsIgnoreCase', negated: false, ignoreCase: true, like: false },
      { kind: 'string', name: 'StringNotEqualsIgnoreCase', negated: true, ignoreCase: true, like: false },
      { kind: 'string', name: 'StringLike', negated: false, ignoreCase: false, like: true },
      { kind: 'string', name: 'StringNotLike', negated: true, ignoreCase: false, like: true },
      { kind: 'bool', name: 'Bool', negated: false },
      { kind: 'null', name: 'Null', negated: false },
    ] as const
  ).map((op): [string, BaseOperator] => [op.name.toLowerCase(), op]),
);

const UNSUPPORTED_OPERATORS: ReadonlySet<string> = new Set(
  [
    'NumericEquals',
    'NumericNotEquals',
    'NumericLessThan',
    'NumericLessThanEquals',
    'NumericGreaterThan',
    'NumericGreaterThanEquals',
    'DateEquals',
    'DateNotEquals',
    'DateLessThan',
    'DateLessThanEquals',
    'DateGreaterThan',
    'DateGreaterThanEquals',
    'BinaryEquals',
    'IpAddress',
    'NotIpAddress',
    'ArnEquals',
    'ArnLike',
    'ArnNotEquals',
    'ArnNotLike',
  ].map((name) => name.toLowerCase()),
);

type SetQualifier = 'ForAnyValue' | 'ForAllValues';

interface Operator {
  readonly base: BaseOperator;
  readonly set: SetQualifier | undefined;
  readonly ifExists: boolean;
}

function parseOperator(text: string): Operator | string {
  let rest = text;
  let set: SetQualifier | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const qualifier = rest.slice(0, colon).toLowerCase();
    if (qualifier === 'foranyvalue') set = 'ForAnyValue';
    else if (qualifier === 'forallvalues') set = 'ForAllValues';
    else return `unknown condition operator ${JSON.stringify(text)}; IAM would reject this policy`;
    rest = rest.slice(colon + 1);
  }
  const ifExists = rest.length > 'IfExists'.length && rest.toLowerCase().endsWith('ifexists');
  if (ifExists) rest = rest.slice(0, -'IfExists'.length);
  const base = BASE_OPERATORS.get(rest.toLowerCase());
  if (base === undefined) {
    return UNSUPPORTED_OPERATORS.has(rest.toLowerCase())
      ? `operator ${JSON.stringify(text)} is not supported by this evaluator; treated as not matching`
      : `unknown condition operator ${JSON.stringify(text)}; IAM would reject this policy`;
  }
  if (base.kind === 'null' && ifExists) {
    return `unknown condition operator ${JSON.stringify(text)} (IfExists cannot be added to Null); IAM would reject this policy`;
  }
  if (base.kind === 'null' && set !== undefined) {
    return `operator ${JSON.stringify(text)}: Null with a set operator is not supported by this evaluator; treated as not matching`;
  }
  return { base, set, ifExists };
}

// ---------------------------------------------------------------------------------------------
// Evaluation

interface ContextEntry {
  readonly values: readonly string[];
  /** Given as a plain string rather than a list. */
  readonly scalar: boolean;
}

function normalizeContext(context: TrustRequest['context']): Map<string, ContextEntry> {
  const entries = new Map<string, ContextEntry>();
  for (const [key, raw] of Object.entries(context)) {
    const scalar = typeof raw === 'string';
    const values = scalar ? [raw] : Array.isArray(raw) ? raw.filter((v) => typeof v === 'string') : [];
    const lower = key.toLowerCase();
    const previous = entries.get(lower);
    // Keys differing only in case are one key to IAM; keep every value rather than pick one.
    entries.set(
      lower,
      previous === undefined
        ? { values, scalar }
        : { values: [...previous.values, ...values], scalar: false },
    );
  }
  return entries;
}

const quote = (value: string): string => JSON.stringify(value);
const quoteAll = (values: readonly string[]): string => values.map(quote).join(', ');

function describeContext(entry: ContextEntry | undefined): string {
  if (entry === undefined) return 'token has no such key';
  if (entry.values.length === 0) return 'token has an empty list';
  const [only] = entry.values;
  if (entry.values.length === 1 && entry.scalar && only !== undefined) return `token has ${quote(only)}`;
  return `token has [${quoteAll(entry.values)}]`;
}

function describeWanted(base: BaseOperator, values: readonly string[]): string {
  const [only] = values;
  if (base.negated)
    return only !== undefined && values.length === 1
      ? `wanted not ${quote(only)}`
      : `wanted none of ${quoteAll(values)}`;
  if (values.length === 0) return 'wanted one of no values';
  return only !== undefined && values.length === 1
    ? `wanted ${quote(only)}`
    : `wanted one of ${quoteAll(values)}`;
}

/** The policy value a single context value matches, if any. */
function findMatch(
  base: BaseOperator,
  values: readonly PolicyValue[],
  actual: string,
): PolicyValue | undefined {
  if (base.kind === 'bool') {
    const lower = actual.toLowerCase();
    if (lower !== 'true' && lower !== 'false') return undefined;
    return values.find((v) => v.raw.toLowerCase() === lower);
  }
  if (base.kind !== 'string') return undefined;
  if (base.like) {
    const chars = Array.from(actual);
    return values.find((v) => globMatch(v.tokens, chars));
  }
  if (base.ignoreCase) {
    const lower = actual.toLowerCase();
    return values.find((v) => v.literal.toLowerCase() === lower);
  }
  return values.find((v) => v.literal === actual);
}

/** True when one context value satisfies the operator (NOR over policy values when negated). */
function valueSatisfies(base: BaseOperator, values: readonly PolicyValue[], actual: string): boolean {
  const match = findMatch(base, values, actual);
  return base.negated ? match === undefined : match !== undefined;
}

interface Outcome {
  readonly ok: boolean;
  readonly text: string;
}

function evaluateNull(values: readonly string[], entry: ContextEntry | undefined): Outcome {
  const absent = entry === undefined || entry.values.length === 0;
  const wants = values.map((v) =>
    v.toLowerCase() === 'true'
      ? 'absent'
      : v.toLowerCase() === 'false'
        ? 'present'
        : `${quote(v)} (not true or false)`,
  );
  const ok = wants.includes(absent ? 'absent' : 'present');
  const has = absent ? describeContext(entry) : 'token has the key';
  return { ok, text: `wanted the key ${wants.length === 0 ? 'nothing' : wants.join(' or ')}, ${has}` };
}

function evaluateSet(
  op: Operator,
  set: SetQualifier,
  values: readonly PolicyValue[],
  entry: ContextEntry | undefined,
): Outcome {
  const wanted = `${describeWanted(
    op.base,
    values.map((v) => v.raw),
  )} (${set === 'ForAnyValue' ? 'for any value' : 'for every value'})`;
  const empty =
    entry === undefined ||
    entry.values.length === 0 ||
    (entry.scalar && entry.values.length === 1 && entry.values[0] === '');
  if (empty) {
    return set === 'ForAnyValue'
      ? {
          ok: false,
          text: `${wanted}, ${describeContext(entry)} (ForAnyValue never matches an absent or empty key)`,
        }
      : {
          ok: true,
          text: `${wanted}, ${describeContext(entry)} (ForAllValues matches an absent or empty key)`,
        };
  }
  const failing = entry.values.filter((v) => !valueSatisfies(op.base, values, v));
  if (set === 'ForAnyValue') {
    return { ok: failing.length < entry.values.length, text: `${wanted}, ${describeContext(entry)}` };
  }
  return failing.length === 0
    ? { ok: true, text: `${wanted}, ${describeContext(entry)}` }
    : { ok: false, text: `${wanted}, ${describeContext(entry)}; failing: ${quoteAll(failing)}` };
}

function evaluateSingle(
  op: Operator,
  values: readonly PolicyValue[],
  entry: ContextEntry | undefined,
): Outcome {
  const wanted = describeWanted(
    op.base,
    values.map((v) => v.raw),
  );
  const has = describeContext(entry);
  if (entry === undefined || entry.values.length === 0) {
    if (op.ifExists) return { ok: true, text: `${has}, and IfExists matches an absent key` };
    if (op.base.negated) return { ok: true, text: `${has}, and a negated operator matches an absent key` };
    return { ok: false, text: `${wanted}, ${has}` };
  }
  const [actual] = entry.values;
  if (entry.values.length > 1 || actual === undefined) {
    return {
      ok: false,
      text: `${wanted}, ${has}; a key with several values needs ForAnyValue: or ForAllValues: (treated as no match)`,
    };
  }
  const match = findMatch(op.base, values, actual);
  const ok = op.base.negated ? match === undefined : match !== undefined;
  // Name the matching pattern when the operator name alone would not make it obvious.
  const which =
    ok && match !== undefined && (values.length > 1 || match.raw !== actual)
      ? ` (matches ${quote(match.raw)})`
      : '';
  const boolHint =
    op.base.kind === 'bool' && values.some((v) => !['true', 'false'].includes(v.raw.toLowerCase()))
      ? ' (Bool takes "true" or "false")'
      : '';
  return { ok, text: `${wanted}, ${has}${which}${boolHint}` };
}

function contextValues(entry: ContextEntry | undefined): readonly string[] | undefined {
  return entry === undefined ? undefined : entry.values;
}

function evaluateCondition(
  condition: TrustCondition,
  context: Map<string, ContextEntry>,
  version: PolicyVersion,
): ConditionResult {
  const entry = context.get(condition.key.toLowerCase());
  const base = {
    operator: condition.operator,
    key: condition.key,
    values: condition.values,
    actual: contextValues(entry),
  };
  const op = parseOperator(condition.operator);
  if (typeof op === 'string') return { ...base, ok: false, explanation: op, notes: [] };

  // Policy variables (and their escapes) exist only in String and ARN comparisons.
  const valueVersion: PolicyVersion = op.base.kind === 'string' ? version : '2008-10-17';
  const values = condition.values.map((v) => compileValue(v, valueVersion));
  const outcome =
    op.base.kind === 'null'
      ? evaluateNull(condition.values, entry)
      : op.set === undefined
        ? evaluateSingle(op, values, entry)
        : evaluateSet(op, op.set, values, entry);

  const variables = [...new Set(values.flatMap((v) => v.variables))];
  const notes =
    variables.length === 0
      ? []
      : [
          `policy variable ${quoteAll(variables)} is compared literally here; IAM would substitute it from the request`,
        ];
  return { ...base, ok: outcome.ok, explanation: outcome.text, notes };
}

/** `arn:<partition>:iam::<account>:oidc-provider/<host[/path]>`, split; `undefined` for anything else. */
function splitProviderArn(arn: string): { partition: string; account: string; provider: string } | undefined {
  const match = /^arn:([^:]+):iam::([^:]*):oidc-provider\/(.+)$/.exec(arn);
  if (match === null) return undefined;
  const [, partition = '', account = '', provider = ''] = match;
  return { partition, account, provider };
}

/** Which parts of a listed Federated principal differ from the request's provider ARN. */
function federatedDifference(listed: string, requested: string): string {
  const wanted = splitProviderArn(listed);
  const actual = splitProviderArn(requested);
  if (actual === undefined) return '';
  if (wanted === undefined) {
    return `${quote(listed)} is not an OIDC provider ARN; for this token it must be ${quote(requested)}`;
  }
  const parts: string[] = [];
  if (wanted.partition !== actual.partition)
    parts.push(`partition ${wanted.partition} ≠ ${actual.partition}`);
  if (wanted.account !== actual.account) {
    parts.push(`account ${wanted.account} ≠ ${actual.account} (the provider must be in the role's account)`);
  }
  if (wanted.provider !== actual.provider) {
    const caseOnly = wanted.provider.toLowerCase() === actual.provider.toLowerCase();
    parts.push(
      `provider ${wanted.provider} ≠ ${actual.provider}${caseOnly ? ' (differs only in letter case)' : ' (the token’s issuer)'}`,
    );
  }
  return parts.join(', ');
}

function evaluatePrincipal(principal: TrustStatement['principal'], federated: string): Outcome {
  if (principal === '*') return { ok: true, text: '"*" (every principal)' };
  if (principal.AWS?.includes('*')) return { ok: true, text: 'AWS "*" (every principal)' };
  if (principal.Federated?.includes(federated)) return { ok: true, text: `Federated ${quote(federated)}` };
  const listed = PRINCIPAL_TYPES.flatMap((type) =>
    (principal[type] ?? []).map((id) => `${type} ${quote(id)}`),
  );
  const wanted = listed.length === 1 ? `wanted ${listed.join('')}` : `wanted one of ${listed.join(', ')}`;
  const differences = (principal.Federated ?? [])
    .map((id) => federatedDifference(id, federated))
    .filter((text) => text !== '');
  const caseOnly = principal.Federated?.some((id) => id.toLowerCase() === federated.toLowerCase()) ?? false;
  const why =
    differences.length > 0
      ? ` (${differences.join('; ')})`
      : caseOnly
        ? ' (differs only in letter case)'
        : '';
  return { ok: false, text: `${wanted}, request is Federated ${quote(federated)}${why}` };
}

function evaluateAction(action: TrustStatement['action'], requested: string): Outcome {
  const match = action.patterns.find((pattern) => actionMatches(pattern, requested));
  const listed =
    action.patterns.length === 1 ? quoteAll(action.patterns) : `one of ${quoteAll(action.patterns)}`;
  if (action.negated) {
    return match === undefined
      ? { ok: true, text: `excludes ${listed}, request is ${quote(requested)}` }
      : { ok: false, text: `excludes ${quote(match)}, which matches the request ${quote(requested)}` };
  }
  if (match === undefined) return { ok: false, text: `wanted ${listed}, request is ${quote(requested)}` };
  return {
    ok: true,
    text: `${quote(requested)}${match === requested ? '' : ` matches ${quote(match)}`}`,
  };
}

function isParsedPolicy(value: unknown): value is TrustPolicy {
  return typeof value === 'object' && value !== null && parsedPolicies.has(value);
}

/**
 * Decides whether the trust policy lets `request` assume the role, the way IAM does for
 * `sts:AssumeRoleWithWebIdentity`. `policy` is JSON text, a policy object or the result of
 * `parseTrustPolicy`; a malformed document throws the same one-line `Error` as `parseTrustPolicy`.
 * Every statement is evaluated completely, so `details` lists every reason a statement did not
 * apply, not only the first.
 */
export function evaluateTrustPolicy(policy: unknown, request: TrustRequest): TrustDecision {
  const parsed = isParsedPolicy(policy) ? policy : parseTrustPolicy(policy);
  const context = normalizeContext(request.context);
  const details: string[] = [];
  let allowedBy: number | undefined;
  let deniedBy: number | undefined;

  const statements: StatementResult[] = [];
  const okPrefix = (ok: boolean): string => (ok ? 'ok: ' : '');

  for (const [index, statement] of parsed.statements.entries()) {
    const at = `Statement[${index}]`;
    const principal = evaluatePrincipal(statement.principal, request.principal.federated);
    const action = evaluateAction(statement.action, request.action);
    const conditions = statement.conditions.map((c) => evaluateCondition(c, context, parsed.version));
    const applies = principal.ok && action.ok && conditions.every((c) => c.ok);
    statements.push({
      index,
      sid: statement.sid,
      effect: statement.effect,
      applies,
      principal: { ok: principal.ok, explanation: principal.text },
      action: { ok: action.ok, explanation: action.text },
      conditions,
    });

    const label =
      statement.sid === undefined ? statement.effect : `${statement.effect}, Sid ${quote(statement.sid)}`;
    details.push(
      `${at} (${label}): ${applies ? 'applies' : 'does not apply'}`,
      `${at} Principal: ${okPrefix(principal.ok)}${principal.text}`,
      `${at} ${statement.action.negated ? 'NotAction' : 'Action'}: ${okPrefix(action.ok)}${action.text}`,
      ...conditions.flatMap((c) => {
        const prefix = `${at} Condition ${c.operator} ${c.key}: `;
        return [
          `${prefix}${okPrefix(c.ok)}${c.explanation}`,
          ...c.notes.map((note) => `${prefix}note: ${note}`),
        ];
      }),
    );
    if (!applies) continue;
    if (statement.effect === 'Deny') deniedBy ??= index;
    else allowedBy ??= index;
  }

  if (deniedBy !== undefined) {
    const overrides = allowedBy === undefined ? '' : `, overriding the Allow in Statement[${allowedBy}]`;
    details.push(`Decision: denied explicitly by Statement[${deniedBy}]${overrides}`);
    return { allowed: false, reason: 'explicit-deny', matchedStatement: deniedBy, details, statements };
  }
  if (allowedBy !== undefined) {
    details.push(`Decision: allowed by Statement[${allowedBy}]`);
    return { allowed: true, reason: 'allowed', matchedStatement: allowedBy, details, statements };
  }
  details.push('Decision: denied, no Allow statement applies (implicit deny)');
  return { allowed: false, reason: 'no-matching-allow', details, statements };
}
