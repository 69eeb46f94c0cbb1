/**
 * File writes for files that hold secrets: 0600 files, 0700 directories we create, no following of a
 * symbolic link at the target, a temporary file in the same directory renamed over the target (readers
 * see the old or the new content, never a partial one), and a cross-process lock around
 * read-edit-write so that concurrent jobs writing different profiles do not lose each other's updates.
 *
 * Every failure is a `FileError` naming the path, with a hint; `pathSetting` (the flag or variable the
 * path came from) lets that hint name what the user can change.
 */

import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import {
  chmod,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rename,
  stat,
  unlink,
} from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { errnoCode, FileError, isHelperError } from '../errors.js';
import { firstLine } from '../text.js';
import { lockByPolling } from './lock.js';

export interface SecureWriteOptions {
  /** The flag or environment variable the path came from (e.g. `AWS_SHARED_CREDENTIALS_FILE`), named in hints. */
  readonly pathSetting?: string | undefined;
  /** Diagnostics (--debug): e.g. that a bind-mounted file was written in place. */
  readonly log?: ((line: string) => void) | undefined;
}

export interface UpdateFileOptions extends SecureWriteOptions {
  /**
   * A lock whose holder has not refreshed it for this long is taken over: its holder is presumed dead.
   * Default 10 s; proper-lockfile raises anything below 2 s to 2 s.
   */
  readonly lockStaleMs?: number | undefined;
  /** How long to wait for other writers before failing with `FileLocked`. Default: 30 s or twice `lockStaleMs`. */
  readonly lockWaitMs?: number | undefined;
}

/** What was being done when an error occurred; worded into the message. */
export type FileAction = 'read' | 'write' | 'lock' | 'create directory';

const DEFAULT_STALE_MS = 10_000;
const DEFAULT_WAIT_MS = 30_000;
// Lock polling: start fast (a write takes milliseconds) and back off to 100-200 ms.
const LOCK_POLL_MIN_MS = 10;
const LOCK_POLL_MAX_MS = 200;

// Windows has no O_NOFOLLOW; the lstat checks still apply there.
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;
const TEMP_SUFFIX = /^[0-9a-f]{12}\.tmp$/;

/**
 * Locks `path` against other writers (a `<path>.lock` directory), reads it (`undefined` if absent),
 * and replaces it atomically with `edit(current)`, mode 0600. Missing parent directories are created
 * with mode 0700. Errors thrown by `edit` propagate unchanged, and the file is left as it was.
 *
 * An existing file always ends up 0600, however loose it was: after our write it holds credentials
 * (configure-aws-credentials enforces the same). A file without owner write permission is refused
 * rather than replaced, since a rename would silently override that choice. The file itself must not be
 * a symbolic link; its parent directories may be (a linked `~/.aws` is a common, deliberate setup).
 */
export async function updateFileSecurely(
  path: string,
  edit: (current: string | undefined) => string,
  options: UpdateFileOptions = {},
): Promise<void> {
  const target = resolve(path);
  await ensureParentDirectory(target, options);
  // Fail fast, before waiting for the lock; checked again once we hold it.
  await inspectTarget(target, options);
  const staleMs = Math.max(options.lockStaleMs ?? DEFAULT_STALE_MS, 2000);
  const waitMs = options.lockWaitMs ?? Math.max(DEFAULT_WAIT_MS, 2 * staleMs);
  let lost: Error | undefined;
  let release: () => Promise<void>;
  try {
    const outcome = await lockByPolling<never>(target, {
      staleMs,
      waitMs,
      pollMinMs: LOCK_POLL_MIN_MS,
      pollMaxMs: LOCK_POLL_MAX_MS,
      onCompromised: (error) => {
        lost = error;
      },
    });
    if (outcome.kind === 'timed out') throw outcome.error;
    release = outcome.release;
  } catch (error) {
    throw toFileError(error, target, 'lock', options);
  }
  try {
    const existing = await inspectTarget(target, options);
    await removeOrphanedTempFiles(target);
    const current = existing === undefined ? undefined : await readExisting(target, options);
    const next = edit(current);
    if (next === current && existing !== undefined && (existing.mode & 0o777) === 0o600) return;
    if (lost !== undefined) throw toFileError(lost, target, 'lock', options);
    await writeAtomically(target, next, existing, options);
  } finally {
    // Releasing fails only if the lock was already lost or removed; the write is done or failed by now.
    await release().catch(() => undefined);
  }
}

/**
 * Atomically writes a file that is wholly ours (e.g. an env file), mode 0600, creating missing parent
 * directories with mode 0700. Same refusals as `updateFileSecurely`; no lock, since nothing of the
 * old content is kept (so do not use it on a file that `updateFileSecurely` also writes).
 */
export async function writeSecretFile(
  path: string,
  content: string,
  options: SecureWriteOptions = {},
): Promise<void> {
  const target = resolve(path);
  await ensureParentDirectory(target, options);
  const existing = await inspectTarget(target, options);
  await writeAtomically(target, content, existing, options);
}

/**
 * Reads a UTF-8 text file (a BOM is kept), or returns `undefined` if it does not exist. Unlike the
 * writers this follows symbolic links: reading through one exposes nothing, and token or config files
 * are often links (Kubernetes projected volumes, dotfile managers).
 */
export async function readTextFileIfExists(path: string): Promise<string | undefined> {
  const target = resolve(path);
  try {
    return await readRegularFile(target, false);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw toFileError(error, target, 'read');
  }
}

/**
 * Creates a directory and its missing parents with mode 0700 (existing directories keep their mode),
 * refusing a path that is a symbolic link or not a directory.
 */
export async function ensurePrivateDir(path: string, options: SecureWriteOptions = {}): Promise<void> {
  const dir = resolve(path);
  let stats = await lstatIfExists(dir, 'create directory', options);
  if (stats === undefined) {
    await makeDirectories(dir, options);
    stats = await lstatIfExists(dir, 'create directory', options);
  }
  if (stats?.isSymbolicLink()) throw await symlinkError(dir, options, 'directory');
  if (stats !== undefined && !stats.isDirectory()) {
    throw notADirectory(dir, options, undefined, 'it is not a directory');
  }
}

/**
 * Turns a Node.js file-system error (or a proper-lockfile one) into a `FileError` whose message names
 * the path and whose hint says what to do. A `HelperError` is returned unchanged.
 */
export function toFileError(
  error: unknown,
  path: string,
  action: FileAction,
  options: SecureWriteOptions = {},
): FileError {
  if (error instanceof FileError) return error;
  if (isHelperError(error)) {
    return new FileError({ code: error.code, message: error.message, hint: error.hint, cause: error });
  }
  const code = errnoCode(error);
  const dir = dirname(path);
  const uid = process.getuid?.();
  const elsewhere = otherwise(options, 'a location you can write to');
  const make = (fileCode: string, reason: string, hint: string, retryable = false) =>
    new FileError({
      code: fileCode,
      message: `Cannot ${action} ${path}: ${reason}${code === undefined ? '' : ` (${code})`}`,
      hint,
      cause: error,
      retryable,
    });
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return action === 'read'
        ? make('FileNotReadable', 'permission denied', `give this user read access to ${path}`)
        : make(
            'FileNotWritable',
            'permission denied',
            // The file is replaced through a temporary file and a lock next to it: the directory must be writable.
            `make ${dir} writable for this user${uid === undefined ? '' : ` (uid ${uid})`}${elsewhere}`,
          );
    case 'EROFS':
      return make(
        'ReadOnlyFileSystem',
        'the file system is read-only',
        `use a path on a writable file system${elsewhere}`,
      );
    case 'ENOSPC':
      return make(
        'DiskFull',
        'no space left on the device',
        `free space on the file system holding ${dir}${elsewhere}`,
      );
    case 'EDQUOT':
      return make(
        'DiskFull',
        'disk quota exceeded',
        `free space within your quota on the file system holding ${dir}${elsewhere}`,
      );
    case 'ENOTDIR':
    case 'EEXIST':
      return notADirectory(path, options, error);
    case 'EISDIR':
      return isADirectory(path, options, error);
    case 'ELOOP':
      return make(
        'SymlinkLoop',
        'too many levels of symbolic links',
        `fix the symbolic links along ${path}${elsewhere}`,
      );
    case 'ENAMETOOLONG':
      return make('PathTooLong', 'the path is too long', `use a shorter path${elsewhere}`);
    case 'ELOCKED':
      return make(
        'FileLocked',
        `another process holds the lock ${path}.lock`,
        `wait for the other writer to finish; if none is running, remove the stale lock directory ${path}.lock`,
        true,
      );
    case 'ECOMPROMISED':
      return make(
        'FileLockLost',
        'the lock was taken over by another process while writing',
        'retry; if it keeps happening, the machine is too busy to refresh the lock in time (raise the lock stale time)',
        true,
      );
    default:
      return make(
        action === 'read' ? 'FileReadFailed' : 'FileWriteFailed',
        error instanceof Error ? firstLine(error.message) : String(error),
        `retry; if it keeps failing, check the disk and file system holding ${dir}`,
        true,
      );
  }
}

function otherwise(options: SecureWriteOptions, what: string): string {
  return options.pathSetting === undefined
    ? `, or use ${what}`
    : `, or point ${options.pathSetting} at ${what}`;
}

function notADirectory(
  path: string,
  options: SecureWriteOptions,
  cause?: unknown,
  reason?: string,
): FileError {
  return new FileError({
    code: 'NotADirectory',
    message: `Cannot use ${path}: ${reason ?? 'it or one of its parent paths exists but is not a directory'}`,
    hint: `remove or rename whatever is in the way${otherwise(options, 'another location')}`,
    cause,
  });
}

function isADirectory(path: string, options: SecureWriteOptions, cause?: unknown): FileError {
  return new FileError({
    code: 'FileIsDirectory',
    message: `Cannot use ${path}: it is a directory, not a file`,
    hint: `remove the directory or name a file inside it${otherwise(options, 'a file path')}`,
    cause,
  });
}

async function symlinkError(
  path: string,
  options: SecureWriteOptions,
  kind: 'file' | 'directory' = 'file',
): Promise<FileError> {
  const linkTarget = await readlink(path).catch(() => undefined);
  const real =
    linkTarget === undefined
      ? `the real ${kind}`
      : `the real ${kind} (${resolve(dirname(path), linkTarget)})`;
  const fix = options.pathSetting === undefined ? `use ${real}` : `point ${options.pathSetting} at ${real}`;
  return new FileError({
    code: 'FileIsSymlink',
    message: `Refusing to ${kind === 'file' ? 'write' : 'use'} ${path}: it is a symbolic link${linkTarget === undefined ? '' : ` to ${linkTarget}`}`,
    hint: `replace the link with a ${kind === 'file' ? 'regular file' : 'directory'}, or ${fix}`,
  });
}

async function lstatIfExists(
  path: string,
  action: FileAction,
  options: SecureWriteOptions,
): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw toFileError(error, path, action, options);
  }
}

/**
 * Checks what is at the target: nothing (`undefined`), or a regular file we may replace. A symbolic link
 * is refused even if it points to a regular file: a rename would replace the link, and following it
 * would write secrets wherever it points (a dotfiles repository, a path planted in a shared directory).
 */
async function inspectTarget(target: string, options: SecureWriteOptions): Promise<Stats | undefined> {
  const stats = await lstatIfExists(target, 'write', options);
  if (stats === undefined) return undefined;
  if (stats.isSymbolicLink()) throw await symlinkError(target, options);
  if (stats.isDirectory()) throw isADirectory(target, options);
  if (!stats.isFile()) {
    throw new FileError({
      code: 'FileNotRegular',
      message: `Refusing to write ${target}: it is not a regular file (a device, pipe or socket)`,
      hint: `name a regular file${otherwise(options, 'a regular file')}`,
    });
  }
  if ((stats.mode & 0o200) === 0) {
    const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
    throw new FileError({
      code: 'FileNotWritable',
      message: `Refusing to write ${target}: the file is read-only (mode ${mode})`,
      hint: `make it writable (chmod 600 ${target})${otherwise(options, 'another file')}`,
    });
  }
  return stats;
}

/** Creates missing parent directories (0700); an existing parent may be a link to a directory. */
async function ensureParentDirectory(target: string, options: SecureWriteOptions): Promise<void> {
  const dir = dirname(target);
  let stats: Stats | undefined;
  try {
    stats = await stat(dir);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw toFileError(error, dir, 'create directory', options);
  }
  if (stats === undefined) await makeDirectories(dir, options);
  else if (!stats.isDirectory()) throw notADirectory(target, options, undefined, `${dir} is not a directory`);
}

async function makeDirectories(dir: string, options: SecureWriteOptions): Promise<void> {
  let first: string | undefined;
  try {
    first = await mkdir(dir, { recursive: true, mode: 0o700 });
    // The umask may have removed bits the owner needs; set 0700 exactly, on the directories we created only.
    if (first !== undefined) {
      const created = relative(first, dir)
        .split(sep)
        .filter((part) => part !== '');
      let current = first;
      await chmod(current, 0o700);
      for (const part of created) {
        current = join(current, part);
        await chmod(current, 0o700);
      }
    }
  } catch (error) {
    throw toFileError(error, dir, 'create directory', options);
  }
}

async function readExisting(target: string, options: SecureWriteOptions): Promise<string> {
  try {
    return await readRegularFile(target, true);
  } catch (error) {
    // With O_NOFOLLOW, ELOOP means a link replaced the file after we checked it.
    if (errnoCode(error) === 'ELOOP') throw await symlinkError(target, options);
    throw toFileError(error, target, 'read', options);
  }
}

/** Reads a regular file as strict UTF-8 (a BOM is kept), without blocking on a pipe. */
async function readRegularFile(path: string, noFollow: boolean): Promise<string> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | O_NONBLOCK | (noFollow ? O_NOFOLLOW : 0));
    const stats = await handle.stat();
    if (stats.isDirectory()) throw isADirectory(path, {});
    if (!stats.isFile()) {
      throw new FileError({
        code: 'FileNotRegular',
        message: `Cannot read ${path}: it is not a regular file (a device, pipe or socket)`,
        hint: 'name a regular file',
      });
    }
    return decodeUtf8(await handle.readFile(), path);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function decodeUtf8(bytes: Buffer, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    // Rewriting a file with replacement characters would corrupt it; say where the first bad byte is.
    const reencoded = Buffer.from(bytes.toString('utf8'), 'utf8');
    let offset = 0;
    while (offset < bytes.length && bytes[offset] === reencoded[offset]) offset++;
    throw new FileError({
      code: 'FileNotUtf8',
      message: `Cannot read ${path}: it is not valid UTF-8 text (first invalid byte at offset ${offset})`,
      hint: 'the AWS CLI and SDKs read this file as UTF-8: fix or remove the invalid bytes, or convert the file to UTF-8',
      cause: error,
    });
  }
}

/** Temporary files are `.<name>.<12 hex>.tmp` next to the target: same file system, so rename is atomic. */
function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * A writer killed mid-write (SIGKILL, power loss) leaves its temporary file behind. Called with the lock
 * held, so any such file belongs to a writer that is gone; it may hold credentials, so remove it.
 */
async function removeOrphanedTempFiles(target: string): Promise<void> {
  const prefix = `.${basename(target)}.`;
  const names = await readdir(dirname(target)).catch(() => []);
  for (const name of names) {
    if (name.startsWith(prefix) && TEMP_SUFFIX.test(name.slice(prefix.length))) {
      await unlink(join(dirname(target), name)).catch(() => undefined);
    }
  }
}

async function writeAtomically(
  target: string,
  content: string,
  existing: Stats | undefined,
  options: SecureWriteOptions,
): Promise<void> {
  const temp = tempPathFor(target);
  let handle: FileHandle | undefined;
  let renamed = false;
  let unreplaceable: string | undefined;
  try {
    // O_EXCL | O_NOFOLLOW: never open something planted at the temporary name.
    handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o600);
    const owner = await ownerToKeep(target, existing);
    if (owner !== undefined) await handle.chown(owner.uid, owner.gid);
    // The umask applied at creation can only have removed bits; make it exactly 0600.
    await handle.chmod(0o600);
    await handle.writeFile(content, 'utf8');
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
    renamed = true;
    await syncDirectory(dirname(target));
  } catch (error) {
    const code = errnoCode(error);
    // A file bind-mounted over the target (a container's `-v ~/.aws/credentials:…`) is a mount
    // point: rename cannot replace it (EBUSY), nor a file of another file system (EXDEV).
    if (existing === undefined || renamed || (code !== 'EBUSY' && code !== 'EXDEV')) {
      throw toFileError(error, target, 'write', options);
    }
    unreplaceable = code;
  } finally {
    await handle?.close().catch(() => undefined);
    if (!renamed) await unlink(temp).catch(() => undefined);
  }
  if (unreplaceable !== undefined && existing !== undefined) {
    options.log?.(
      `${target} cannot be replaced by a rename (${unreplaceable}: a bind mount or another file system); writing it in place`,
    );
    await writeInPlace(target, content, existing, options);
  }
}

/**
 * Overwrites the very file that was inspected (`existing`): truncate, write, fsync. Readers may see
 * a partial file meanwhile, which a rename would have avoided; writers are kept out by the caller's
 * lock. The file keeps its owner and ends up 0600 like every file written here.
 */
async function writeInPlace(
  target: string,
  content: string,
  existing: Stats,
  options: SecureWriteOptions,
): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(target, constants.O_WRONLY | O_NOFOLLOW | O_NONBLOCK);
    const opened = await handle.stat();
    if (opened.ino !== existing.ino || opened.dev !== existing.dev || !opened.isFile()) {
      throw new FileError({
        code: 'FileReplaced',
        message: `Cannot write ${target}: it was replaced by another file while being written`,
        hint: 'retry; if it keeps happening, another program is replacing the file at the same time',
        retryable: true,
      });
    }
    if ((opened.mode & 0o777) !== 0o600) await handle.chmod(0o600);
    await handle.truncate(0);
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } catch (error) {
    // With O_NOFOLLOW, ELOOP means a link replaced the file after we checked it.
    if (errnoCode(error) === 'ELOOP') throw await symlinkError(target, options);
    throw toFileError(error, target, 'write', options);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * The owner to give the new file: root (e.g. sudo) editing a user's file must not leave that user with
 * a file they cannot read, but only a user who also owns the directory really owns the file. Anyone
 * can create `/tmp/aws.env` first; root's credentials must not become theirs.
 */
async function ownerToKeep(
  target: string,
  existing: Stats | undefined,
): Promise<{ uid: number; gid: number } | undefined> {
  if (existing === undefined || process.getuid?.() !== 0) return undefined;
  if (existing.uid === 0 && existing.gid === process.getgid?.()) return undefined;
  const directory = await stat(dirname(target));
  return directory.uid === existing.uid ? { uid: existing.uid, gid: existing.gid } : undefined;
}

/** Makes the rename durable; not supported everywhere (Windows), where it is skipped. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch {
    // Durability of the rename is best effort; the content itself was synced before it.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
