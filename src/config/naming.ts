/**
 * Default IAM role names and STS session names derived from GitLab CI/CD variables.
 *
 * Everything here is pure and deterministic: the same inputs give the same names on every runner and in
 * every release, because the IAM side (Terraform, CloudFormation, a future `role-template` command) has to
 * create the role under exactly the name this helper will ask for.
 */
import {
  MAX_ROLE_NAME_LENGTH,
  MAX_SESSION_NAME_LENGTH,
  MIN_SESSION_NAME_LENGTH,
  sanitizeSessionName,
} from '../aws/names.js';

/** The default role is this prefix and the project's slug. */
export const ROLE_NAME_PREFIX = 'gitlab-';
/**
 * A pipeline id keeps at most its last 40 characters in a session name, so at least 23 characters
 * (64 − 1 − 40) of the role name always stay visible in CloudTrail. GitLab's ids are decimal integers
 * (a 64-bit id has at most 20 digits); only a user-set CI_PIPELINE_ID can be longer.
 */
const MAX_PIPELINE_ID_IN_SESSION_NAME = 40;
/** GitLab cuts slugs to 63 characters (a DNS label). */
const SLUG_MAX_LENGTH = 63;
/** Pads a session name that would be shorter than 2 characters. */
const SESSION_NAME_PAD = '_';

/**
 * GitLab's `slugify` (used for `CI_PROJECT_PATH_SLUG`), for when only `CI_PROJECT_PATH` is set: lower-case,
 * every character other than `a-z0-9` becomes `-`, keep the first 63 characters, then strip leading and
 * trailing `-`. Runs of `-` are kept (`my_group/x` → `my-group-x`, `a//b` → `a--b`). Characters count as
 * Unicode code points, as in Ruby.
 */
export function slugifyProjectPath(path: string): string {
  return path
    .toLowerCase()
    .replace(/[^a-z0-9]/gu, '-')
    .slice(0, SLUG_MAX_LENGTH)
    .replace(/^-+|-+$/g, '');
}

/**
 * The default IAM role name for a project: `gitlab-<slug>` cut to IAM's 64 characters, where `slug` is
 * `CI_PROJECT_PATH_SLUG`.
 *
 * This is plain truncation on purpose: it is the rule of the Go tool this helper replaces, so roles
 * created for it keep working unchanged. The IAM side computes the same name with
 * `substr("gitlab-${slug}", 0, 64)` (Terraform) or `printf '%.64s' "gitlab-$CI_PROJECT_PATH_SLUG"`
 * (shell). Two projects whose slugs share their first 57 characters get the same default name; such
 * projects should name their roles with `--role-name`. Characters outside `[A-Za-z0-9_+=,.@-]` become
 * `-` (GitLab slugs never contain any); an empty slug gives `gitlab`.
 *
 * @example
 * defaultRoleName('my-group-my-project') // 'gitlab-my-group-my-project'
 * defaultRoleName('a'.repeat(63))        // 'gitlab-' + 57 × 'a' (64 characters)
 */
export function defaultRoleName(projectPathSlug: string): string {
  return roleNameBeforeCut(projectPathSlug).slice(0, MAX_ROLE_NAME_LENGTH);
}

/** {@link defaultRoleName} before the cut to 64 characters: what a user may expect the role to be called. */
export function roleNameBeforeCut(projectPathSlug: string): string {
  const slug = sanitizeSessionName(projectPathSlug);
  return slug === '' ? ROLE_NAME_PREFIX.slice(0, -1) : `${ROLE_NAME_PREFIX}${slug}`;
}

/**
 * The default STS `RoleSessionName`: `<roleName>-<pipelineId>`, shown in the assumed-role ARN and CloudTrail.
 *
 * - Both parts are sanitized with {@link sanitizeSessionName} (a role given with a path, `ci/deployer`,
 *   becomes `ci-deployer`; pipeline ids that are not digits are sanitized the same way).
 * - A pipeline id that is `undefined`, empty or whitespace counts as absent; otherwise it is trimmed.
 * - The pipeline id is what tells sessions apart, so it is kept whole and the role part is cut from its end
 *   to fit 64 characters. A pipeline id longer than 40 characters keeps its last 40 (the tail is where
 *   ids differ); the role part then keeps at least 23 characters. The `-` separator is always present.
 * - Without a pipeline id the name is the sanitized role name, cut to 64, padded with `_` to 2 characters
 *   (`a` → `a_`).
 *
 * @example
 * defaultSessionName('gitlab-my-group-my-project', '1234567') // 'gitlab-my-group-my-project-1234567'
 * defaultSessionName('r'.repeat(64), '1234567890')            // 53 × 'r' + '-1234567890' (64 characters)
 * defaultSessionName('deployer', '1234567890'.repeat(7)) // 70 characters: the last 40 are kept
 * // 'deployer-1234567890123456789012345678901234567890'
 * defaultSessionName('a', undefined) // 'a_'
 */
export function defaultSessionName(roleName: string, pipelineId: string | undefined): string {
  const role = sanitizeSessionName(roleName);
  const id = pipelineId?.trim() ?? '';
  if (id === '') {
    return role.slice(0, MAX_SESSION_NAME_LENGTH).padEnd(MIN_SESSION_NAME_LENGTH, SESSION_NAME_PAD);
  }
  const idPart = sanitizeSessionName(id).slice(-MAX_PIPELINE_ID_IN_SESSION_NAME);
  const roleBudget = MAX_SESSION_NAME_LENGTH - 1 - idPart.length;
  return `${role.slice(0, roleBudget)}-${idPart}`;
}
