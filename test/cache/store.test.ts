import { spawnSync } from 'node:child_process';
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  readdir,
  readFile,
  stat,
  symlink,
  truncate,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openEntry } from '../../src/cache/crypto.js';
import { clearCache } from '../../src/cache/directory.js';
import { cacheKeyFor } from '../../src/cache/key.js';
import { createFileCache, type FileCacheOptions } from '../../src/cache/store.js';
import type { Environment } from '../../src/environment.js';
import { HelperError } from '../../src/errors.js';
import { countingProducer, makeTempDir, OTHER_TOKEN, requestFor, type TempDir, TOKEN } from './support.js';

const DIR_NAME = 'gitlab-aws-credential-helper';
const posix = process.platform !== 'win32';

let temp: TempDir;
let env: Environment;
let cacheDir: string;
let logLines: string[];

beforeEach(async () => {
  temp = await makeTempDir();
  env = { HOME: join(temp.path, 'home'), XDG_CACHE_HOME: join(temp.path, 'xdg') };
  cacheDir = join(temp.path, 'xdg', DIR_NAME);
  logLines = [];
  // clearCache also empties the temp-directory fallback: keep other test files' entries out of it.
  await mkdir(join(temp.path, 'default-tmp'));
  vi.stubEnv('TMPDIR', join(temp.path, 'default-tmp'));
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await temp.remove();
});

function cacheWith(options: Partial<FileCacheOptions> = {}) {
  return createFileCache({ env, cwd: '/', log: (line) => logLines.push(line), ...options });
}

function entryPath(token: string, request = requestFor(token)): string {
  return join(cacheDir, `${cacheKeyFor(token, request)}.json`);
}

describe('createFileCache', () => {
  it('calls produce on a miss, then serves the stored entry', async () => {
    const cache = cacheWith();
    const produce = countingProducer();
    const first = await cache.getOrCreate(TOKEN, requestFor(TOKEN), produce);
    const second = await cache.getOrCreate(TOKEN, requestFor(TOKEN), produce);
    expect(produce.calls).toBe(1);
    expect(first.fromCache).toBe(false);
    expect(second).toEqual({ ...first, fromCache: true });
    expect(second.credentials.accessKeyId).toBe('ASIAEXAMPLE1');
    expect(second.assumedRoleArn).toBe('arn:aws:sts::123456789012:assumed-role/demo/demo-4242');
  });

  it('serves entries across cache instances (as across processes)', async () => {
    const produce = countingProducer();
    await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), produce);
    const again = await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), produce);
    expect(again.fromCache).toBe(true);
    expect(produce.calls).toBe(1);
  });

  it.runIf(posix)('creates the directory 0700 and the entry 0600', async () => {
    await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), countingProducer());
    expect((await stat(cacheDir)).mode & 0o777).toBe(0o700);
    const [name, ...others] = await readdir(cacheDir);
    expect(others).toEqual([]);
    expect(name).toBe(`${cacheKeyFor(TOKEN, requestFor(TOKEN))}.json`);
    expect((await stat(join(cacheDir, name ?? ''))).mode & 0o777).toBe(0o600);
  });

  it.runIf(posix)('closes an existing cache directory that is open to others', async () => {
    await mkdir(cacheDir, { recursive: true, mode: 0o755 });
    await chmod(cacheDir, 0o755);
    const result = await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), countingProducer());
    expect(result.fromCache).toBe(false);
    expect((await stat(cacheDir)).mode & 0o777).toBe(0o700);
    expect(await readdir(cacheDir)).toHaveLength(1);
  });

  it('removes entries too old to be valid and orphaned temporary files when it writes', async () => {
    const produce = countingProducer();
    await cacheWith().getOrCreate(OTHER_TOKEN, requestFor(OTHER_TOKEN), produce);
    const old = entryPath(OTHER_TOKEN);
    const orphan = join(cacheDir, `.${cacheKeyFor(TOKEN, requestFor(TOKEN))}.json.0123456789ab.tmp`);
    const fresh = join(
      cacheDir,
      `.${cacheKeyFor(OTHER_TOKEN, requestFor(OTHER_TOKEN))}.json.ba9876543210.tmp`,
    );
    const foreign = join(cacheDir, 'notes.txt');
    for (const file of [orphan, fresh, foreign]) await writeFile(file, 'x');
    const thirteenHoursAgo = new Date(Date.now() - 13 * 3600_000);
    for (const file of [old, orphan, foreign]) await utimes(file, thirteenHoursAgo, thirteenHoursAgo);

    await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), produce);
    expect((await readdir(cacheDir)).sort()).toEqual(
      [basename(entryPath(TOKEN)), basename(fresh), 'notes.txt'].sort(),
    );
  });

  it('stores neither the token nor the credentials in clear, and only what it needs', async () => {
    await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), countingProducer());
    const text = await readFile(entryPath(TOKEN), 'utf8');
    for (const secret of [TOKEN, 'ASIAEXAMPLE1', 'secret-1', 'session-1', 'assumed-role']) {
      expect(text).not.toContain(secret);
    }
    const plaintext = openEntry(TOKEN, cacheKeyFor(TOKEN, requestFor(TOKEN)), text);
    expect(Object.keys(JSON.parse(plaintext ?? '{}') as object).sort()).toEqual([
      'accessKeyId',
      'accountId',
      'assumedRoleArn',
      'expiration',
      'secretAccessKey',
      'sessionToken',
    ]);
  });

  it('keeps separate entries per token and per request', async () => {
    const cache = cacheWith();
    const produce = countingProducer();
    await cache.getOrCreate(TOKEN, requestFor(TOKEN), produce);
    await cache.getOrCreate(OTHER_TOKEN, requestFor(OTHER_TOKEN), produce);
    await cache.getOrCreate(TOKEN, requestFor(TOKEN, { region: 'eu-west-1' }), produce);
    expect(produce.calls).toBe(3);
    expect(await readdir(cacheDir)).toHaveLength(3);
  });

  it('refreshes an entry once it is inside the refresh window, never serving it past expiry', async () => {
    let clock = Date.parse('2026-01-01T12:00:00Z');
    const now = () => clock;
    const cache = cacheWith({ now, refreshWindowSeconds: 1200 });
    const produce = countingProducer({ now });
    await cache.getOrCreate(TOKEN, requestFor(TOKEN), produce);
    clock += (3600 - 1201) * 1000;
    expect((await cache.getOrCreate(TOKEN, requestFor(TOKEN), produce)).fromCache).toBe(true);
    clock += 1000;
    const refreshed = await cache.getOrCreate(TOKEN, requestFor(TOKEN), produce);
    expect(refreshed).toMatchObject({ fromCache: false, credentials: { accessKeyId: 'ASIAEXAMPLE2' } });
    expect(produce.calls).toBe(2);
  });

  describe('when the refresh fails for a passing reason (an STS outage)', () => {
    const outage = new HelperError('sts', { code: 'Throttling', message: 'Rate exceeded', retryable: true });
    const refused = new HelperError('sts', { code: 'AccessDenied', message: 'not authorized' });

    async function cacheAt(secondsLeft: number) {
      let clock = Date.parse('2026-01-01T12:00:00Z');
      const warnings: string[] = [];
      const cache = cacheWith({ now: () => clock, warn: (line) => warnings.push(line) });
      const stored = await cache.getOrCreate(
        TOKEN,
        requestFor(TOKEN),
        countingProducer({ now: () => clock }),
      );
      clock += (3600 - secondsLeft) * 1000;
      return { cache, stored, warnings };
    }

    it('hands out the cached set, with one warning, while it outlasts the AWS CLI’s 10-minute margin', async () => {
      const { cache, stored, warnings } = await cacheAt(601);
      const kept = await cache.getOrCreate(TOKEN, requestFor(TOKEN), () => Promise.reject(outage));
      expect(kept).toEqual({ ...stored, fromCache: true });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^warning: STS failed \(Throttling\), so these are the cached credentials, which expire at 2026-01-01T13:00:00.000Z \(in 10 minutes\)/,
      );
      // STS back: the next call refreshes.
      const produce = countingProducer();
      expect((await cache.getOrCreate(TOKEN, requestFor(TOKEN), produce)).fromCache).toBe(false);
      expect(produce.calls).toBe(1);
    });

    it('fails as before once the set is inside the margin', async () => {
      const { cache, warnings } = await cacheAt(600);
      await expect(cache.getOrCreate(TOKEN, requestFor(TOKEN), () => Promise.reject(outage))).rejects.toBe(
        outage,
      );
      expect(warnings).toEqual([]);
    });

    it('fails as before when STS refuses (nothing passing about AccessDenied)', async () => {
      const { cache, warnings } = await cacheAt(1100);
      await expect(cache.getOrCreate(TOKEN, requestFor(TOKEN), () => Promise.reject(refused))).rejects.toBe(
        refused,
      );
      expect(warnings).toEqual([]);
    });

    it('fails as before for aws-profile and env, which hand over a new set', async () => {
      const { cache } = await cacheAt(1100);
      await expect(
        cache.getOrCreate(TOKEN, requestFor(TOKEN), () => Promise.reject(outage), { reuse: false }),
      ).rejects.toBe(outage);
    });
  });

  it('serves 900 s sessions for their first half under the default 1200 s window', async () => {
    let clock = Date.parse('2026-01-01T12:00:00Z');
    const now = () => clock;
    const cache = cacheWith({ now });
    const produce = countingProducer({ now, lifetimeMs: 900_000 });
    const request = requestFor(TOKEN, { durationSeconds: 900 });
    await cache.getOrCreate(TOKEN, request, produce);
    clock += 449_000;
    expect((await cache.getOrCreate(TOKEN, request, produce)).fromCache).toBe(true);
    clock += 1000;
    expect((await cache.getOrCreate(TOKEN, request, produce)).fromCache).toBe(false);
    expect(produce.calls).toBe(2);
  });

  describe('treats unusable entries as misses and replaces them', () => {
    async function expectReplaced(damage: (file: string) => Promise<void>, token = TOKEN): Promise<void> {
      const produce = countingProducer();
      await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), produce);
      const file = entryPath(token);
      await damage(file);
      const result = await cacheWith().getOrCreate(token, requestFor(token), produce);
      expect(result.fromCache).toBe(false);
      expect(produce.calls).toBe(2);
      // The replacement is a valid entry for this token.
      const again = await cacheWith().getOrCreate(token, requestFor(token), produce);
      expect(again).toEqual({ ...result, fromCache: true });
      expect(produce.calls).toBe(2);
      expect(logLines.join('\n')).toContain('replacing it');
    }

    it('a truncated file', () => expectReplaced((file) => truncate(file, 40)));
    it('an empty file', () => expectReplaced((file) => writeFile(file, '')));
    it('a garbage file', () => expectReplaced((file) => writeFile(file, '\u0000\u00ffnot an entry\n')));
    it('a JSON file of another shape', () => expectReplaced((file) => writeFile(file, '{"v":1,"salt":"x"}')));
    it('an entry of another key copied over it', () =>
      expectReplaced(async (file) => {
        const other = requestFor(TOKEN, { roleSessionName: 'other-session' });
        await cacheWith().getOrCreate(TOKEN, other, countingProducer());
        await copyFile(entryPath(TOKEN, other), file);
      }));
    it('an entry made with another token', () =>
      // TOKEN's entry under OTHER_TOKEN's name. (A token always has keys of its own, so the AAD
      // differs too; src/cache/crypto.test.ts checks the token alone.)
      expectReplaced((file) => copyFile(entryPath(TOKEN), file), OTHER_TOKEN));
  });

  it('serves from the cache to concurrent callers in one process with one produce', async () => {
    const cache = cacheWith();
    const produce = countingProducer({ delayMs: 50 });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => cache.getOrCreate(TOKEN, requestFor(TOKEN), produce)),
    );
    expect(produce.calls).toBe(1);
    expect(new Set(results.map((result) => result.credentials.secretAccessKey))).toEqual(
      new Set(['secret-1']),
    );
  });

  it('passes produce errors through, releasing the lock', async () => {
    const cache = cacheWith({ lockOptions: { waitMs: 1000 } });
    const failure = new Error('AccessDenied');
    await expect(cache.getOrCreate(TOKEN, requestFor(TOKEN), () => Promise.reject(failure))).rejects.toBe(
      failure,
    );
    // No lock is left behind: the next call takes it without waiting for anyone.
    expect(await readdir(cacheDir)).toEqual([]);
    const produce = countingProducer();
    expect((await cache.getOrCreate(TOKEN, requestFor(TOKEN), produce)).fromCache).toBe(false);
    expect(logLines.join('\n')).not.toContain('waiting for it');
    expect(await readdir(cacheDir)).toEqual([`${cacheKeyFor(TOKEN, requestFor(TOKEN))}.json`]);
  });

  it('keeps a lock alive while a slow produce outlasts the stale time', async () => {
    const lockOptions = { staleMs: 2000 };
    const slow = countingProducer({ delayMs: 3000 });
    let started: () => void = () => {};
    const producing = new Promise<void>((resolve) => {
      started = resolve;
    });
    const produce = () => {
      started();
      return slow();
    };
    const first = cacheWith({ lockOptions }).getOrCreate(TOKEN, requestFor(TOKEN), produce);
    // The second process comes while the first holds the lock and calls STS.
    await producing;
    const second = cacheWith({ lockOptions }).getOrCreate(TOKEN, requestFor(TOKEN), produce);
    const [a, b] = await Promise.all([first, second]);
    expect(slow.calls).toBe(1);
    expect(b).toEqual({ ...a, fromCache: true });
  });

  it('stops waiting for another holder after waitMs and calls produce itself', async () => {
    // The holder's STS call lasts until the test ends it: the waiter must not depend on it.
    let finish: () => void = () => {};
    let started: () => void = () => {};
    const producing = new Promise<void>((resolve) => {
      started = resolve;
    });
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const held = countingProducer();
    const holder = cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), async () => {
      started();
      await finished;
      return held();
    });
    await producing;
    const produce = countingProducer();
    const waiter = await cacheWith({ lockOptions: { waitMs: 300 } }).getOrCreate(
      TOKEN,
      requestFor(TOKEN),
      produce,
    );
    expect(held.calls).toBe(0);
    expect(waiter.fromCache).toBe(false);
    expect(produce.calls).toBe(1);
    expect(logLines.join('\n')).toContain('waited 300 ms');
    expect(logLines.join('\n')).toContain('calling STS without the lock');
    finish();
    await holder;
  });

  it('does not use a cache directory that is a symlink, and still returns credentials', async () => {
    const elsewhere = join(temp.path, 'elsewhere');
    await mkdir(elsewhere, { mode: 0o700 });
    await mkdir(join(temp.path, 'xdg'));
    await symlink(elsewhere, cacheDir);
    const produce = countingProducer();
    const cache = cacheWith();
    const first = await cache.getOrCreate(TOKEN, requestFor(TOKEN), produce);
    const second = await cache.getOrCreate(TOKEN, requestFor(TOKEN), produce);
    expect([first.fromCache, second.fromCache]).toEqual([false, false]);
    expect(produce.calls).toBe(2);
    expect(await readdir(elsewhere)).toEqual([]);
    expect((await lstat(cacheDir)).isSymbolicLink()).toBe(true);
    expect(logLines.join('\n')).toMatch(/not caching|not using it/);
  });

  it('still returns credentials when the cache directory cannot be created', async () => {
    // A file where the parent directory should be: mkdir fails even for root.
    await writeFile(join(temp.path, 'xdg'), 'not a directory');
    const produce = countingProducer();
    const result = await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), produce);
    expect(result).toMatchObject({ fromCache: false, credentials: { accessKeyId: 'ASIAEXAMPLE1' } });
    expect(logLines.join('\n')).toContain('not caching');
  });

  it.runIf(posix)('still returns credentials when the cache directory is read-only', async (context) => {
    await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), countingProducer());
    // Root writes through 0500, so as root the directory becomes a read-only bind mount of itself
    // (EROFS); only a machine that forbids mounts to root skips.
    const asRoot = process.getuid?.() === 0;
    let mounted = false;
    if (asRoot) {
      const bind = spawnSync('mount', ['--bind', cacheDir, cacheDir], { encoding: 'utf8' });
      if (bind.status !== 0) context.skip(`mount --bind is not allowed here: ${bind.stderr.trim()}`);
      mounted = true;
      const readOnly = spawnSync('mount', ['-o', 'remount,bind,ro', cacheDir], { encoding: 'utf8' });
      expect(readOnly.status, readOnly.stderr).toBe(0);
    } else {
      await chmod(cacheDir, 0o500);
    }
    try {
      await expect(writeFile(join(cacheDir, 'probe'), '')).rejects.toThrow(/EROFS|EACCES/);
      const produce = countingProducer();
      const result = await cacheWith().getOrCreate(OTHER_TOKEN, requestFor(OTHER_TOKEN), produce);
      expect(result.fromCache).toBe(false);
      expect(produce.calls).toBe(1);
      expect(result.credentials.accessKeyId).toMatch(/^ASIA/);
      // What was cached before still serves.
      const hit = await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), produce);
      expect(hit.fromCache).toBe(true);
      expect(produce.calls).toBe(1);
    } finally {
      if (mounted) spawnSync('umount', [cacheDir]);
      else await chmod(cacheDir, 0o700);
    }
  });

  it('still returns credentials when the entry path is taken by a directory', async () => {
    await mkdir(entryPath(TOKEN), { recursive: true });
    const produce = countingProducer();
    const result = await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), produce);
    expect(result.fromCache).toBe(false);
    expect(logLines.join('\n')).toContain('cannot');
  });

  it('falls back to a per-user temp directory when the configured one is inside the project', async () => {
    const project = join(temp.path, 'project');
    const tmp = join(temp.path, 'tmp');
    await mkdir(tmp);
    vi.stubEnv('TMPDIR', tmp);
    env = { HOME: project, CI_PROJECT_DIR: project };
    const produce = countingProducer();
    await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), produce);
    expect((await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), produce)).fromCache).toBe(true);
    const fallback = (await readdir(tmp)).filter((name) => name.startsWith(`${DIR_NAME}-`));
    expect(fallback).toHaveLength(1);
    expect(await readdir(project).catch(() => [])).toEqual([]);
    expect(logLines.join('\n')).toContain('is inside CI_PROJECT_DIR');
  });

  it('disables itself when the temp directory is inside the project too', async () => {
    const project = join(temp.path, 'project');
    vi.stubEnv('TMPDIR', join(project, 'tmp'));
    env = { HOME: project, CI_PROJECT_DIR: project };
    const produce = countingProducer();
    await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), produce);
    await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), produce);
    expect(produce.calls).toBe(2);
    expect(await readdir(project).catch(() => [])).toEqual([]);
    expect(logLines.join('\n')).toContain('cache: disabled');
  });
});

describe('clearCache', () => {
  it('removes every entry and leaves other files alone', async () => {
    const cache = cacheWith();
    await cache.getOrCreate(TOKEN, requestFor(TOKEN), countingProducer());
    await cache.getOrCreate(OTHER_TOKEN, requestFor(OTHER_TOKEN), countingProducer());
    await writeFile(join(cacheDir, 'notes.txt'), 'keep me');
    expect(await clearCache(env)).toBe(2);
    expect(await readdir(cacheDir)).toEqual(['notes.txt']);
    expect(await clearCache(env)).toBe(0);
  });

  it('removes orphaned temporary files and locks of dead processes, but not live locks', async () => {
    await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), countingProducer());
    const key = cacheKeyFor(TOKEN, requestFor(TOKEN));
    const otherKey = cacheKeyFor(OTHER_TOKEN, requestFor(OTHER_TOKEN));
    await writeFile(join(cacheDir, `.${key}.json.0123456789ab.tmp`), 'x');
    await mkdir(join(cacheDir, `${key}.json.lock`));
    await mkdir(join(cacheDir, `${otherKey}.json.lock`));
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(join(cacheDir, `${key}.json.lock`), longAgo, longAgo);
    expect(await clearCache(env)).toBe(1);
    expect(await readdir(cacheDir)).toEqual([`${otherKey}.json.lock`]);
  });

  it('clears the temp-directory fallback too', async () => {
    const tmp = join(temp.path, 'tmp');
    await mkdir(tmp);
    vi.stubEnv('TMPDIR', tmp);
    const project = join(temp.path, 'project');
    const inProject = { HOME: project, CI_PROJECT_DIR: project };
    await createFileCache({ env: inProject, cwd: '/' }).getOrCreate(
      TOKEN,
      requestFor(TOKEN),
      countingProducer(),
    );
    await cacheWith().getOrCreate(TOKEN, requestFor(TOKEN), countingProducer());
    // Run from elsewhere, without CI_PROJECT_DIR: both places are still cleared.
    expect(await clearCache(env)).toBe(2);
  });

  it('returns 0 when there is no cache', async () => {
    expect(await clearCache(env)).toBe(0);
  });

  it('does not follow a symlinked cache directory', async () => {
    const elsewhere = join(temp.path, 'elsewhere');
    await mkdir(elsewhere);
    const victim = join(elsewhere, `${cacheKeyFor(TOKEN, requestFor(TOKEN))}.json`);
    await writeFile(victim, 'x');
    await mkdir(join(temp.path, 'xdg'));
    await symlink(elsewhere, cacheDir);
    expect(await clearCache(env)).toBe(0);
    expect(await readFile(victim, 'utf8')).toBe('x');
  });
});
