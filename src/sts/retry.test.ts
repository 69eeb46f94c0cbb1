import { describe, expect, it } from 'vitest';
import { HelperError } from '../errors.js';
import { decideRetry, longestExchangeMs } from './retry.js';

const throttled = new HelperError('sts', { code: 'Throttling', message: 'Rate exceeded', retryable: true });
const unavailable = new HelperError('sts', { code: 'ServiceUnavailable', message: 'm', retryable: true });
const permanent = new HelperError('sts', { code: 'AccessDenied', message: 'm' });
const almostOne = () => 1 - Number.EPSILON;

describe('retry policy', () => {
  it('uses full jitter under an exponential ceiling with a cap', () => {
    const delay = (error: HelperError, attempt: number, random: () => number) =>
      decideRetry(error, attempt, 100, 0, Number.POSITIVE_INFINITY, random).delayMs;
    expect(delay(unavailable, 1, almostOne)).toBe(199);
    expect(delay(unavailable, 4, () => 0.5)).toBe(800);
    expect(delay(unavailable, 21, almostOne)).toBe(4999);
    expect(delay(throttled, 21, almostOne)).toBe(19_999);
    expect(delay(throttled, 5, () => 0)).toBe(0);
  });

  it('retries only what can pass, within attempts and before the deadline', () => {
    expect(decideRetry(permanent, 1, 5, 0, 1e9, () => 0.5).retry).toBe(false);
    expect(decideRetry(unavailable, 1, 5, 0, 1e9, () => 0.5)).toEqual({ retry: true, delayMs: 100 });
    expect(decideRetry(throttled, 5, 5, 0, 1e9, () => 0.5).retry).toBe(false);
    expect(decideRetry(throttled, 2, 5, 1000, 1100, () => 0.5).retry).toBe(false);
  });

  it('spreads throttled retries over seconds, longer than other transient failures', () => {
    const total = (error: HelperError) => {
      let sum = 0;
      for (let attempt = 1; attempt < 5; attempt++)
        sum += decideRetry(error, attempt, 5, 0, 1e12, almostOne).delayMs;
      return sum;
    };
    // With the default 5 attempts: up to 1 + 2 + 4 + 8 s for throttling, 0.2 + 0.4 + 0.8 + 1.6 s otherwise.
    expect(total(throttled)).toBe(14_996);
    expect(total(unavailable)).toBe(2_996);
    expect(decideRetry(throttled, 4, 5, 0, 1e12, almostOne).delayMs).toBeGreaterThan(
      decideRetry(unavailable, 4, 5, 0, 1e12, almostOne).delayMs * 4,
    );
    // Still bounded by the token's end of life.
    expect(decideRetry(throttled, 4, 5, 0, 5_000, almostOne).retry).toBe(false);
  });

  it('tells how long another process must wait for an exchange with the same settings', () => {
    // The holder's worst case, played through the policy itself: every attempt hits both time
    // limits (connect and request) and every back-off is the longest one.
    for (let maxAttempts = 1; maxAttempts <= 10; maxAttempts++) {
      for (const timeoutMs of [1_000, 10_000, 300_000]) {
        let elapsed = 0;
        for (let attempt = 1; ; attempt++) {
          elapsed += 2 * timeoutMs;
          const decision = decideRetry(
            throttled,
            attempt,
            maxAttempts,
            elapsed,
            Number.POSITIVE_INFINITY,
            almostOne,
          );
          if (!decision.retry) break;
          elapsed += decision.delayMs;
        }
        expect(longestExchangeMs(maxAttempts, timeoutMs), `${maxAttempts} × ${timeoutMs} ms`).toBeGreaterThan(
          elapsed,
        );
      }
    }
    // The defaults (5 attempts of 10 s): longer than the cache lock's former fixed 90 s.
    expect(longestExchangeMs(5, 10_000)).toBeGreaterThan(90_000);
  });
});
