import { Agent as HttpsAgent } from 'node:https';
import { describe, expect, it } from 'vitest';
import type { CredentialCache } from './cache/credential-cache.js';
import { resolveSettings } from './config/resolve.js';
import type { AssumedRole } from './credentials.js';
import type { Environment } from './environment.js';
import { obtainCredentials, sendsTokenInClear, tokenDestinationWarnings } from './obtain.js';
import type { WebIdentityExchange } from './sts/exchange.js';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

function unsignedToken(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2VkLWhlcmU`;
}

const TOKEN = unsignedToken({
  iss: 'https://gitlab.example.com',
  sub: 'project_path:group/project:ref_type:branch:ref:main',
  aud: 'https://gitlab.example.com',
  exp: NOW / 1000 + 3600,
});

const JOB_ENV: Environment = {
  GITLAB_AWS_ACCOUNT_ID: '123456789012',
  CI_PROJECT_PATH_SLUG: 'group-project',
  CI_PIPELINE_ID: '42',
  GITLAB_AWS_IDENTITY_TOKEN: TOKEN,
};

function assumed(request: Pick<WebIdentityExchange, 'durationSeconds' | 'roleSessionName'>): AssumedRole {
  return {
    credentials: {
      accessKeyId: 'ASIAEXAMPLEEXAMPLE01',
      secretAccessKey: 'secret-access-key-example',
      sessionToken: 'session-token-example',
      expiration: new Date(NOW + request.durationSeconds * 1000),
      accountId: '123456789012',
    },
    assumedRoleArn: `arn:aws:sts::123456789012:assumed-role/gitlab-group-project/${request.roleSessionName}`,
    assumedRoleId: 'AROAEXAMPLE:session',
  };
}

/** Runs obtainCredentials with a recording exchange and no network. */
async function obtainWith(env: Environment, flags: Parameters<typeof resolveSettings>[1] = {}) {
  const settings = resolveSettings('process', { cache: false, ...flags }, env);
  const warnings: string[] = [];
  const requests: WebIdentityExchange[] = [];
  const result = await obtainCredentials(settings, {
    env,
    now: () => NOW,
    warn: (line) => warnings.push(line),
    exchange: async (request) => {
      requests.push(request);
      return assumed(request);
    },
  });
  return { result, warnings, requests };
}

describe('sendsTokenInClear', () => {
  it.each([
    ['https://sts.eu-west-1.amazonaws.com', false],
    ['http://127.0.0.1:4566', false],
    ['http://localhost:4566/', false],
    ['http://[::1]:4566', false],
    ['http://localstack:4566', true],
    ['http://sts.example.com', true],
    ['not a url', false],
  ])('%s → %s', (endpoint, expected) => {
    expect(sendsTokenInClear(endpoint)).toBe(expected);
  });
});

describe('where the ID token goes', () => {
  it('warns once, naming the host and the variable, when only AWS_ENDPOINT_URL sends it elsewhere', async () => {
    const { warnings, requests } = await obtainWith({
      ...JOB_ENV,
      AWS_ENDPOINT_URL: 'https://localstack.internal:4566',
    });
    expect(requests.map((request) => request.endpoint)).toEqual(['https://localstack.internal:4566']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warning: the ID token goes to localstack\.internal, .*AWS_ENDPOINT_URL/);
    expect(warnings[0]).not.toContain('\n');
    expect(warnings[0]).not.toContain(TOKEN);
  });

  it.each<[string, Environment, Record<string, string>]>([
    ['AWS_ENDPOINT_URL naming AWS STS', { AWS_ENDPOINT_URL: 'https://sts.eu-west-1.amazonaws.com' }, {}],
    [
      'AWS_ENDPOINT_URL naming a VPC endpoint of STS',
      { AWS_ENDPOINT_URL: 'https://vpce-0abc-def.sts.us-east-1.vpce.amazonaws.com' },
      {},
    ],
    ['AWS_ENDPOINT_URL_STS', { AWS_ENDPOINT_URL_STS: 'https://sts-emulator.internal' }, {}],
    [
      'AWS_ENDPOINT_URL_STS beside AWS_ENDPOINT_URL',
      { AWS_ENDPOINT_URL: 'https://localstack:4566', AWS_ENDPOINT_URL_STS: 'https://sts.internal' },
      {},
    ],
    [
      '--endpoint-url',
      { AWS_ENDPOINT_URL: 'https://localstack:4566' },
      { endpointUrl: 'https://sts.internal' },
    ],
    ['the region', {}, {}],
  ])('is silent when the endpoint comes from %s', async (_name, extra, flags) => {
    const { warnings, requests } = await obtainWith({ ...JOB_ENV, ...extra }, flags);
    expect(requests).toHaveLength(1);
    expect(warnings).toEqual([]);
  });

  it('warns about plain HTTP and the all-services variable together, each on its own line', () => {
    const settings = resolveSettings(
      'process',
      {},
      { ...JOB_ENV, AWS_ENDPOINT_URL: 'http://minio.lan:9000' },
    );
    const warnings = tokenDestinationWarnings(settings);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/plain HTTP/);
    expect(warnings[1]).toMatch(/minio\.lan.*AWS_ENDPOINT_URL/);
  });
});

describe('obtainCredentials through its injection points', () => {
  const settingsFor = (command: 'process' | 'env', flags: Parameters<typeof resolveSettings>[1] = {}) =>
    resolveSettings(command, flags, JOB_ENV);

  it('sends the settings and the token to the exchange, bounded by the token’s life plus skew', async () => {
    const seen: Array<{ request: WebIdentityExchange; deadlineMs: number; maxAttempts: number }> = [];
    const secrets: string[] = [];
    const logLines: string[] = [];
    const result = await obtainCredentials(settingsFor('process', { cache: false, maxAttempts: '3' }), {
      env: JOB_ENV,
      now: () => NOW,
      log: (line) => logLines.push(line),
      secret: (value) => secrets.push(value),
      exchange: async (request, options) => {
        seen.push({ request, deadlineMs: options.deadlineMs, maxAttempts: options.maxAttempts });
        return assumed(request);
      },
    });
    expect(seen).toEqual([
      {
        request: {
          roleArn: 'arn:aws:iam::123456789012:role/gitlab-group-project',
          roleSessionName: 'gitlab-group-project-42',
          webIdentityToken: TOKEN,
          durationSeconds: 3600,
          region: 'us-east-1',
          endpoint: 'https://sts.us-east-1.amazonaws.com',
          token: {
            iss: 'https://gitlab.example.com',
            sub: 'project_path:group/project:ref_type:branch:ref:main',
            aud: 'https://gitlab.example.com',
            exp: NOW / 1000 + 3600,
          },
        },
        deadlineMs: NOW + (3600 + 300) * 1000,
        maxAttempts: 3,
      },
    ]);
    expect(result).toMatchObject({ fromCache: false, credentials: { accessKeyId: 'ASIAEXAMPLEEXAMPLE01' } });
    // Every secret is registered for redaction as soon as it is known, and none is logged.
    expect(secrets).toEqual([TOKEN, 'secret-access-key-example', 'session-token-example']);
    for (const secret of secrets) expect(logLines.join('\n')).not.toContain(secret);
  });

  it('fails on an expired token before any exchange', async () => {
    let exchanged = 0;
    const expired = { ...JOB_ENV, GITLAB_AWS_IDENTITY_TOKEN: unsignedToken({ exp: NOW / 1000 - 301 }) };
    await expect(
      obtainCredentials(resolveSettings('process', { cache: false }, expired), {
        env: expired,
        now: () => NOW,
        exchange: async (request) => {
          exchanged++;
          return assumed(request);
        },
      }),
    ).rejects.toMatchObject({ code: 'ExpiredToken' });
    expect(exchanged).toBe(0);
  });

  it('asks the cache first, reusing a set only for process, and skips it with --no-cache', async () => {
    const calls: Array<{ reuse: boolean | undefined; token: string }> = [];
    let exchanged = 0;
    const cache: CredentialCache = {
      async getOrCreate(token, request, produce, options) {
        calls.push({ reuse: options?.reuse, token });
        if (options?.reuse === false) return { ...(await produce()), fromCache: false };
        return { credentials: assumed(request).credentials, assumedRoleArn: undefined, fromCache: true };
      },
    };
    const deps = {
      env: JOB_ENV,
      now: () => NOW,
      cache,
      exchange: async (request: WebIdentityExchange) => {
        exchanged++;
        return assumed(request);
      },
    };
    expect((await obtainCredentials(settingsFor('process'), deps)).fromCache).toBe(true);
    expect(exchanged).toBe(0);
    expect((await obtainCredentials(settingsFor('env'), deps)).fromCache).toBe(false);
    expect(exchanged).toBe(1);
    expect(calls).toEqual([
      { reuse: true, token: TOKEN },
      { reuse: false, token: TOKEN },
    ]);
    await obtainCredentials(settingsFor('process', { cache: false }), deps);
    expect(calls).toHaveLength(2);
    expect(exchanged).toBe(2);
  });

  it('hands given HTTP agents to the exchange instead of the environment’s proxy', async () => {
    const httpsAgent = new HttpsAgent();
    const proxied = { ...JOB_ENV, HTTPS_PROXY: 'http://proxy.invalid:3128' };
    let given: HttpsAgent | undefined;
    await obtainCredentials(resolveSettings('process', { cache: false }, proxied), {
      env: proxied,
      now: () => NOW,
      httpsAgent,
      exchange: async (request, options) => {
        given = options.httpsAgent;
        expect(options.proxy).toBeUndefined();
        return assumed(request);
      },
    });
    expect(given).toBe(httpsAgent);
    httpsAgent.destroy();
  });
});
