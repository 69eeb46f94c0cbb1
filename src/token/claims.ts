/**
 * Reads the claims of a GitLab ID token without verifying it: STS verifies the signature; we only
 * need the claims to explain failures (sub, aud, iss) and to know how long the token lives.
 */
import { TokenError, type TokenSummary } from '../errors.js';
import { isRecord } from '../json.js';

export interface TokenClaims extends TokenSummary {
  readonly iss?: string | undefined;
  readonly sub?: string | undefined;
  readonly aud?: string | readonly string[] | undefined;
  readonly exp?: number | undefined;
  readonly nbf?: number | undefined;
  readonly iat?: number | undefined;
  readonly project_path?: string | undefined;
  readonly pipeline_id?: string | undefined;
  readonly ref?: string | undefined;
  readonly [claim: string]: unknown;
}

function notAJwt(source: string, why: string): TokenError {
  const fromFile = source.startsWith('token file ');
  return new TokenError({
    code: 'MalformedToken',
    message: `${source} does not hold a JWT (${why})`,
    hint: fromFile
      ? 'write the job’s ID token (the value of its id_tokens: variable) into the file, or read the variable directly with -j'
      : `${source} must be an \`id_tokens:\` variable of the job; check that -j/--web-identity-token-name names the variable, not its value`,
  });
}

function decodeSegment(segment: string): unknown {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) throw new Error('not base64url');
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** @param source where the token came from (variable or file), named in errors. */
export function decodeTokenClaims(token: string, source: string): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) return fail(notAJwt(source, `${parts.length} dot-separated parts instead of 3`));
  const [headerPart, payloadPart] = parts;
  let header: unknown;
  let payload: unknown;
  try {
    header = decodeSegment(headerPart ?? '');
    payload = decodeSegment(payloadPart ?? '');
  } catch {
    return fail(notAJwt(source, 'its header or payload is not base64url-encoded JSON'));
  }
  if (!isRecord(header) || !isRecord(payload))
    return fail(notAJwt(source, 'its header or payload is not a JSON object'));
  const aud = payload.aud;
  return {
    ...payload,
    iss: optionalString(payload.iss),
    sub: optionalString(payload.sub),
    aud:
      typeof aud === 'string' || (Array.isArray(aud) && aud.every((item) => typeof item === 'string'))
        ? aud
        : undefined,
    exp: optionalNumber(payload.exp),
    nbf: optionalNumber(payload.nbf),
    iat: optionalNumber(payload.iat),
  };
}

function fail(error: TokenError): never {
  throw error;
}

/** The claims that may be shown to a user when something fails; never the token itself. */
export function summarizeClaims(claims: TokenClaims): TokenSummary {
  return { iss: claims.iss, sub: claims.sub, aud: claims.aud, exp: claims.exp };
}

/** STS tolerates this much clock skew on `exp` (IAM OIDC documentation). */
export const TOKEN_CLOCK_SKEW_SECONDS = 300;

/**
 * Fails before any network call when STS would certainly refuse the token as expired, with a
 * message that says what to do about it.
 */
export function assertTokenUsable(claims: TokenClaims, source: string, nowMs: number): void {
  if (claims.exp === undefined) return;
  const nowSeconds = Math.floor(nowMs / 1000);
  if (nowSeconds > claims.exp + TOKEN_CLOCK_SKEW_SECONDS) {
    throw new TokenError({
      code: 'ExpiredToken',
      message: `the ID token in ${source} expired at ${new Date(claims.exp * 1000).toISOString()}`,
      hint: 'GitLab ID tokens live as long as the job timeout: fetch credentials early in the job (aws-profile or env), or raise the job timeout',
      token: summarizeClaims(claims),
    });
  }
}
