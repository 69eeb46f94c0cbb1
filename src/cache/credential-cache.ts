/** What the core asks of a credential cache; src/cache/store.ts is the file-backed one. */
import type { AssumedRole, AwsCredentials } from '../credentials.js';
import type { CacheKeyInput } from './key.js';

export interface CacheResult {
  readonly credentials: AwsCredentials;
  /** The assumed-role ARN, when the cache or STS knew it. */
  readonly assumedRoleArn: string | undefined;
  readonly fromCache: boolean;
}

/** A store of credentials between processes. */
export interface CredentialCache {
  /**
   * Runs `produce` unless a fresh entry exists; concurrent callers for one key share one run.
   * With `reuse: false` it always runs `produce` and stores the result for later callers.
   */
  getOrCreate(
    token: string,
    request: CacheKeyInput,
    produce: () => Promise<AssumedRole>,
    options?: { readonly reuse?: boolean },
  ): Promise<CacheResult>;
}
