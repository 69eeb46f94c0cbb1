import { describe, expect, it } from 'vitest';
import { HelperError } from '../errors.js';
import { BACKOFF_CAP_MS, backoffDelayMs, decideRetry } from './retry.js';

const transient = new HelperError('sts', { code: 'Throttling', message: 'm', retryable: true });
const permanent = new HelperError('sts', { code: 'AccessDenied', message: 'm' });

describe('retry policy', () => {
  it('uses full jitter under an exponential ceiling with a cap', () => {
    expect(backoffDelayMs(0, () => 0.999)).toBe(199);
    expect(backoffDelayMs(3, () => 0.5)).toBe(800);
    expect(backoffDelayMs(20, () => 0.999)).toBeLessThan(BACKOFF_CAP_MS);
    expect(backoffDelayMs(4, () => 0)).toBe(0);
  });

  it('retries only what can pass, within attempts and before the deadline', () => {
    expect(decideRetry(permanent, 1, 5, 0, 1e9, () => 0.5).retry).toBe(false);
    expect(decideRetry(transient, 1, 5, 0, 1e9, () => 0.5)).toEqual({ retry: true, delayMs: 100 });
    expect(decideRetry(transient, 5, 5, 0, 1e9, () => 0.5).retry).toBe(false);
    expect(decideRetry(transient, 2, 5, 1000, 1100, () => 0.5).retry).toBe(false);
  });
});
