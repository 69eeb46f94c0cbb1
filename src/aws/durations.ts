/**
 * Session lengths that STS and IAM accept (STS AssumeRoleWithWebIdentity `DurationSeconds`, IAM
 * CreateRole `MaxSessionDuration`): facts of AWS, used where durations are checked, templated and
 * explained.
 */

/** STS `DurationSeconds`: at least 15 minutes. */
export const MIN_SESSION_DURATION_SECONDS = 900;
/** STS `DurationSeconds` and IAM `MaxSessionDuration`: at most 12 hours. */
export const MAX_SESSION_DURATION_SECONDS = 43_200;
/** IAM `MaxSessionDuration` when a role sets none, which is also the lowest value IAM accepts. */
export const DEFAULT_ROLE_MAX_SESSION_DURATION_SECONDS = 3600;
