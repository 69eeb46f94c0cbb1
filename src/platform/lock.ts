/**
 * proper-lockfile, loaded on the first lock: it brings graceful-fs (which patches `fs` when it
 * loads), retry and signal-exit, none of which a cache hit (no lock) should pay for at start-up.
 */
import type { LockOptions } from 'proper-lockfile';

export async function lockFile(path: string, options: LockOptions): Promise<() => Promise<void>> {
  const { default: lockfile } = await import('proper-lockfile');
  return lockfile.lock(path, options);
}
