/**
 * The file-backed credential cache shared by every process of one user: one encrypted file per
 * cache key in a private directory, a cross-process lock per key so that many `aws` commands
 * started at once cause one STS call, and a single flight per key inside one process.
 *
 * The cache may speed things up but must never break them: a missing, corrupt, foreign or
 * undecryptable entry is a miss, and a directory we cannot use (a symlink, not ours, not writable)
 * only means the credentials come straight from STS. Such cases are reported through `log`, which
 * the CLI shows with --debug. Errors of `produce` (STS) are the caller's and pass through unchanged.
 *
 * Lock parameters, and why:
 * - stale: see CACHE_LOCK_STALE_MS.
 * - wait: as long as the holder's exchange may take (the CLI passes `longestExchangeMs` of its
 *   settings; 130 s covers the defaults, 5 attempts of 10 s plus throttling back-off). Past it, a
 *   waiter stops waiting and calls STS itself rather than fail the command.
 * - poll 25 ms doubling to 250 ms, jittered: waiters re-read the entry at every poll and return
 *   as soon as the holder has written it; 20 waiters make at most ~80 cheap reads a second.
 */
import { basename, dirname, join } from 'node:path';
import type { AssumedRole } from '../credentials.js';
import type { Environment } from '../environment.js';
import { errorMessage, isHelperError } from '../errors.js';
import { readTextFileIfExists, writeSecretFile } from '../platform/files.js';
import { type LockOutcome, lockByPolling } from '../platform/lock.js';
import type { CacheResult, CredentialCache } from './credential-cache.js';
import { openEntry, sealEntry } from './crypto.js';
import {
  CACHE_LOCK_STALE_MS,
  ENTRY_SUFFIX,
  prepareCacheDirectory,
  pruneCacheDirectory,
} from './directory.js';
import { type CachedCredentials, decodeCachedCredentials, encodeCachedCredentials } from './entry.js';
import { DEFAULT_CACHE_REFRESH_WINDOW_SECONDS, isFresh, outlastsMandatoryRefresh } from './freshness.js';
import { type CacheKeyInput, cacheKeyFor } from './key.js';

export interface CacheLockOptions {
  /** A lock not refreshed by its holder for this long is taken over (its holder died). Minimum 2000. */
  readonly staleMs?: number | undefined;
  /** How long to wait for another process's exchange before making our own. */
  readonly waitMs?: number | undefined;
  /** First and largest pause between two looks at the lock and the entry. */
  readonly pollMinMs?: number | undefined;
  readonly pollMaxMs?: number | undefined;
}

type LockSettings = { readonly [K in keyof CacheLockOptions]-?: number };

const DEFAULT_CACHE_LOCK_OPTIONS = {
  staleMs: CACHE_LOCK_STALE_MS,
  waitMs: 130_000,
  pollMinMs: 25,
  pollMaxMs: 250,
} as const satisfies LockSettings;

export interface FileCacheOptions {
  readonly env: Environment;
  /** Clock for freshness decisions (epoch ms). */
  readonly now?: (() => number) | undefined;
  /** Diagnostics; never given secrets. */
  readonly log?: ((line: string) => void) | undefined;
  /** One-line warnings the user must see (cached credentials handed out while STS fails). */
  readonly warn?: ((line: string) => void) | undefined;
  /** Seconds of life a cached set must still have; see src/cache/freshness.ts. */
  readonly refreshWindowSeconds?: number | undefined;
  /** Defaults: see the module doc; tests shorten them. */
  readonly lockOptions?: CacheLockOptions | undefined;
  /** The working directory, which the cache must not be inside; defaults to process.cwd(). */
  readonly cwd?: string | undefined;
}

/** Creates the file cache. Nothing touches the disk before the first `getOrCreate`. */
export function createFileCache(options: FileCacheOptions): CredentialCache {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const warn = options.warn ?? (() => {});
  const refreshWindowSeconds = options.refreshWindowSeconds ?? DEFAULT_CACHE_REFRESH_WINDOW_SECONDS;
  const given = options.lockOptions ?? {};
  const lock: LockSettings = {
    staleMs: given.staleMs ?? DEFAULT_CACHE_LOCK_OPTIONS.staleMs,
    waitMs: given.waitMs ?? DEFAULT_CACHE_LOCK_OPTIONS.waitMs,
    pollMinMs: given.pollMinMs ?? DEFAULT_CACHE_LOCK_OPTIONS.pollMinMs,
    pollMaxMs: given.pollMaxMs ?? DEFAULT_CACHE_LOCK_OPTIONS.pollMaxMs,
  };
  const inFlight = new Map<string, Promise<CacheResult>>();

  /**
   * Reads the entry; `quiet` keeps a waiter's repeated looks from repeating the same miss reason.
   * An entry due for a refresh that still outlasts the mandatory margin goes to `reserve`.
   */
  const readFresh = async (
    file: string,
    token: string,
    key: string,
    lifetimeSeconds: number,
    reserve: (cached: CachedCredentials) => void,
    quiet = false,
  ): Promise<CacheResult | undefined> => {
    const miss = (line: string): undefined => {
      if (!quiet) log(line);
      return undefined;
    };
    let text: string | undefined;
    try {
      text = await readTextFileIfExists(file);
    } catch (error) {
      return miss(`cache: cannot read ${file}: ${errorMessage(error)}; treating it as a miss`);
    }
    if (text === undefined) return undefined;
    const plaintext = openEntry(token, key, text);
    const cached = plaintext === undefined ? undefined : decodeCachedCredentials(plaintext);
    if (cached === undefined) {
      return miss(`cache: entry ${shortKey(key)} is corrupt, foreign or of another token; replacing it`);
    }
    const expires = cached.credentials.expiration.toISOString();
    if (!isFresh(cached.credentials.expiration, now(), refreshWindowSeconds, lifetimeSeconds)) {
      if (outlastsMandatoryRefresh(cached.credentials.expiration, now())) reserve(cached);
      return miss(`cache: entry ${shortKey(key)} expires ${expires}, within the refresh window; refreshing`);
    }
    log(`cache: hit ${shortKey(key)}, expires ${expires}`);
    return { credentials: cached.credentials, assumedRoleArn: cached.assumedRoleArn, fromCache: true };
  };

  /**
   * A refresh that failed for a passing reason (throttling, 5xx, network) still leaves a set that
   * every client accepts for a while: hand that out, with a warning, rather than fail a command that
   * did not really need STS.
   */
  const keepDuringOutage = (
    error: unknown,
    reserved: CachedCredentials | undefined,
  ): CacheResult | undefined => {
    if (reserved === undefined || !isHelperError(error) || !error.retryable) return undefined;
    const { expiration } = reserved.credentials;
    if (!outlastsMandatoryRefresh(expiration, now())) return undefined;
    const minutes = Math.floor((expiration.getTime() - now()) / 60_000);
    warn(
      `warning: STS failed (${error.code}), so these are the cached credentials, which expire at ${expiration.toISOString()} (in ${minutes} minutes); the next call tries STS again`,
    );
    return { credentials: reserved.credentials, assumedRoleArn: reserved.assumedRoleArn, fromCache: true };
  };

  const run = async (
    token: string,
    request: CacheKeyInput,
    key: string,
    produce: () => Promise<AssumedRole>,
  ): Promise<CacheResult> => {
    const directory = await prepareCacheDirectory(options, log);
    if (directory === undefined) return fromProduce(await produce());

    const file = join(directory, `${key}${ENTRY_SUFFIX}`);
    const lifetime = request.durationSeconds;
    let reserved: CachedCredentials | undefined;
    const look = (quiet: boolean) =>
      readFresh(
        file,
        token,
        key,
        lifetime,
        (cached) => {
          reserved = cached;
        },
        quiet,
      );
    const hit = await look(false);
    if (hit !== undefined) return hit;

    const acquired = await acquireLock(file, key, lock, log, () => look(true));
    if (acquired.kind === 'hit') return acquired.result;
    const release = acquired.kind === 'locked' ? acquired.release : undefined;
    try {
      if (release !== undefined) {
        // Another process may have written the entry between our read and our lock.
        const written = await look(true);
        if (written !== undefined) return written;
      }
      let assumed: AssumedRole;
      try {
        assumed = await produce();
      } catch (error) {
        const kept = keepDuringOutage(error, reserved);
        if (kept === undefined) throw error;
        return kept;
      }
      await writeEntry(file, token, key, assumed, log);
      return fromProduce(assumed);
    } finally {
      if (release !== undefined) {
        await release().catch((error: unknown) =>
          log(`cache: releasing the lock failed: ${errorMessage(error)}`),
        );
      }
    }
  };

  /** A static hand-over gets a new set; it still seeds the cache for later `process` calls. */
  const refresh = async (
    token: string,
    key: string,
    produce: () => Promise<AssumedRole>,
  ): Promise<CacheResult> => {
    const directory = await prepareCacheDirectory(options, log);
    const assumed = await produce();
    if (directory !== undefined)
      await writeEntry(join(directory, `${key}${ENTRY_SUFFIX}`), token, key, assumed, log);
    return fromProduce(assumed);
  };

  return {
    getOrCreate(token, request, produce, getOptions) {
      const key = cacheKeyFor(token, request);
      if (getOptions?.reuse === false) return refresh(token, key, produce);
      const pending = inFlight.get(key);
      if (pending !== undefined) return pending;
      const started = run(token, request, key, produce).finally(() => inFlight.delete(key));
      inFlight.set(key, started);
      return started;
    },
  };
}

type Acquired =
  | { readonly kind: 'locked'; readonly release: () => Promise<void> }
  | { readonly kind: 'hit'; readonly result: CacheResult }
  | { readonly kind: 'unlocked' };

/**
 * Takes the key's lock; while another process holds it, keeps re-reading the entry so a waiter
 * returns the moment the holder has written it. Gives up (and proceeds without the lock) after
 * `waitMs` or on any error other than "held": the cache must not make the command fail.
 */
async function acquireLock(
  file: string,
  key: string,
  options: LockSettings,
  log: (line: string) => void,
  recheck: () => Promise<CacheResult | undefined>,
): Promise<Acquired> {
  let waited = false;
  let outcome: LockOutcome<CacheResult>;
  try {
    // The entry file need not exist yet; its path is ours already (the directory was checked).
    outcome = await lockByPolling(file, {
      ...options,
      onCompromised: (error) => {
        // Losing the lock only means another process may also call STS; writes are atomic, so the
        // entry stays whole.
        log(`cache: lock for ${shortKey(key)} was lost (${errorMessage(error)}); continuing`);
      },
      whileHeld: () => {
        if (!waited) log(`cache: another process is fetching ${shortKey(key)}; waiting for it`);
        waited = true;
        return recheck();
      },
    });
  } catch (error) {
    log(`cache: cannot lock ${file}: ${errorMessage(error)}; calling STS without the lock`);
    return { kind: 'unlocked' };
  }
  switch (outcome.kind) {
    case 'locked':
      if (waited) log(`cache: took the lock for ${shortKey(key)} after waiting`);
      return outcome;
    case 'settled':
      return { kind: 'hit', result: outcome.value };
    case 'timed out':
      log(`cache: waited ${options.waitMs} ms for ${shortKey(key)}; calling STS without the lock`);
      return { kind: 'unlocked' };
  }
}

async function writeEntry(
  file: string,
  token: string,
  key: string,
  assumed: AssumedRole,
  log: (line: string) => void,
): Promise<void> {
  const plaintext = encodeCachedCredentials({
    credentials: assumed.credentials,
    assumedRoleArn: assumed.assumedRoleArn,
  });
  try {
    await writeSecretFile(file, sealEntry(token, key, plaintext));
    log(`cache: stored ${shortKey(key)}, expires ${assumed.credentials.expiration.toISOString()}`);
  } catch (error) {
    log(`cache: cannot write ${file}: ${errorMessage(error)}; continuing without caching`);
    return;
  }
  await pruneCacheDirectory(dirname(file), basename(file), log);
}

function fromProduce(assumed: AssumedRole): CacheResult {
  return { credentials: assumed.credentials, assumedRoleArn: assumed.assumedRoleArn, fromCache: false };
}

function shortKey(key: string): string {
  return key.slice(0, 12);
}
