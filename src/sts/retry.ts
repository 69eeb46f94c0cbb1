/**
 * Retry policy for the STS exchange, kept pure: which failures may pass if repeated, how long to
 * wait, and when to stop so that retries never outlive the ID token.
 */
import type { HelperError } from '../errors.js';

export interface Backoff {
  readonly baseMs: number;
  readonly capMs: number;
}

/** Network failures and HTTP 5xx: they pass quickly or not at all. */
const TRANSIENT_BACKOFF: Backoff = { baseMs: 200, capMs: 5_000 };
/**
 * Throttling: a fan-out of jobs that all hear "Rate exceeded" must spread over seconds, not
 * milliseconds. The AWS SDKs also wait longer for it (Java v2: 1 s base, JS v3: 500 ms; both cap
 * at 20 s); with the default 5 attempts this spreads the retries over up to 15 s.
 */
const THROTTLING_BACKOFF: Backoff = { baseMs: 1_000, capMs: 20_000 };

/** The error codes AWS services use for "slow down". */
export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
]);

function backoffFor(error: Pick<HelperError, 'code'>): Backoff {
  return THROTTLING_CODES.has(error.code) ? THROTTLING_BACKOFF : TRANSIENT_BACKOFF;
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in [0, min(cap, base·2^n)). */
function backoffDelayMs(retryNumber: number, random: () => number, backoff: Backoff): number {
  return Math.floor(random() * backoffCeilingMs(retryNumber, backoff));
}

function backoffCeilingMs(retryNumber: number, backoff: Backoff): number {
  return Math.min(backoff.capMs, backoff.baseMs * 2 ** retryNumber);
}

export interface RetryDecision {
  readonly retry: boolean;
  readonly delayMs: number;
}

/**
 * @param attempt the attempt that just failed, counted from 1
 * @param deadlineMs epoch milliseconds after which no attempt may start (the token's end of life)
 */
export function decideRetry(
  error: HelperError,
  attempt: number,
  maxAttempts: number,
  nowMs: number,
  deadlineMs: number,
  random: () => number,
): RetryDecision {
  if (!error.retryable || attempt >= maxAttempts) return { retry: false, delayMs: 0 };
  const delayMs = backoffDelayMs(attempt - 1, random, backoffFor(error));
  if (nowMs + delayMs >= deadlineMs) return { retry: false, delayMs: 0 };
  return { retry: true, delayMs };
}

/**
 * The longest an exchange can take with these settings: every attempt running into both the connect
 * and the request time limit, the longest back-off between them, and a margin for loading the SDK
 * and opening a proxy tunnel. Another process waiting for this exchange's result (the cache lock)
 * must wait at least this long, or it gives up while the exchange still runs and calls STS itself.
 */
export function longestExchangeMs(maxAttempts: number, timeoutMs: number): number {
  const MARGIN_MS = 10_000;
  let backoffMs = 0;
  for (let retry = 0; retry < maxAttempts - 1; retry++)
    backoffMs += backoffCeilingMs(retry, THROTTLING_BACKOFF);
  return maxAttempts * 2 * timeoutMs + backoffMs + MARGIN_MS;
}
