/** Shared pieces of the cache tests: a real temp directory per test and a counting `produce`. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AssumedRole } from '../../src/credentials.js';
import type { WebIdentityExchange } from '../../src/sts/exchange.js';

export const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6ZGVtbyJ9.c2lnbmF0dXJl';
export const OTHER_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6b3RoZXIifQ.c2lnbmF0dXJl';

export function requestFor(token: string, change: Partial<WebIdentityExchange> = {}): WebIdentityExchange {
  return {
    roleArn: 'arn:aws:iam::123456789012:role/demo',
    roleSessionName: 'demo-4242',
    webIdentityToken: token,
    durationSeconds: 3600,
    region: 'us-east-1',
    endpoint: 'https://sts.us-east-1.amazonaws.com',
    token: { sub: 'project_path:demo' },
    ...change,
  };
}

export interface CountingProducer {
  (): Promise<AssumedRole>;
  readonly calls: number;
}

/** A `produce` that issues distinct credentials on every call, valid `lifetimeMs` from `now()`. */
export function countingProducer(
  options: { now?: () => number; lifetimeMs?: number; delayMs?: number } = {},
): CountingProducer {
  let calls = 0;
  const produce = async (): Promise<AssumedRole> => {
    calls++;
    const serial = calls;
    if (options.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    return {
      credentials: {
        accessKeyId: `ASIAEXAMPLE${serial}`,
        secretAccessKey: `secret-${serial}`,
        sessionToken: `session-${serial}`,
        expiration: new Date((options.now ?? Date.now)() + (options.lifetimeMs ?? 3600_000)),
        accountId: '123456789012',
      },
      assumedRoleArn: 'arn:aws:sts::123456789012:assumed-role/demo/demo-4242',
      assumedRoleId: 'AROAEXAMPLE:demo-4242',
    };
  };
  return Object.defineProperty(produce, 'calls', { get: () => calls }) as CountingProducer;
}

export interface TempDir {
  readonly path: string;
  remove(): Promise<void>;
}

export async function makeTempDir(): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), 'gach-cache-test-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
