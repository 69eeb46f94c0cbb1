/**
 * What IAM and STS accept as names (IAM CreateRole and STS AssumeRoleWithWebIdentity models): facts
 * of AWS, used where names are checked (settings, ARNs) and where defaults are made (config/naming).
 */

/** IAM CreateRole: role names are 1–64 characters. */
export const MAX_ROLE_NAME_LENGTH = 64;
/** STS `RoleSessionName`: at most 64 characters. */
export const MAX_SESSION_NAME_LENGTH = 64;
/** STS `RoleSessionName`: at least 2 characters. */
export const MIN_SESSION_NAME_LENGTH = 2;

// `\w` without the `i` flag is ASCII-only ([A-Za-z0-9_]), like in the AWS model regexes. The `u` flag makes
// an astral character (emoji) count as one character, so it becomes one `-`, not two.
const INVALID_NAME_CHARS = /[^\w+=,.@-]/gu;
const ROLE_NAME = new RegExp(`^[\\w+=,.@-]{1,${MAX_ROLE_NAME_LENGTH}}$`);
const SESSION_NAME = new RegExp(`^[\\w+=,.@-]{${MIN_SESSION_NAME_LENGTH},${MAX_SESSION_NAME_LENGTH}}$`);

/** True for a valid IAM role name: 1–64 characters from `[A-Za-z0-9_+=,.@-]`. Paths are not part of the name. */
export function isValidRoleName(name: string): boolean {
  return ROLE_NAME.test(name);
}

/** True for a valid STS `RoleSessionName`: 2–64 characters from `[A-Za-z0-9_+=,.@-]`. */
export function isValidSessionName(name: string): boolean {
  return SESSION_NAME.test(name);
}

/**
 * Replaces every character outside `[A-Za-z0-9_+=,.@-]` with `-` (one `-` per Unicode code point, so
 * `ü` and `😀` each become a single `-`). Does not change the length otherwise; the result is ASCII.
 */
export function sanitizeSessionName(name: string): string {
  return name.replace(INVALID_NAME_CHARS, '-');
}
