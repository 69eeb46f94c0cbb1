import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADVISORY_REFRESH_SECONDS, effectiveRefreshWindowSeconds, isFresh } from './freshness.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const expiresIn = (seconds: number): Date => new Date(NOW + seconds * 1000);

describe('effectiveRefreshWindowSeconds', () => {
  it.each<[number, number | undefined, number]>([
    // window, lifetime, effective
    [1200, 3600, 1200],
    [1200, 2400, 1200],
    [1200, 2000, 1000],
    [1200, 900, 450],
    [1200, 43200, 1200],
    [0, 900, 0],
    [3600, 3600, 1800],
    [1200, undefined, 1200],
    [1200, 0, 1200],
    [1200, Number.NaN, 1200],
    [-5, 3600, 0],
  ])('window %d s, lifetime %s s → %d s', (window, lifetime, expected) => {
    expect(effectiveRefreshWindowSeconds(window, lifetime)).toBe(expected);
  });

  it('by default never hands out a set the AWS CLI would refresh at once (sessions of 40 min or more)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2400, max: 43200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (lifetime, used) => {
          const left = lifetime * (1 - used);
          if (isFresh(expiresIn(left), NOW, undefined, lifetime)) {
            expect(left).toBeGreaterThan(ADVISORY_REFRESH_SECONDS);
          }
        },
      ),
    );
    // And it does serve them for most of their life.
    expect(isFresh(expiresIn(ADVISORY_REFRESH_SECONDS * 2), NOW, undefined, 3600)).toBe(true);
  });
});

describe('isFresh', () => {
  it.each<[string, number, number, number | undefined, boolean]>([
    // case, seconds left, window, lifetime, fresh
    ['a new 1 h set', 3600, 1200, 3600, true],
    ['just over the window', 1200.001, 1200, 3600, true],
    ['exactly the window left', 1200, 1200, 3600, false],
    ['inside the window', 1199, 1200, 3600, false],
    ['1 ms left, window 0', 0.001, 0, 3600, true],
    ['expiring now, window 0', 0, 0, 3600, false],
    ['expired, window 0', -1, 0, 3600, false],
    ['expired, lifetime unknown', -1, 1200, undefined, false],
    ['a new 900 s set under the 1200 s window', 900, 1200, 900, true],
    ['900 s set, just over half left', 450.001, 1200, 900, true],
    ['900 s set, exactly half left', 450, 1200, 900, false],
    ['900 s set, under half left', 300, 1200, 900, false],
    ['900 s set, lifetime unknown: whole window applies', 900, 1200, undefined, false],
    ['12 h set, window applies unchanged', 1201, 1200, 43200, true],
    ['12 h set, inside the window', 1199, 1200, 43200, false],
  ])('%s', (_case, secondsLeft, window, lifetime, fresh) => {
    expect(isFresh(expiresIn(secondsLeft), NOW, window, lifetime)).toBe(fresh);
  });

  it('uses the default window when none is given', () => {
    expect(isFresh(expiresIn(1201), NOW)).toBe(true);
    expect(isFresh(expiresIn(1200), NOW)).toBe(false);
  });

  it('never calls an invalid date or clock fresh', () => {
    expect(isFresh(new Date(Number.NaN), NOW, 0, 3600)).toBe(false);
    expect(isFresh(expiresIn(3600), Number.NaN, 0, 3600)).toBe(false);
  });

  it('keeps a 900 s set cached for its first half under the default window', () => {
    const issued = NOW;
    const expiration = new Date(issued + 900_000);
    const usable = [0, 100, 449].map((elapsed) => isFresh(expiration, issued + elapsed * 1000, 1200, 900));
    const refreshed = [450, 600, 900, 1000].map((elapsed) =>
      isFresh(expiration, issued + elapsed * 1000, 1200, 900),
    );
    expect(usable).toEqual([true, true, true]);
    expect(refreshed).toEqual([false, false, false, false]);
  });
});
