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

  // Values long enough to be secrets: a message must name the variable, never echo them.
  const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  it.each([
    [
      'a value, not a token',
      'glpat-not-a-jwt-but-a-personal-access-token-0123456789',
      /1 dot-separated part/,
    ],
    [
      'two parts',
      `${segment({ alg: 'RS256' })}.${segment({ sub: 'project_path:group/project' })}`,
      /2 dot-separated parts/,
    ],
    [
      'five parts',
      'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl.ZXh0cmE.bW9yZQ',
      /5 dot-separated parts/,
    ],
    ['not base64url', 'eyJhbGciOiJSUzI1NiJ9.!!not+base64/url==.c2lnbmF0dXJlLXNpZ25hdHVyZQ', /base64url/],
    [
      'not objects',
      `${segment(['RS256', 'JWT'])}.${segment(1234567890)}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`,
      /JSON object/,
    ],
  ])('rejects %s as not a JWT, naming the variable and never the value', (_name, token, why) => {
    let error: unknown;
    try {
      decodeTokenClaims(token, 'GITLAB_AWS_IDENTITY_TOKEN');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TokenError);
    const { message, hint } = error as TokenError;
    expect(message).toMatch(/^GITLAB_AWS_IDENTITY_TOKEN does not hold a JWT/);
    expect(message).toMatch(why);
    // Neither the value nor any 8-character piece of it.
    for (const text of [message, hint ?? '']) {
      for (let i = 0; i + 8 <= token.length; i++) expect(text).not.toContain(token.slice(i, i + 8));
    }
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
