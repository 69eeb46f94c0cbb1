/**
 * The cache's directory: where it is (see location.ts), whether it is safe to use (a real directory,
 * ours, closed to others), what the names in it are, and keeping it small (pruning) or empty
 * (`cache clear`). Entries themselves are read and written by store.ts.
 */
import { realpathSync } from 'node:fs';
import { chmod, lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { homedir as osHomedir, tmpdir as osTmpdir, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { MAX_SESSION_DURATION_SECONDS } from '../aws/durations.js';
import type { Environment } from '../environment.js';
import { errnoCode, errorMessage, FileError } from '../errors.js';
import { ensurePrivateDir } from '../platform/files.js';
import { configuredCacheDirectory, fallbackCacheDirectory, resolveCacheLocation } from './location.js';

/**
 * proper-lockfile refreshes a held lock's mtime every stale/2 = 7.5 s, so a live holder is never
 * taken over however slow STS is; a holder that died (SIGKILL, OOM, runner cancel) blocks the others
 * for at most 15 s before its lock is taken over, and `cache clear` removes such locks.
 */
export const CACHE_LOCK_STALE_MS = 15_000;

export interface ClearCacheOptions {
  readonly log?: ((line: string) => void) | undefined;
}

/** The file name of an entry is `<key>${ENTRY_SUFFIX}`; see {@link cacheFileKind} for the others. */
export const ENTRY_SUFFIX = '.json';
const CACHE_FILE_NAME = /^(?:[0-9a-f]{64}\.json(\.lock)?|(\.[0-9a-f]{64}\.json\.[0-9a-f]{12}\.tmp))$/;
/**
 * STS issues at most 12 hours; an entry file older than that plus a margin holds expired
 * credentials whatever they were, and is removed when the cache writes (entries of past CI jobs
 * would otherwise pile up on a shell runner).
 */
const ENTRY_MAX_AGE_MS = (MAX_SESSION_DURATION_SECONDS + 3_600) * 1000;
/** A write takes milliseconds; a temporary file this old was left by a writer that died. */
const ORPHAN_TEMP_AGE_MS = 60_000;

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
          if (stat?.isDirectory() && stat.mtimeMs < Date.now() - CACHE_LOCK_STALE_MS) {
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

/** Resolves and creates the cache directory; undefined when the cache cannot be used this time. */
export async function prepareCacheDirectory(
  options: { readonly env: Environment; readonly cwd?: string | undefined },
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

/**
 * Removes entries too old to hold unexpired credentials, and temporary files of writers that were
 * killed mid-write (they hold an encrypted entry too); best effort.
 */
export async function pruneCacheDirectory(
  directory: string,
  keep: string,
  log: (line: string) => void,
): Promise<void> {
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

function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
