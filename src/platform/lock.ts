/**
 * Cross-process locks (a `<path>.lock` directory, by proper-lockfile) taken by polling: one loop for
 * the credentials file and the credential cache. proper-lockfile is loaded on the first lock: it
 * brings graceful-fs (which patches `fs` when it loads), retry and signal-exit, none of which a cache
 * hit (no lock) should pay for at start-up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from '../errors.js';

export interface PollingLockOptions<T> {
  /** A lock whose holder has not refreshed it for this long is taken over (its holder died); ≥ 2000. */
  readonly staleMs: number;
  /** How long to wait for another holder. */
  readonly waitMs: number;
  /** First and largest pause between two tries; each pause is drawn from [pause/2, pause] so that many waiters do not retry in step. */
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
  /** Told when another process took the lock over while we held it (proper-lockfile would throw from a timer). */
  readonly onCompromised: (error: Error) => void;
  /** Called after each failed try; a value ends the wait (e.g. the holder has written what we wait for). */
  readonly whileHeld?: () => Promise<T | undefined>;
}

/** `settled` only when a `whileHeld` can give a value (T is not `never`). */
export type LockOutcome<T> =
  | { readonly kind: 'locked'; readonly release: () => Promise<void> }
  /** Still held by another process after `waitMs`; `error` is proper-lockfile's ELOCKED error. */
  | { readonly kind: 'timed out'; readonly error: unknown }
  | ([T] extends [never] ? never : { readonly kind: 'settled'; readonly value: T });

/**
 * Takes the lock on `path` (which need not exist), polling while another process holds it. Any other
 * failure (no permission to create the lock directory, a read-only file system, …) is thrown at once:
 * trying again would only repeat it.
 */
export async function lockByPolling<T>(
  path: string,
  options: PollingLockOptions<T>,
): Promise<LockOutcome<T>> {
  const { default: lockfile } = await import('proper-lockfile');
  const deadline = performance.now() + options.waitMs;
  let pause = options.pollMinMs;
  for (;;) {
    try {
      const release = await lockfile.lock(path, {
        realpath: false,
        stale: options.staleMs,
        retries: 0,
        onCompromised: options.onCompromised,
      });
      return { kind: 'locked', release };
    } catch (error) {
      if (errnoCode(error) !== 'ELOCKED') throw error;
      const value = await options.whileHeld?.();
      if (value !== undefined) return { kind: 'settled', value } as LockOutcome<T>;
      const left = deadline - performance.now();
      if (left <= 0) return { kind: 'timed out', error };
      await sleep(Math.min(pause / 2 + Math.random() * (pause / 2), left));
      pause = Math.min(pause * 2, options.pollMaxMs);
    }
  }
}
