/**
 * When a cached set of credentials may still be handed out. Pure: the clock is a parameter.
 *
 * The configured refresh window (default {@link DEFAULT_CACHE_REFRESH_WINDOW_SECONDS}, 20 min: the
 * AWS CLI's 15-minute advisory refresh plus 5 minutes of margin) is how much life a cached set must
 * still have. Applied as-is, it would make every set whose whole lifetime is not longer than the
 * window useless from the start: a 900 s session (the STS minimum) under a 1200 s window would never
 * be served from the cache, and since the AWS CLI runs credential_process for every `aws` command,
 * every command would call STS. So the window is capped at half the lifetime:
 *
 *   effective window = min(configured window, lifetime / 2)
 *
 * Half because it splits the lifetime evenly between the two things we want: each set is reused for
 * at least half its life (at most two STS calls per lifetime per key), and whatever the cache hands
 * out still has at least half its life left; for the 900 s minimum that is 450 s, more than the
 * 5 minutes at which the JavaScript SDK refreshes and the 1 minute of botocore's newer mandatory
 * window. (botocore's classic 10-minute mandatory window cannot be met by any 900 s set for more
 * than 5 minutes, cached or not; it then asks us again, and the cache answers without STS.)
 */

/**
 * botocore (the AWS CLI) calls credential_process again once fewer than 15 minutes are left (its
 * advisory refresh) and on every use once fewer than 10 are left (its mandatory refresh), failing
 * when that returns a set still inside the margin.
 */
export const ADVISORY_REFRESH_SECONDS = 15 * 60;
const MANDATORY_REFRESH_SECONDS = 10 * 60;

/**
 * The AWS CLI's advisory refresh plus 5 minutes: a set handed out from the cache is not one the CLI
 * wants to replace at once.
 */
export const DEFAULT_CACHE_REFRESH_WINDOW_SECONDS = ADVISORY_REFRESH_SECONDS + 5 * 60;

/** The window actually applied to a set that lived `lifetimeSeconds` when issued (see the module doc). */
export function effectiveRefreshWindowSeconds(
  refreshWindowSeconds: number = DEFAULT_CACHE_REFRESH_WINDOW_SECONDS,
  lifetimeSeconds?: number,
): number {
  const window = Math.max(0, refreshWindowSeconds);
  if (lifetimeSeconds === undefined || !Number.isFinite(lifetimeSeconds) || lifetimeSeconds <= 0)
    return window;
  return Math.min(window, lifetimeSeconds / 2);
}

/**
 * True while MORE than the effective window is left before `expiration`; never at or past expiry,
 * whatever the window (a window of 0 still refuses expired credentials).
 */
export function isFresh(
  expiration: Date,
  nowMs: number,
  refreshWindowSeconds: number = DEFAULT_CACHE_REFRESH_WINDOW_SECONDS,
  lifetimeSeconds?: number,
): boolean {
  const expiresAtMs = expiration.getTime();
  if (!Number.isFinite(expiresAtMs) || !Number.isFinite(nowMs)) return false;
  const remainingMs = expiresAtMs - nowMs;
  if (remainingMs <= 0) return false;
  return remainingMs > effectiveRefreshWindowSeconds(refreshWindowSeconds, lifetimeSeconds) * 1000;
}

/**
 * True when a cached set, though due for a refresh, may still be handed out because the refresh
 * failed for a passing reason (an STS outage): it lives longer than the mandatory margin, so every
 * client accepts it. Past that margin, failing is more honest than a set the AWS CLI would refuse.
 */
export function outlastsMandatoryRefresh(expiration: Date, nowMs: number): boolean {
  const remainingMs = expiration.getTime() - nowMs;
  return Number.isFinite(remainingMs) && remainingMs > MANDATORY_REFRESH_SECONDS * 1000;
}
