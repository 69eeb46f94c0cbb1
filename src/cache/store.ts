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
 * - stale 15 s: proper-lockfile refreshes a held lock's mtime every stale/2 = 7.5 s, so a live
 *   holder is never taken over however slow STS is; a holder that died (SIGKILL, OOM, runner
 *   cancel) blocks the others for at most 15 s before its lock is taken over.
 * - wait: as long as the holder's exchange may take (the CLI passes `longestExchangeMs` of its
 *   settings; 130 s covers the defaults, 5 attempts of 10 s plus throttling back-off). Past it, a
 *   waiter stops waiting and calls STS itself rather than fail the command.
 * - poll 25 ms doubling to 250 ms, jittered: waiters re-read the entry at every poll and return
 *   as soon as the holder has written it; 20 waiters make at most ~80 cheap reads a second.
 */
import { realpathSync } from 'node:fs';
import { chmod, lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { homedir as osHomedir, tmpdir as osTmpdir, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { AssumedRole } from '../credentials.js';
import type { Environment } from '../environment.js';
import { errnoCode, errorMessage, FileError, isHelperError } from '../errors.js';
import { ensurePrivateDir, readTextFileIfExists, writeSecretFile } from '../platform/files.js';
import { type LockOutcome, lockByPolling } from '../platform/lock.js';
import type { CacheResult, CredentialCache } from './credential-cache.js';
import { openEntry, sealEntry } from './crypto.js';
import { type CachedCredentials, decodeCachedCredentials, encodeCachedCredentials } from './entry.js';
import { DEFAULT_CACHE_REFRESH_WINDOW_SECONDS, isFresh, outlastsMandatoryRefresh } from './freshness.js';
import { type CacheKeyInput, cacheKeyFor } from './key.js';
import { configuredCacheDirectory, fallbackCacheDirectory, resolveCacheLocation } from './location.js';

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
  staleMs: 15_000,
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

export interface ClearCacheOptions {
  readonly log?: ((line: string) => void) | undefined;
}

/** The file name of an entry is `<key>${ENTRY_SUFFIX}`; see {@link cacheFileKind} for the others. */
const ENTRY_SUFFIX = '.json';
const CACHE_FILE_NAME = /^(?:[0-9a-f]{64}\.json(\.lock)?|(\.[0-9a-f]{64}\.json\.[0-9a-f]{12}\.tmp))$/;
/**
 * STS issues at most 12 hours; an entry file older than that plus a margin holds expired
 * credentials whatever they were, and is removed when the cache writes (entries of past CI jobs
 * would otherwise pile up on a shell runner).
 */
const ENTRY_MAX_AGE_MS = (43_200 + 3_600) * 1000;
/** A write takes milliseconds; a temporary file this old was left by a writer that died. */
const ORPHAN_TEMP_AGE_MS = 60_000;

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
    const directory = await prepareDirectory(options, log);
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
    const directory = await prepareDirectory(options, log);
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

/**
 * Removes every cache entry of this user, from the configured directory and from the temp-directory
 * fallback (which of the two a past run used depended on its working directory), plus locks left by
 * processes that died. Returns the number of entries removed. Directories that are symlinks or not
 * ours are left alone.
 */
export async function clearCache(env: Environment, options: ClearCacheOptions = {}): Promise<number> {
  const log = options.log ?? (() => {});
  const directories = new Set([
    configuredCacheDirectory({ env, homedir: safely(osHomedir) }),
    fallbackCacheDirectory({ tmpdir: osTmpdir(), user: currentUser() }),
  ]);
  let removed = 0;
  for (const directory of directories) {
    if (directory === undefined || !(await isOwnDirectory(directory, log))) continue;
    try {
      for (const name of await readdir(directory)) {
        const path = join(directory, name);
        const kind = cacheFileKind(name);
        if (kind === 'entry') {
          if (await removeIfPresent(() => unlink(path))) removed++;
        } else if (kind === 'temp') {
          await removeIfPresent(() => unlink(path));
        } else if (kind === 'lock') {
          // A live holder refreshes its lock every stale/2; an older one belongs to a dead process.
          const stat = await lstat(path).catch(() => undefined);
          if (stat?.isDirectory() && stat.mtimeMs < Date.now() - DEFAULT_CACHE_LOCK_OPTIONS.staleMs) {
            await removeIfPresent(() => rmdir(path));
          }
        }
      }
    } catch (error) {
      throw new FileError({
        code: 'CacheClearFailed',
        message: `cannot clear the credential cache in ${directory}: ${errorMessage(error)}`,
        hint: `remove the directory by hand: rm -r '${directory}'`,
        cause: error,
      });
    }
    log(`cache: cleared ${directory}`);
  }
  return removed;
}

async function removeIfPresent(remove: () => Promise<void>): Promise<boolean> {
  try {
    await remove();
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
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
  await pruneOldFiles(dirname(file), basename(file), log);
}

/**
 * Removes entries too old to hold unexpired credentials, and temporary files of writers that were
 * killed mid-write (they hold an encrypted entry too); best effort.
 */
async function pruneOldFiles(directory: string, keep: string, log: (line: string) => void): Promise<void> {
  try {
    const nowMs = Date.now();
    for (const name of await readdir(directory)) {
      const kind = cacheFileKind(name);
      if (name === keep || (kind !== 'entry' && kind !== 'temp')) continue;
      const maxAgeMs = kind === 'entry' ? ENTRY_MAX_AGE_MS : ORPHAN_TEMP_AGE_MS;
      const path = join(directory, name);
      const stat = await lstat(path).catch(() => undefined);
      if (stat?.isFile() && stat.mtimeMs < nowMs - maxAgeMs) await unlink(path).catch(() => {});
    }
  } catch (error) {
    log(`cache: pruning old entries failed: ${errorMessage(error)}`);
  }
}

/** Resolves and creates the cache directory; undefined when the cache cannot be used this time. */
async function prepareDirectory(
  options: FileCacheOptions,
  log: (line: string) => void,
): Promise<string | undefined> {
  const location = resolveCacheLocation(
    {
      env: options.env,
      // A deleted working directory cannot hold the cache; `/` leaves only the CI_PROJECT_DIR test.
      cwd: options.cwd ?? safely(() => process.cwd()) ?? '/',
      homedir: safely(osHomedir),
      tmpdir: osTmpdir(),
      user: currentUser(),
    },
    canonicalPath,
  );
  if (location.kind === 'disabled') {
    log(`cache: disabled: ${location.reason}`);
    return undefined;
  }
  if (location.fallback) log(`cache: using ${location.path}: ${location.reason}`);
  try {
    await ensurePrivateDir(location.path);
  } catch (error) {
    log(`cache: cannot use ${location.path}: ${errorMessage(error)}; not caching`);
    return undefined;
  }
  return (await isOwnDirectory(location.path, log)) ? location.path : undefined;
}

/** A real directory (not a symlink) owned by this user; anything else is not safe to trust. */
async function isOwnDirectory(path: string, log: (line: string) => void): Promise<boolean> {
  let stat: Awaited<ReturnType<typeof lstat>>;
  try {
    stat = await lstat(path);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') log(`cache: cannot inspect ${path}: ${errorMessage(error)}`);
    return false;
  }
  if (!stat.isDirectory()) {
    log(`cache: ${path} is not a directory (a symlink?); not using it`);
    return false;
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    log(`cache: ${path} belongs to uid ${stat.uid}, not to us (${uid}); not using it`);
    return false;
  }
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    // Ours but open to others (made by hand, or by an old umask): close it rather than trust it.
    try {
      await chmod(path, 0o700);
      log(`cache: ${path} had mode ${(stat.mode & 0o777).toString(8)}; set it to 700`);
    } catch (error) {
      log(`cache: ${path} is open to other users and cannot be closed: ${errorMessage(error)}; not using it`);
      return false;
    }
  }
  return true;
}

function currentUser(): string {
  const uid = process.getuid?.();
  if (uid !== undefined) return String(uid);
  const name = safely(() => userInfo().username);
  // Keep it usable as a single path segment.
  return name === undefined ? 'user' : name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** The path with symlinks in its existing part resolved; the rest appended as given. */
function canonicalPath(path: string): string {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    const resolved = safely(() => realpathSync(current));
    if (resolved !== undefined) return join(resolved, ...missing.reverse());
    const parent = dirname(current);
    if (parent === current) return path;
    missing.push(basename(current));
    current = parent;
  }
}

function fromProduce(assumed: AssumedRole): CacheResult {
  return { credentials: assumed.credentials, assumedRoleArn: assumed.assumedRoleArn, fromCache: false };
}

/**
 * What a name in the cache directory is: an entry `<key>.json`, its lock `<key>.json.lock`
 * (proper-lockfile's directory), or a temporary file `.<key>.json.<12 hex>.tmp` (writeSecretFile's
 * naming); anything else is not ours and is left alone.
 */
function cacheFileKind(name: string): 'entry' | 'lock' | 'temp' | undefined {
  const match = CACHE_FILE_NAME.exec(name);
  if (match === null) return undefined;
  if (match[2] !== undefined) return 'temp';
  return match[1] === undefined ? 'entry' : 'lock';
}

function shortKey(key: string): string {
  return key.slice(0, 12);
}

function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
