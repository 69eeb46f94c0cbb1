import { describe, expect, it } from 'vitest';
import { type ProvidedCredentials, reusingProvider } from './provider.js';

const MINUTE = 60_000;

function identity(serial: number, expiresAt: number): ProvidedCredentials {
  return {
    accessKeyId: `ASIA${serial}`,
    secretAccessKey: `secret-${serial}`,
    sessionToken: `session-${serial}`,
    expiration: new Date(expiresAt),
    accountId: '123456789012',
  };
}

/** An obtain() whose calls are counted and answered by hand. */
function controlledObtain() {
  const calls: { resolve: (value: ProvidedCredentials) => void; reject: (error: Error) => void }[] = [];
  const obtain = () =>
    new Promise<ProvidedCredentials>((resolve, reject) => {
      calls.push({ resolve, reject });
    });
  return { obtain, calls };
}

describe('reusingProvider', () => {
  it('lets callers that ask during an exchange share it', async () => {
    const { obtain, calls } = controlledObtain();
    const provider = reusingProvider(obtain, () => 0);
    const first = provider();
    const second = provider();
    expect(calls).toHaveLength(1);
    calls[0]?.resolve(identity(1, 60 * MINUTE));
    expect((await first).accessKeyId).toBe('ASIA1');
    expect((await second).accessKeyId).toBe('ASIA1');
  });

  it('reuses a set while it lasts more than 5 minutes, and exchanges again after', async () => {
    const { obtain, calls } = controlledObtain();
    let clock = 0;
    const provider = reusingProvider(obtain, () => clock);
    const first = provider();
    calls[0]?.resolve(identity(1, 60 * MINUTE));
    await first;
    clock = 55 * MINUTE - 1;
    expect((await provider()).accessKeyId).toBe('ASIA1');
    expect(calls).toHaveLength(1);
    clock = 55 * MINUTE;
    const renewed = provider();
    expect(calls).toHaveLength(2);
    calls[1]?.resolve(identity(2, 120 * MINUTE));
    expect((await renewed).accessKeyId).toBe('ASIA2');
  });

  it('does not keep a failure: the next call exchanges again', async () => {
    const { obtain, calls } = controlledObtain();
    const provider = reusingProvider(obtain, () => 0);
    const failed = provider();
    calls[0]?.reject(new Error('STS is down'));
    await expect(failed).rejects.toThrow('STS is down');
    const retried = provider();
    expect(calls).toHaveLength(2);
    calls[1]?.resolve(identity(2, 60 * MINUTE));
    expect((await retried).accessKeyId).toBe('ASIA2');
  });
});
