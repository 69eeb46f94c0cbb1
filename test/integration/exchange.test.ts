/**
 * The STS exchange through the real AWS SDK against the local STS: what is sent, what comes back,
 * which failures are retried, and what the user is told.
 */
import { Agent } from 'node:https';
import type { LookupFunction } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { HelperError } from '../../src/errors.js';
import { exchangeWebIdentityToken, type WebIdentityExchange } from '../../src/sts/exchange.js';
import { decodeTokenClaims, summarizeClaims } from '../../src/token/claims.js';
import { startTestBed, type TestBed } from '../support/bed.js';

let bed: TestBed;

beforeAll(async () => {
  bed = await startTestBed();
});
afterAll(async () => {
  await bed?.stop();
});
beforeEach(() => {
  bed.sts.reset();
  bed.issuer.setJwksFault('none');
});

async function request(
  token?: string,
  overrides: Partial<WebIdentityExchange> = {},
): Promise<WebIdentityExchange> {
  const jwt = token ?? (await bed.mint());
  return {
    roleArn: bed.roleArn,
    roleSessionName: 'session-1',
    webIdentityToken: jwt,
    durationSeconds: 3600,
    region: 'us-east-1',
    endpoint: bed.sts.url,
    token: summarizeClaims(decodeTokenClaims(jwt, 'T')),
    ...overrides,
  };
}

// Time limits as generous upper bounds: on a busy machine the local STS may take seconds, and a
// time-out would add attempts the tests count. No back-off waits; the deadline is far away.
const fastOptions = {
  maxAttempts: 4,
  timeoutMs: 120_000,
  deadlineMs: Date.now() + 3_600_000,
  sleep: async () => {},
};

async function failure(promise: Promise<unknown>): Promise<HelperError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HelperError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('exchangeWebIdentityToken', () => {
  it('exchanges a token unsigned and returns the credentials STS issued', async () => {
    const assumed = await exchangeWebIdentityToken(await request(), fastOptions);
    const issued = bed.sts.issued.at(-1);
    expect(assumed.credentials).toMatchObject({
      accessKeyId: issued?.accessKeyId,
      secretAccessKey: issued?.secretAccessKey,
      sessionToken: issued?.sessionToken,
      accountId: '123456789012',
    });
    expect(assumed.credentials.expiration.getTime()).toBe(issued?.expiration.getTime());
    expect(assumed.assumedRoleArn).toBe(issued?.assumedRoleArn);
    const [sent] = bed.sts.requests;
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.headers['user-agent']).toMatch(/gitlab-aws-credential-helper/);
  });

  it.each([
    [{ kind: 'throttle' } as const],
    [{ kind: 'http', status: 503 } as const],
    [{ kind: 'http', status: 500 } as const],
    [{ kind: 'reset' } as const],
    [{ kind: 'idp-communication' } as const],
    [{ kind: 'verification-key' } as const],
  ])('retries %o and then succeeds', async (fault) => {
    bed.sts.injectFault(fault, { times: 2 });
    const assumed = await exchangeWebIdentityToken(await request(), fastOptions);
    expect(assumed.credentials.accessKeyId).toMatch(/^ASIA/);
    expect(bed.sts.exchangeCount()).toBe(3);
  });

  it('gives up after --max-attempts and says so', async () => {
    bed.sts.injectFault({ kind: 'throttle' }, { times: Number.POSITIVE_INFINITY });
    const error = await failure(
      exchangeWebIdentityToken(await request(), { ...fastOptions, maxAttempts: 3 }),
    );
    expect(bed.sts.exchangeCount()).toBe(3);
    expect(error.code).toBe('Throttling');
    expect(error.message).toMatch(/throttling.*gave up after 3 attempts/i);
    bed.sts.clearFaults();
  });

  it('never retries past the deadline (the token’s end of life)', async () => {
    bed.sts.injectFault({ kind: 'http', status: 503 }, { times: Number.POSITIVE_INFINITY });
    let clock = Date.now();
    const error = await failure(
      exchangeWebIdentityToken(await request(), {
        ...fastOptions,
        maxAttempts: 10,
        deadlineMs: clock + 1000,
        now: () => clock,
        random: () => 0.99,
        sleep: async (ms) => {
          clock += ms;
        },
      }),
    );
    expect(error.retryable).toBe(true);
    // random 0.99 gives waits of 198 and 396 ms; a third wait (792 ms) would end past the deadline.
    expect(bed.sts.exchangeCount()).toBe(3);
    bed.sts.clearFaults();
  });

  it('fails at once, without retrying, when the role does not trust the project, naming sub and aud', async () => {
    const token = await bed.mint({ project_path: 'other-group/other-project' });
    const error = await failure(exchangeWebIdentityToken(await request(token), fastOptions));
    expect(bed.sts.exchangeCount()).toBe(1);
    expect(error.code).toBe('AccessDenied');
    expect(error.message).toContain(bed.roleArn);
    expect(error.message).toContain('sub "project_path:other-group/other-project:ref_type:branch:ref:main"');
    expect(error.message).toContain('aud "https://gitlab.example.com"');
    expect(error.message).toMatch(/request id [0-9a-f-]{36}/);
    expect(error.hint).toContain('gitlab.example.com:sub');
    expect(error.message).not.toContain(token);
  });

  it.each([
    [
      'wrong audience',
      { aud: 'https://elsewhere.example' },
      {},
      'InvalidIdentityToken',
      /audience "https:\/\/elsewhere.example"/,
    ],
    [
      'unknown signing key',
      {},
      { signWith: 'unknown-key' as const },
      'InvalidIdentityToken',
      /rejected the ID token/,
    ],
    [
      'unknown issuer',
      { iss: 'https://gitlab.other.example' },
      {},
      'InvalidIdentityToken',
      /no IAM OIDC provider/,
    ],
    [
      'expired token',
      {},
      { issuedAt: Math.floor(Date.now() / 1000) - 7200, expiresInSeconds: 3600 },
      'ExpiredTokenException',
      /expired/,
    ],
  ])('explains %s', async (_label, claims, options, code, message) => {
    const token = await bed.mint(claims, options);
    const error = await failure(exchangeWebIdentityToken(await request(token), fastOptions));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.hint).toBeTruthy();
    expect(bed.sts.exchangeCount()).toBe(1);
  });

  it('explains a duration above the role maximum', async () => {
    const role = bed.addDemoRole('short-sessions', 3600);
    const error = await failure(
      exchangeWebIdentityToken(
        await request(undefined, { roleArn: role.arn, durationSeconds: 7200 }),
        fastOptions,
      ),
    );
    expect(error.code).toBe('ValidationError');
    expect(error.message).toMatch(/7200 seconds exceeds the maximum session duration/);
    expect(error.hint).toMatch(/MaxSessionDuration/);
  });

  it('uses a FIPS endpoint it was given even when AWS_USE_FIPS_ENDPOINT is set for the SDK', async () => {
    vi.stubEnv('AWS_USE_FIPS_ENDPOINT', 'true');
    vi.stubEnv('AWS_USE_DUALSTACK_ENDPOINT', 'true');
    try {
      const assumed = await exchangeWebIdentityToken(await request(), fastOptions);
      expect(assumed.credentials.accessKeyId).toMatch(/^ASIA/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  // The resolver's answer is injected: offline, this machine's own resolver says EAI_AGAIN (try again
  // later) for every name, where a connected one says ENOTFOUND (no such name).
  function agentWhoseLookupFails(code: 'ENOTFOUND' | 'EAI_AGAIN'): { agent: Agent; lookups: string[] } {
    const lookups: string[] = [];
    const lookup: LookupFunction = (hostname, _options, callback) => {
      lookups.push(hostname);
      const error: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), {
        code,
        errno: code === 'ENOTFOUND' ? -3008 : -3001,
        syscall: 'getaddrinfo',
        hostname,
      });
      process.nextTick(() => callback(error, '', 4));
    };
    return { agent: new Agent({ lookup }), lookups };
  }

  it('does not retry a host name that does not resolve (ENOTFOUND)', async () => {
    const lines: string[] = [];
    const { agent, lookups } = agentWhoseLookupFails('ENOTFOUND');
    const error = await failure(
      exchangeWebIdentityToken(
        await request(undefined, { endpoint: 'https://sts.eu-wset-1.amazonaws.com' }),
        {
          ...fastOptions,
          httpsAgent: agent,
          log: (line) => lines.push(line),
        },
      ),
    );
    expect(lookups).toEqual(['sts.eu-wset-1.amazonaws.com']);
    expect(error.code).toBe('ENOTFOUND');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/does not resolve/);
    expect(error.hint).toMatch(/typo/);
    expect(lines.filter((line) => line.startsWith('calling STS'))).toHaveLength(1);
  });

  it('retries a resolver that cannot answer now (EAI_AGAIN), up to --max-attempts', async () => {
    const { agent, lookups } = agentWhoseLookupFails('EAI_AGAIN');
    const error = await failure(
      exchangeWebIdentityToken(
        await request(undefined, { endpoint: 'https://sts.eu-west-1.amazonaws.com' }),
        {
          ...fastOptions,
          httpsAgent: agent,
        },
      ),
    );
    expect(lookups).toHaveLength(fastOptions.maxAttempts);
    expect(error.code).toBe('EAI_AGAIN');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/failed \(EAI_AGAIN\).*gave up after 4 attempts/);
  });

  it('calls a failure before any answer a bug, not a network problem', async () => {
    const error = await failure(
      exchangeWebIdentityToken(await request(undefined, { region: 'not a region!' }), fastOptions),
    );
    expect(error.origin).toBe('internal');
    expect(error.hint).toMatch(/bug/);
  });

  it('reports an unreachable endpoint as a network error', async () => {
    const error = await failure(
      exchangeWebIdentityToken(await request(undefined, { endpoint: 'http://127.0.0.1:9/' }), {
        ...fastOptions,
        maxAttempts: 2,
      }),
    );
    expect(error.origin).toBe('network');
    expect(error.message).toMatch(/http:\/\/127.0.0.1:9\/ failed \(ECONNREFUSED\)/);
  });
});
