/**
 * The cache key: a SHA-256 over everything that decides which credentials STS would hand out, so
 * two requests share an entry only when they would have received interchangeable credentials.
 */
import { createHash } from 'node:crypto';
import type { WebIdentityExchange } from '../sts/exchange.js';

/** What determines the credentials. Session policies are optional so they can join the request later. */
export interface CacheKeyInput
  extends Pick<
    WebIdentityExchange,
    'roleArn' | 'roleSessionName' | 'durationSeconds' | 'region' | 'endpoint'
  > {
  /** An inline session policy (JSON text), when the request carries one. */
  readonly policy?: string | undefined;
  /** Managed session policy ARNs, when the request carries them; their order does not matter to STS. */
  readonly policyArns?: readonly string[] | undefined;
}

/**
 * Bumped whenever the encoding below changes, so old entries simply stop matching instead of being
 * read under a different meaning.
 */
const KEY_FORMAT = 'gitlab-aws-credential-helper/cache-key/v1';

/**
 * Returns the lowercase hex SHA-256 of a canonical encoding of the token and the request. The token
 * only enters the hash: the key (and the file named after it) reveals nothing about it.
 */
export function cacheKeyFor(token: string, input: CacheKeyInput): string {
  // A JSON array with a fixed field order is unambiguous: strings are quoted and escaped, so no
  // choice of values can make two different inputs encode alike (unlike joining with a separator).
  const canonical = JSON.stringify([
    KEY_FORMAT,
    token,
    input.roleArn,
    input.roleSessionName,
    input.durationSeconds,
    input.region,
    input.endpoint,
    input.policy ?? null,
    input.policyArns === undefined ? null : [...input.policyArns].sort(),
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
