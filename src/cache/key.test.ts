import { createHash } from 'node:crypto';
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
  it('is the SHA-256 of the canonical encoding, the same in every release of this format', () => {
    // A change of the encoding must bump KEY_FORMAT, which changes this value.
    expect(cacheKeyFor(TOKEN, INPUT)).toBe(
      createHash('sha256')
        .update(
          JSON.stringify([
            'gitlab-aws-credential-helper/cache-key/v2',
            TOKEN,
            INPUT.roleArn,
            INPUT.roleSessionName,
            INPUT.durationSeconds,
            INPUT.region,
            INPUT.endpoint,
          ]),
        )
        .digest('hex'),
    );
  });

  it.each<[string, string, CacheKeyInput]>([
    ['token', `${TOKEN}x`, INPUT],
    ['role ARN', TOKEN, { ...INPUT, roleArn: 'arn:aws:iam::123456789012:role/other' }],
    ['session name', TOKEN, { ...INPUT, roleSessionName: 'gitlab-demo-4243' }],
    ['duration', TOKEN, { ...INPUT, durationSeconds: 900 }],
    ['region', TOKEN, { ...INPUT, region: 'eu-central-1' }],
    ['endpoint', TOKEN, { ...INPUT, endpoint: 'https://sts.amazonaws.com' }],
  ])('changes with the %s', (_name, token, input) => {
    expect(cacheKeyFor(token, input)).not.toBe(cacheKeyFor(TOKEN, INPUT));
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
