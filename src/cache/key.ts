/**
 * The cache key: a SHA-256 over everything that decides which credentials STS would hand out, so
 * two requests share an entry only when they would have received interchangeable credentials.
 */
import { createHash } from 'node:crypto';

/** What determines the credentials, besides the token. */
export interface CacheKeyInput {
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly durationSeconds: number;
  readonly region: string;
  readonly endpoint: string;
}

/**
 * Bumped whenever the encoding below changes, so old entries simply stop matching instead of being
 * read under a different meaning.
 */
const KEY_FORMAT = 'gitlab-aws-credential-helper/cache-key/v2';

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
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
