/**
 * Retry policy for the STS exchange, kept pure: which failures may pass if repeated, how long to
 * wait, and when to stop so that retries never outlive the ID token.
 */
import type { HelperError } from '../errors.js';

export const BACKOFF_BASE_MS = 200;
export const BACKOFF_CAP_MS = 5_000;

/** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in [0, min(cap, base·2^n)). */
export function backoffDelayMs(retryNumber: number, random: () => number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retryNumber);
  return Math.floor(random() * ceiling);
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
  const delayMs = backoffDelayMs(attempt - 1, random);
  if (nowMs + delayMs >= deadlineMs) return { retry: false, delayMs: 0 };
  return { retry: true, delayMs };
}
