import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CacheKeyInput, cacheKeyFor } from './key.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6YS9iIn0.c2lnbmF0dXJl';
const INPUT: CacheKeyInput = {
  roleArn: 'arn:aws:iam::123456789012:role/gitlab-demo',
  roleSessionName: 'gitlab-demo-4242',
  durationSeconds: 3600,
  region: 'eu-west-1',
  endpoint: 'https://sts.eu-west-1.amazonaws.com',
};

describe('cacheKeyFor', () => {
  it('is a stable lowercase SHA-256 hex digest', () => {
    const key = cacheKeyFor(TOKEN, INPUT);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKeyFor(TOKEN, { ...INPUT })).toBe(key);
  });

  it.each<[string, string, CacheKeyInput]>([
    ['token', `${TOKEN}x`, INPUT],
    ['role ARN', TOKEN, { ...INPUT, roleArn: 'arn:aws:iam::123456789012:role/other' }],
    ['session name', TOKEN, { ...INPUT, roleSessionName: 'gitlab-demo-4243' }],
    ['duration', TOKEN, { ...INPUT, durationSeconds: 900 }],
    ['region', TOKEN, { ...INPUT, region: 'eu-central-1' }],
    ['endpoint', TOKEN, { ...INPUT, endpoint: 'https://sts.amazonaws.com' }],
    ['inline session policy', TOKEN, { ...INPUT, policy: '{"Version":"2012-10-17","Statement":[]}' }],
    ['managed session policies', TOKEN, { ...INPUT, policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }],
  ])('changes with the %s', (_name, token, input) => {
    expect(cacheKeyFor(token, input)).not.toBe(cacheKeyFor(TOKEN, INPUT));
  });

  it('treats an empty policy list differently from none, and ignores policy ARN order', () => {
    const a = 'arn:aws:iam::aws:policy/A';
    const b = 'arn:aws:iam::aws:policy/B';
    expect(cacheKeyFor(TOKEN, { ...INPUT, policyArns: [] })).not.toBe(cacheKeyFor(TOKEN, INPUT));
    expect(cacheKeyFor(TOKEN, { ...INPUT, policyArns: [a, b] })).toBe(
      cacheKeyFor(TOKEN, { ...INPUT, policyArns: [b, a] }),
    );
  });

  it('ignores fields that do not decide the credentials', () => {
    const withExtras = { ...INPUT, webIdentityToken: 'ignored', token: { sub: 'x' } };
    expect(cacheKeyFor(TOKEN, withExtras)).toBe(cacheKeyFor(TOKEN, INPUT));
  });

  it('never contains the token, and moving text between fields changes it', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (token, left, right) => {
        const key = cacheKeyFor(token, { ...INPUT, roleArn: left, roleSessionName: right });
        if (token.length >= 8) expect(key.includes(token)).toBe(false);
        // A separator-joined encoding would collide here ("a|" + "b" vs "a" + "|b").
        const shifted = cacheKeyFor(token, { ...INPUT, roleArn: `${left}|`, roleSessionName: right });
        const shiftedBack = cacheKeyFor(token, { ...INPUT, roleArn: left, roleSessionName: `|${right}` });
        expect(shifted).not.toBe(shiftedBack);
      }),
    );
  });
});
