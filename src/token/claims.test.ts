import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenError } from '../errors.js';
import { assertTokenUsable, decodeTokenClaims } from './claims.js';

function jwt(payload: unknown, header: unknown = { alg: 'RS256', typ: 'JWT' }): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode(header)}.${encode(payload)}.c2lnbmF0dXJl`;
}

describe('decodeTokenClaims', () => {
  it('reads GitLab claims', () => {
    const claims = decodeTokenClaims(
      jwt({
        iss: 'https://gitlab.com',
        sub: 'project_path:a/b:ref_type:branch:ref:main',
        aud: ['x', 'y'],
        exp: 10,
      }),
      'T',
    );
    expect(claims).toMatchObject({
      iss: 'https://gitlab.com',
      sub: 'project_path:a/b:ref_type:branch:ref:main',
      aud: ['x', 'y'],
      exp: 10,
    });
  });

  it.each([
    ['not-a-token', /3/],
    ['a.b', /2 dot-separated parts/],
    ['a.b.c.d.e', /5 dot-separated parts/],
    ['!!.??.x', /base64url/],
    [`${Buffer.from('[]').toString('base64url')}.${Buffer.from('1').toString('base64url')}.x`, /JSON object/],
  ])('rejects %s as not a JWT, naming the variable', (token, why) => {
    let error: unknown;
    try {
      decodeTokenClaims(token, 'GITLAB_AWS_IDENTITY_TOKEN');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TokenError);
    expect((error as TokenError).message).toMatch(/^GITLAB_AWS_IDENTITY_TOKEN does not hold a JWT/);
    expect((error as TokenError).message).toMatch(why);
    expect((error as TokenError).message).not.toContain(token.length > 12 ? token : '\u0000');
  });

  it('ignores claims of the wrong type instead of trusting them', () => {
    const claims = decodeTokenClaims(jwt({ exp: '10', aud: [1], sub: 5 }), 'T');
    expect(claims.exp).toBeUndefined();
    expect(claims.aud).toBeUndefined();
    expect(claims.sub).toBeUndefined();
  });

  it('never throws anything but a TokenError, whatever the input', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          decodeTokenClaims(text, 'T');
        } catch (error) {
          if (!(error instanceof TokenError)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('assertTokenUsable', () => {
  const claims = { exp: 1_000_000 };
  it('allows the five minutes of clock skew STS allows', () => {
    expect(() => assertTokenUsable(claims, 'T', (1_000_000 + 300) * 1000)).not.toThrow();
  });
  it('fails past the skew with a hint about the job timeout', () => {
    expect(() => assertTokenUsable(claims, 'T', (1_000_000 + 301) * 1000)).toThrow(
      /expired at 1970-01-12T13:46:40.000Z/,
    );
  });
});
