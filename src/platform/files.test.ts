import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSharedConfigFiles } from '@smithy/core/config';
import { build } from 'esbuild';
import { lock } from 'proper-lockfile';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileError } from '../errors.js';
import { setIniSection } from '../output/ini.js';
import {
  ensurePrivateDir,
  readTextFileIfExists,
  toFileError,
  updateFileSecurely,
  writeSecretFile,
} from './files.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const SETTING = { pathSetting: 'AWS_SHARED_CREDENTIALS_FILE' } as const;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gach-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
const leftovers = async (directory: string) =>
  (await readdir(directory)).filter((name) => name.endsWith('.tmp') || name.endsWith('.lock'));

async function caught(promise: Promise<unknown>): Promise<FileError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FileError) return error;
    throw error;
  }
  throw new Error('expected a FileError');
}

describe('updateFileSecurely', () => {
  it('creates the file 0600 and missing parent directories 0700, leaving existing parents alone', async () => {
    await chmod(dir, 0o755);
    const file = join(dir, 'a', 'b', 'credentials');
    const seen: Array<string | undefined> = [];
    await updateFileSecurely(file, (current) => {
      seen.push(current);
      return '[ci]\nk = v\n';
    });
    expect(seen).toEqual([undefined]);
    expect(await readFile(file, 'utf8')).toBe('[ci]\nk = v\n');
    expect(await modeOf(file)).toBe(0o600);
    expect(await modeOf(join(dir, 'a'))).toBe(0o700);
    expect(await modeOf(join(dir, 'a', 'b'))).toBe(0o700);
    expect(await modeOf(dir)).toBe(0o755);
    expect(await leftovers(join(dir, 'a', 'b'))).toEqual([]);
  });

  it('passes the current content to the edit and replaces the file atomically (new inode)', async () => {
    const file = join(dir, 'credentials');
    await writeFile(file, '\uFEFF[a]\r\nx = 1\r\n', { mode: 0o600 });
    const before = await stat(file);
    let seen: string | undefined;
    await updateFileSecurely(file, (current) => {
      seen = current;
      return setIniSection(current ?? '', 'ci', [['aws_access_key_id', 'ASIA1']]);
    });
    expect(seen).toBe('\uFEFF[a]\r\nx = 1\r\n');
    expect(await readFile(file, 'utf8')).toBe(
      '\uFEFF[a]\r\nx = 1\r\n\r\n[ci]\r\naws_access_key_id = ASIA1\r\n',
    );
    expect((await stat(file)).ino).not.toBe(before.ino);
  });

  it('tightens a looser existing file to 0600', async () => {
    // After our write the file holds credentials; 0644 would show them to every local user.
    const file = join(dir, 'credentials');
    await writeFile(file, 'old');
    await chmod(file, 0o644);
    await updateFileSecurely(file, () => 'new');
    expect(await modeOf(file)).toBe(0o600);
    await chmod(file, 0o640);
    await updateFileSecurely(file, (current) => current ?? '');
    expect(await modeOf(file)).toBe(0o600);
  });

  it('does not rewrite a 0600 file whose content does not change', async () => {
    const file = join(dir, 'credentials');
    await writeFile(file, 'same', { mode: 0o600 });
    const before = await stat(file);
    await updateFileSecurely(file, (current) => current ?? '');
    expect((await stat(file)).ino).toBe(before.ino);
  });

  it.skipIf(!isRoot)('keeps the owner of a file that root edits in that owner’s directory', async () => {
    const home = join(dir, 'home');
    await mkdir(home);
    await chown(home, NOBODY, NOBODY);
    const file = join(home, 'credentials');
    await writeFile(file, 'old', { mode: 0o600 });
    await chown(file, NOBODY, NOBODY);
    await updateFileSecurely(file, () => 'new');
    const after = await stat(file);
    expect([after.uid, after.gid, after.mode & 0o777]).toEqual([NOBODY, NOBODY, 0o600]);
    expect(await readFile(file, 'utf8')).toBe('new');
  });

  it.skipIf(!isRoot)(
    'gives root’s secrets to nobody else: a file another user planted in a directory not theirs ends up root’s',
    async () => {
      // /tmp/aws.env created first by another user; root's `env --filename /tmp/aws.env` replaces it.
      const shared = join(dir, 'shared');
      await mkdir(shared, { mode: 0o1777 });
      await chmod(shared, 0o1777);
      for (const [name, write] of [
        ['aws.env', (path: string) => writeSecretFile(path, 'SECRET=1\n')],
        ['credentials', (path: string) => updateFileSecurely(path, () => '[default]\nk = v\n')],
      ] as const) {
        const file = join(shared, name);
        await writeFile(file, '', { mode: 0o666 });
        await chown(file, NOBODY, NOBODY);
        await write(file);
        const after = await stat(file);
        expect([name, after.uid, after.gid, after.mode & 0o777]).toEqual([
          name,
          0,
          process.getgid?.(),
          0o600,
        ]);
        const read = spawnSync('cat', [file], { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
        expect(read.status, name).not.toBe(0);
        expect(read.stdout).toBe('');
      }
    },
  );

  it('refuses a symbolic link, leaving the link and its target byte-identical', async () => {
    const real = join(dir, 'real-credentials');
    const link = join(dir, 'credentials');
    await writeFile(real, '[default]\nk = v\n', { mode: 0o644 });
    await symlink(real, link);
    const error = await caught(updateFileSecurely(link, () => 'hijacked', SETTING));
    expect(error.code).toBe('FileIsSymlink');
    expect(error.message).toBe(`Refusing to write ${link}: it is a symbolic link to ${real}`);
    expect(error.hint).toBe(
      `replace the link with a regular file, or point AWS_SHARED_CREDENTIALS_FILE at the real file (${real})`,
    );
    expect(await readlink(link)).toBe(real);
    expect(await readFile(real, 'utf8')).toBe('[default]\nk = v\n');
    expect(await modeOf(real)).toBe(0o644);
    expect(await leftovers(dir)).toEqual([]);
  });

  it('refuses a dangling symbolic link without creating its target', async () => {
    const link = join(dir, 'credentials');
    await symlink(join(dir, 'nowhere'), link);
    expect((await caught(updateFileSecurely(link, () => 'x'))).code).toBe('FileIsSymlink');
    await expect(lstat(join(dir, 'nowhere'))).rejects.toThrow('ENOENT');
  });

  it('refuses a directory in place of the file', async () => {
    const target = join(dir, 'credentials');
    await mkdir(target);
    await writeFile(join(target, 'inside'), 'keep');
    const error = await caught(updateFileSecurely(target, () => 'x', SETTING));
    expect(error.code).toBe('FileIsDirectory');
    expect(error.message).toContain(target);
    expect(error.hint).toContain('AWS_SHARED_CREDENTIALS_FILE');
    expect(await readFile(join(target, 'inside'), 'utf8')).toBe('keep');
  });

  it('refuses a read-only file instead of replacing it', async () => {
    // A rename ignores the file's own mode (and root ignores modes); a 0400 file is a "do not touch".
    const file = join(dir, 'credentials');
    await writeFile(file, 'keep', { mode: 0o400 });
    const error = await caught(updateFileSecurely(file, () => 'x', SETTING));
    expect(error.code).toBe('FileNotWritable');
    expect(error.message).toBe(`Refusing to write ${file}: the file is read-only (mode 0400)`);
    expect(error.hint).toBe(
      `make it writable (chmod 600 ${file}), or point AWS_SHARED_CREDENTIALS_FILE at another file`,
    );
    expect(await readFile(file, 'utf8')).toBe('keep');
  });

  it('reports a parent path that is a file (ENOTDIR)', async () => {
    const blocker = join(dir, 'aws');
    await writeFile(blocker, 'not a directory');
    const error = await caught(updateFileSecurely(join(blocker, 'sub', 'credentials'), () => 'x', SETTING));
    expect(error.code).toBe('NotADirectory');
    expect(error.message).toContain(join(blocker, 'sub'));
    const direct = await caught(updateFileSecurely(join(blocker, 'credentials'), () => 'x'));
    expect(direct.message).toBe(`Cannot use ${join(blocker, 'credentials')}: ${blocker} is not a directory`);
    expect(await readFile(blocker, 'utf8')).toBe('not a directory');
  });

  it('reports a directory it may not write to (FileNotWritable)', async (context) => {
    const readOnly = join(dir, 'aws');
    await mkdir(readOnly, { mode: 0o755 });
    await writeFile(join(readOnly, 'credentials'), 'keep', { mode: 0o666 });
    const file = join(readOnly, 'credentials');
    let result: { code?: string; message?: string; hint?: string | undefined };
    if (isRoot) {
      // Root writes through any mode bits: run the writer as `nobody` against a root-owned 0755 directory.
      await chmod(dir, 0o755);
      const run = spawnSync(process.execPath, [childScript, 'write', file], {
        uid: NOBODY,
        gid: NOBODY,
        cwd: dirname(childScript),
        encoding: 'utf8',
      });
      if (run.error !== undefined)
        context.skip(`running as root and cannot switch to uid ${NOBODY}: ${run.error.message}`);
      expect(run.stderr).toBe('');
      result = JSON.parse(run.stdout) as typeof result;
    } else {
      await chmod(readOnly, 0o555);
      const error = await caught(updateFileSecurely(file, () => 'x', SETTING));
      result = { code: error.code, message: error.message, hint: error.hint };
      await chmod(readOnly, 0o755);
    }
    expect(result.code).toBe('FileNotWritable');
    expect(result.message).toBe(`Cannot lock ${file}: permission denied (EACCES)`);
    expect(result.hint).toMatch(
      /^make .*\/aws writable for this user \(uid \d+\), or point AWS_SHARED_CREDENTIALS_FILE at/,
    );
    expect(await readFile(file, 'utf8')).toBe('keep');
    expect(await leftovers(readOnly)).toEqual([]);
  });

  it('propagates an error from the edit unchanged, leaving the file and no lock behind', async () => {
    const file = join(dir, 'credentials');
    await writeFile(file, 'keep', { mode: 0o600 });
    const problem = new Error('Invalid INI value');
    await expect(
      updateFileSecurely(file, () => {
        throw problem;
      }),
    ).rejects.toBe(problem);
    expect(await readFile(file, 'utf8')).toBe('keep');
    expect(await leftovers(dir)).toEqual([]);
  });

  it('removes its temporary file when the final rename fails', async () => {
    const file = join(dir, 'credentials');
    await writeFile(file, 'keep', { mode: 0o600 });
    const error = await caught(
      updateFileSecurely(file, () => {
        // Swap a non-empty directory in after the checks: the rename over it must fail.
        rmSync(file);
        mkdirSync(file);
        writeFileSync(join(file, 'inside'), 'x');
        return 'new';
      }),
    );
    expect(error.code).toBe('FileIsDirectory');
    expect(await readdir(dir)).toEqual(['credentials']);
    expect(await readdir(file)).toEqual(['inside']);
  });

  it('waits for the lock and fails with FileLocked when another writer keeps it', async () => {
    const file = join(dir, 'credentials');
    const release = await lock(file, { realpath: false });
    try {
      const started = Date.now();
      const error = await caught(updateFileSecurely(file, () => 'x', { lockWaitMs: 300 }));
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(error.code).toBe('FileLocked');
      expect(error.message).toBe(
        `Cannot lock ${file}: another process holds the lock ${file}.lock (ELOCKED)`,
      );
      expect(error.hint).toContain(`remove the stale lock directory ${file}.lock`);
      expect(error.retryable).toBe(true);
    } finally {
      await release();
    }
    await updateFileSecurely(file, () => 'after release');
    expect(await readFile(file, 'utf8')).toBe('after release');
  });

  it('takes over a stale lock', async () => {
    const file = join(dir, 'credentials');
    await mkdir(`${file}.lock`);
    const longAgo = new Date(Date.now() - 3_600_000);
    await utimes(`${file}.lock`, longAgo, longAgo);
    await updateFileSecurely(file, () => 'recovered');
    expect(await readFile(file, 'utf8')).toBe('recovered');
    expect(await leftovers(dir)).toEqual([]);
  });
});

/** Bind-mounts `source` over `target` (root only); the reason it cannot, or undefined on success. */
function bindMount(source: string, target: string): string | undefined {
  if (!isRoot) return 'a bind mount needs root';
  const result = spawnSync('mount', ['--bind', source, target], { encoding: 'utf8' });
  if (result.error !== undefined) return `mount --bind failed: ${result.error.message}`;
  return result.status === 0 ? undefined : `mount --bind failed: ${result.stderr.trim()}`;
}

describe('a bind-mounted file (as `docker run -v ~/.aws/credentials:…` makes one)', () => {
  let mounted: string | undefined;
  afterEach(() => {
    if (mounted !== undefined) spawnSync('umount', [mounted]);
    mounted = undefined;
  });

  it('is written in place under the lock when a rename cannot replace it (EBUSY), and says so', async (context) => {
    const real = join(dir, 'host-credentials');
    await writeFile(real, '[other]\nk = v\n', { mode: 0o644 });
    await mkdir(join(dir, 'aws'));
    const file = join(dir, 'aws', 'credentials');
    await writeFile(file, '');
    const unavailable = bindMount(real, file);
    if (unavailable !== undefined) context.skip(unavailable);
    mounted = file;
    const lines: string[] = [];
    await updateFileSecurely(file, (current) => setIniSection(current ?? '', 'default', [['k', 'new']]), {
      ...SETTING,
      log: (line) => lines.push(line),
    });
    // The host's file itself changed: same inode, new content, 0600.
    expect(await readFile(real, 'utf8')).toBe('[other]\nk = v\n\n[default]\nk = new\n');
    expect((await stat(real)).ino).toBe((await stat(file)).ino);
    expect(await modeOf(real)).toBe(0o600);
    expect(lines).toEqual([
      `${file} cannot be replaced by a rename (EBUSY: a bind mount or another file system); writing it in place`,
    ]);
    expect(await leftovers(join(dir, 'aws'))).toEqual([]);
    // A shorter content leaves nothing of the longer one behind.
    await updateFileSecurely(file, () => '[a]\nb = c\n');
    expect(await readFile(real, 'utf8')).toBe('[a]\nb = c\n');
    await writeSecretFile(file, 'AWS_ACCESS_KEY_ID=x\n');
    expect(await readFile(real, 'utf8')).toBe('AWS_ACCESS_KEY_ID=x\n');
  });
});

describe('writeSecretFile', () => {
  it('writes a 0600 file in 0700 directories it creates, and replaces it atomically', async () => {
    const file = join(dir, 'out', 'aws.env');
    await writeSecretFile(file, 'AWS_ACCESS_KEY_ID=x\n');
    expect(await readFile(file, 'utf8')).toBe('AWS_ACCESS_KEY_ID=x\n');
    expect(await modeOf(file)).toBe(0o600);
    expect(await modeOf(join(dir, 'out'))).toBe(0o700);
    await chmod(file, 0o644);
    const before = await stat(file);
    await writeSecretFile(file, 'AWS_ACCESS_KEY_ID=y\n');
    expect(await readFile(file, 'utf8')).toBe('AWS_ACCESS_KEY_ID=y\n');
    expect(await modeOf(file)).toBe(0o600);
    expect((await stat(file)).ino).not.toBe(before.ino);
    expect(await leftovers(join(dir, 'out'))).toEqual([]);
  });

  it('refuses a symbolic link and a directory', async () => {
    const real = join(dir, 'real.env');
    await writeFile(real, 'keep');
    await symlink(real, join(dir, 'link.env'));
    const error = await caught(writeSecretFile(join(dir, 'link.env'), 'x', { pathSetting: '--filename' }));
    expect(error.code).toBe('FileIsSymlink');
    expect(error.hint).toBe(
      `replace the link with a regular file, or point --filename at the real file (${real})`,
    );
    expect(await readFile(real, 'utf8')).toBe('keep');
    await mkdir(join(dir, 'dir.env'));
    expect((await caught(writeSecretFile(join(dir, 'dir.env'), 'x'))).code).toBe('FileIsDirectory');
    expect(await leftovers(dir)).toEqual([]);
  });
});

describe('readTextFileIfExists', () => {
  it('returns undefined for a missing file and the exact text otherwise', async () => {
    expect(await readTextFileIfExists(join(dir, 'missing'))).toBeUndefined();
    await writeFile(join(dir, 'f'), '\uFEFF[a]\r\nk = v');
    expect(await readTextFileIfExists(join(dir, 'f'))).toBe('\uFEFF[a]\r\nk = v');
  });

  it('follows a symbolic link', async () => {
    await writeFile(join(dir, 'real'), 'token');
    await symlink(join(dir, 'real'), join(dir, 'link'));
    expect(await readTextFileIfExists(join(dir, 'link'))).toBe('token');
  });

  it('refuses a directory, a path under a file, and bytes that are not UTF-8', async () => {
    expect((await caught(readTextFileIfExists(dir))).code).toBe('FileIsDirectory');
    await writeFile(join(dir, 'f'), 'x');
    expect((await caught(readTextFileIfExists(join(dir, 'f', 'g')))).code).toBe('NotADirectory');
    await writeFile(join(dir, 'latin1'), Buffer.from('[a]\nk = caf\xe9\n', 'latin1'));
    const error = await caught(readTextFileIfExists(join(dir, 'latin1')));
    expect(error.code).toBe('FileNotUtf8');
    expect(error.message).toBe(
      `Cannot read ${join(dir, 'latin1')}: it is not valid UTF-8 text (first invalid byte at offset 11)`,
    );
  });

  const mkfifo = spawnSync('mkfifo', ['--version']).status === 0;
  it.skipIf(!mkfifo)('refuses a named pipe without blocking on it', async () => {
    spawnSync('mkfifo', [join(dir, 'pipe')]);
    expect((await caught(readTextFileIfExists(join(dir, 'pipe')))).code).toBe('FileNotRegular');
    expect((await caught(updateFileSecurely(join(dir, 'pipe'), () => 'x'))).code).toBe('FileNotRegular');
  });
});

describe('ensurePrivateDir', () => {
  it('creates missing directories 0700 and leaves existing ones alone', async () => {
    await chmod(dir, 0o755);
    await ensurePrivateDir(join(dir, 'x', 'y'));
    expect(await modeOf(join(dir, 'x'))).toBe(0o700);
    expect(await modeOf(join(dir, 'x', 'y'))).toBe(0o700);
    await ensurePrivateDir(dir);
    expect(await modeOf(dir)).toBe(0o755);
  });

  it('refuses a symbolic link and a file', async () => {
    await mkdir(join(dir, 'real'));
    await symlink(join(dir, 'real'), join(dir, 'link'));
    const error = await caught(ensurePrivateDir(join(dir, 'link')));
    expect(error.code).toBe('FileIsSymlink');
    expect(error.hint).toBe(
      `replace the link with a directory, or use the real directory (${join(dir, 'real')})`,
    );
    await writeFile(join(dir, 'file'), '');
    expect((await caught(ensurePrivateDir(join(dir, 'file')))).code).toBe('NotADirectory');
  });
});

describe('toFileError', () => {
  const errno = (code: string) => Object.assign(new Error(`${code}: failed`), { code });
  it.each([
    ['ENOSPC', 'write', 'DiskFull', 'no space left on the device'],
    ['EDQUOT', 'write', 'DiskFull', 'disk quota exceeded'],
    ['EROFS', 'write', 'ReadOnlyFileSystem', 'the file system is read-only'],
    ['EACCES', 'write', 'FileNotWritable', 'permission denied'],
    ['EPERM', 'create directory', 'FileNotWritable', 'permission denied'],
    ['EACCES', 'read', 'FileNotReadable', 'permission denied'],
    ['ELOOP', 'write', 'SymlinkLoop', 'too many levels of symbolic links'],
    ['ENAMETOOLONG', 'write', 'PathTooLong', 'the path is too long'],
    ['EIO', 'write', 'FileWriteFailed', 'EIO: failed'],
    ['EIO', 'read', 'FileReadFailed', 'EIO: failed'],
  ] as const)('maps %s during %s to %s', (code, action, fileCode, reason) => {
    const error = toFileError(errno(code), '/home/u/.aws/credentials', action, SETTING);
    expect(error.code).toBe(fileCode);
    expect(error.origin).toBe('file');
    expect(error.message).toBe(`Cannot ${action} /home/u/.aws/credentials: ${reason} (${code})`);
    expect(error.hint).toMatch(/^\S.*\S$/);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('names the setting to change, or a generic alternative without one', () => {
    expect(toFileError(errno('EROFS'), '/ro/credentials', 'write', SETTING).hint).toBe(
      'use a path on a writable file system, or point AWS_SHARED_CREDENTIALS_FILE at a location you can write to',
    );
    expect(toFileError(errno('EROFS'), '/ro/credentials', 'write').hint).toBe(
      'use a path on a writable file system, or use a location you can write to',
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Real processes: concurrent writers and writers killed at random moments. The child is this module
// bundled into one file, so each process starts in tens of milliseconds.

/** The keys of `[name]` in a file these tests wrote themselves: plain `key = value` lines. */
function sectionOf(text: string, name: string): Map<string, string> | undefined {
  const start = text.indexOf(`[${name}]\n`);
  if (start < 0) return undefined;
  const body = text.slice(start + name.length + 3).split(/\n\[/, 1)[0] ?? '';
  return new Map(
    body
      .split('\n')
      .map((line) => /^(\S+) = (.*)$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => [match[1] ?? '', match[2] ?? '']),
  );
}

let childDir: string;
let childScript: string;
const KEYS = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, '0')}`);
const valueFor = (counter: number) => `v${counter}-${'x'.repeat(200)}`;

const CHILD_SOURCE = `
import { writeSync } from 'node:fs';
import { setIniSection } from '../output/ini.js';
import { updateFileSecurely } from './files.js';

const [mode, file, arg] = process.argv.slice(2);
const KEYS = ${JSON.stringify(KEYS)};
const valueFor = ${valueFor.toString()};

async function main() {
  if (mode === 'profile') {
    await updateFileSecurely(file, (text) =>
      setIniSection(text ?? '', arg, [['aws_access_key_id', 'ASIA' + arg], ['aws_secret_access_key', 'secret/' + arg]]),
    );
  } else if (mode === 'loop') {
    writeSync(1, 'ready\\n');
    for (;;) {
      await updateFileSecurely(file, (text) => {
        const counter = Number(/^counter = (\\d+)$/m.exec(text ?? '')?.[1] ?? '0') + 1;
        return setIniSection(text ?? '', 'p', [['counter', String(counter)], ...KEYS.map((k) => [k, valueFor(counter)])]);
      }, { lockStaleMs: 2000 });
      writeSync(1, 'wrote\\n');
    }
  } else if (mode === 'hold') {
    await updateFileSecurely(file, () => {
      writeSync(1, 'locked\\n');
      for (;;) {}
    }, { lockStaleMs: 2000 });
  } else if (mode === 'write') {
    try {
      await updateFileSecurely(file, () => 'x', { pathSetting: 'AWS_SHARED_CREDENTIALS_FILE' });
      writeSync(1, JSON.stringify({}));
    } catch (error) {
      writeSync(1, JSON.stringify({ code: error.code, message: error.message, hint: error.hint }));
    }
  }
}
main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error));
  process.exit(1);
});
`;

beforeAll(async () => {
  childDir = await mkdtemp(join(tmpdir(), 'gach-child-'));
  await chmod(childDir, 0o755);
  childScript = join(childDir, 'writer.cjs');
  await build({
    stdin: { contents: CHILD_SOURCE, resolveDir: dirname(fileURLToPath(import.meta.url)), loader: 'ts' },
    outfile: childScript,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
  });
  await chmod(childScript, 0o644);
});
afterAll(async () => {
  await rm(childDir, { recursive: true, force: true });
});

function startChild(args: string[]): {
  child: ChildProcess;
  exited: Promise<{ code: number | null; stderr: string }>;
} {
  const child = spawn(process.execPath, [childScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((done) => {
    child.on('exit', (code) => done({ code, stderr }));
  });
  return { child, exited };
}

function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((done, fail) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(`${line}\n`)) done();
    });
    child.on('exit', () => fail(new Error(`child exited before printing ${line}`)));
  });
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('concurrent and interrupted writers', () => {
  it('50 writers in 50 processes all land, and the SDK and the AWS CLI read them', async () => {
    const file = join(dir, '.aws', 'credentials');
    await mkdir(dirname(file), { mode: 0o700 });
    await writeFile(file, '# shared by parallel jobs\n[default]\nregion = eu-west-1\n', { mode: 0o600 });
    const started = Date.now();
    const runs = Array.from({ length: 50 }, (_, i) => startChild(['profile', file, `job${i}`]).exited);
    const results = await Promise.all(runs);
    const elapsed = Date.now() - started;
    expect(results.filter((r) => r.code !== 0)).toEqual([]);

    const text = await readFile(file, 'utf8');
    expect(text.startsWith('# shared by parallel jobs\n[default]\nregion = eu-west-1\n')).toBe(true);
    const { credentialsFile } = await loadSharedConfigFiles({
      filepath: file,
      configFilepath: join(dir, 'no-config'),
      ignoreCache: true,
    });
    expect(Object.keys(credentialsFile)).toHaveLength(51);
    for (let i = 0; i < 50; i++) {
      expect(credentialsFile[`job${i}`]).toEqual({
        aws_access_key_id: `ASIAjob${i}`,
        aws_secret_access_key: `secret/job${i}`,
      });
    }
    expect(await modeOf(file)).toBe(0o600);
    expect(await leftovers(dirname(file))).toEqual([]);

    const aws = spawnSync('aws', ['configure', 'get', 'aws_secret_access_key', '--profile', 'job17'], {
      encoding: 'utf8',
      env: { ...process.env, AWS_SHARED_CREDENTIALS_FILE: file, AWS_CONFIG_FILE: join(dir, 'no-config') },
    });
    // The AWS CLI reads it too; without one on PATH that part is skipped, except under CI.
    if (aws.error === undefined || process.env.CI === 'true') {
      expect(aws.error, 'CI=true requires the AWS CLI on PATH').toBeUndefined();
      expect(aws.stdout.trim()).toBe('secret/job17');
    } else {
      console.info(`not read by the AWS CLI: ${aws.error.message}`);
    }
    console.info(`50 concurrent writers finished in ${elapsed} ms`);
    // 50 Node.js processes on a busy machine: the limit is a generous upper bound, not a measure.
  }, 300_000);

  it('a writer killed at random moments leaves the old or the new file, never a partial one', async () => {
    const file = join(dir, 'credentials');
    const lockDir = `${file}.lock`;
    const preamble = '# not ours\n[keep]\nregion = eu-west-1\n\n';
    await writeFile(file, preamble, { mode: 0o600 });
    const stats = { kills: 0, lockHeld: 0, tempLeft: 0 };
    let lastCounter = 0;
    for (let round = 0; round < 30; round++) {
      const { child, exited } = startChild(['loop', file]);
      // Half the rounds kill a cold process (often in its first write), half a warm one mid-loop.
      await waitForLine(child, round % 2 === 0 ? 'ready' : 'wrote');
      await sleep(Math.random() * 30);
      child.kill('SIGKILL');
      const { code } = await exited;
      expect(code).toBeNull();
      stats.kills++;

      const text = await readFile(file, 'utf8');
      expect(text.startsWith(preamble)).toBe(true);
      const section = sectionOf(text, 'p');
      const counter = Number(section?.get('counter') ?? '0');
      expect(counter).toBeGreaterThanOrEqual(lastCounter);
      if (counter > 0) {
        for (const key of KEYS) expect(section?.get(key)).toBe(valueFor(counter));
      }
      lastCounter = counter;

      const names = await readdir(dir);
      if (names.some((name) => name.endsWith('.tmp'))) stats.tempLeft++;
      if (names.includes('credentials.lock')) {
        stats.lockHeld++;
        // Let the lock age past its stale time instead of waiting for it: the next writer must take it over.
        const longAgo = new Date(Date.now() - 60_000);
        await utimes(lockDir, longAgo, longAgo);
      }
    }
    // A later writer recovers: stale lock taken over, orphaned temporary files removed.
    await updateFileSecurely(file, (text) => setIniSection(text ?? '', 'p', [['counter', 'done']]), {
      lockStaleMs: 2000,
    });
    expect(sectionOf(await readFile(file, 'utf8'), 'p')?.get('counter')).toBe('done');
    expect(await leftovers(dir)).toEqual([]);
    expect(lastCounter).toBeGreaterThan(0);
    console.info(`SIGKILL: ${JSON.stringify({ ...stats, writes: lastCounter })}`);
  });

  it('recovers a lock left by a killed writer once it is stale, without help', async () => {
    const file = join(dir, 'credentials');
    await writeFile(file, '[p]\ncounter = 1\n', { mode: 0o600 });
    const { child, exited } = startChild(['hold', file]);
    await waitForLine(child, 'locked');
    child.kill('SIGKILL');
    await exited;
    expect((await readdir(dir)).includes('credentials.lock')).toBe(true);
    const started = Date.now();
    await updateFileSecurely(file, (text) => setIniSection(text ?? '', 'p', [['counter', '2']]), {
      lockStaleMs: 2000,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(await readFile(file, 'utf8')).toBe('[p]\ncounter = 2\n');
    expect(await leftovers(dir)).toEqual([]);
  });
});
