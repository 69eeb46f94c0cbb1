/**
 * GitLab's `sub` claim, part by part: `project_path:<p>:ref_type:<t>:ref:<r>` by default, or the
 * components a project chose (ci_id_token_sub_claim_components), always starting with project_path.
 * Used to say which part of a token's `sub` a role's pattern rejects, and what to change.
 */
import { matchesStringLike } from '../policy/trust.js';

const COMPONENTS = new Set(['project_path', 'ref_type', 'ref']);

export type SubPart = readonly [name: string, value: string];

/** The parts of a `sub` or of a pattern for one; `undefined` when it is not in GitLab's layout. */
export function parseSub(sub: string): SubPart[] | undefined {
  const pieces = sub.split(':');
  if (pieces.length < 2 || pieces.length % 2 !== 0) return undefined;
  const parts: SubPart[] = [];
  for (let i = 0; i < pieces.length; i += 2) {
    const name = pieces[i] ?? '';
    if (!COMPONENTS.has(name)) return undefined;
    parts.push([name, pieces[i + 1] ?? '']);
  }
  return parts[0]?.[0] === 'project_path' ? parts : undefined;
}

export interface SubMismatch {
  /** One line per differing part, e.g. `ref_type: the role wants "branch", the token has "tag"`. */
  readonly differences: readonly string[];
  /** The next step, naming the value to add. */
  readonly fix: string;
}

const quote = (value: string): string => JSON.stringify(value);

function partsMatch(pattern: string, value: string, like: boolean): boolean {
  return like ? matchesStringLike(pattern, value) : pattern === value;
}

/**
 * Why `tokenSub` matches none of `patterns` (`like` for StringLike), in the terms of the parts of
 * `sub`; the fix names the exact value to add to the role, or the operator to change.
 */
export function explainSubMismatch(
  tokenSub: string,
  patterns: readonly string[],
  like: boolean,
): SubMismatch {
  const token = parseSub(tokenSub);
  const addExact = `add ${quote(tokenSub)} to the role's sub values (or a StringLike pattern that covers it)`;
  const wildcards = patterns.filter((pattern) => /[*?]/.test(pattern));
  if (!like && wildcards.some((pattern) => matchesStringLike(pattern, tokenSub))) {
    return {
      differences: [
        `${quote(wildcards[0] ?? '')} holds a wildcard, but StringEquals compares * and ? literally`,
      ],
      fix: 'use StringLike for the sub condition: with StringLike the pattern matches this token',
    };
  }
  const best = patterns
    .map((pattern) => ({ pattern, parts: parseSub(pattern) }))
    .find((candidate) => candidate.parts !== undefined);
  if (token === undefined || best?.parts === undefined) {
    return {
      differences: [`the token's sub ${quote(tokenSub)} matches none of ${patterns.map(quote).join(', ')}`],
      fix: addExact,
    };
  }
  const tokenNames = token.map(([name]) => name).join(', ');
  const patternNames = best.parts.map(([name]) => name).join(', ');
  if (tokenNames !== patternNames) {
    return {
      differences: [
        `the token's sub lists ${tokenNames}, the role's pattern ${quote(best.pattern)} lists ${patternNames} (the project's sub claim layout differs)`,
      ],
      fix: `write the role's sub in the token's layout: ${addExact}`,
    };
  }
  const differences: string[] = [];
  const wanted = new Map(best.parts);
  const actual = new Map(token);
  for (const [name, value] of token) {
    const expected = wanted.get(name) ?? '';
    if (partsMatch(expected, value, like)) continue;
    const bareRef =
      name === 'ref' && /^refs\/(heads|tags)\//.test(expected)
        ? ' (the sub carries the bare ref name, without refs/heads/ or refs/tags/)'
        : '';
    differences.push(`${name}: the role wants ${quote(expected)}, the token has ${quote(value)}${bareRef}`);
  }
  const differsIn = (name: string) => !partsMatch(wanted.get(name) ?? '', actual.get(name) ?? '', like);
  let fix: string;
  if (differsIn('project_path')) {
    fix = `this job runs in ${actual.get('project_path') ?? '?'}, the role trusts ${wanted.get('project_path') ?? '?'}: use that project's own role (--role-name), or ${addExact}`;
  } else if (differsIn('ref_type') || differsIn('ref')) {
    const kind = actual.get('ref_type') ?? 'ref';
    fix = `the role trusts ${wanted.get('ref_type') ?? ''} ${wanted.get('ref') ?? ''}, this pipeline runs for ${kind} ${actual.get('ref') ?? ''}: ${addExact}, or run the job only where the role allows (rules: in .gitlab-ci.yml)`;
  } else {
    fix = addExact;
  }
  return { differences, fix };
}
