/**
 * The agents from src/platform/network.ts with the real AWS SDK STS client, against the STS
 * emulator (plain HTTP, and behind an HTTPS front signed by a test CA) and a real tinyproxy.
 */
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HelperError, NetworkError } from '../../src/errors.js';
import { agentsForEndpoint, type EndpointAgents } from '../../src/platform/agents.js';
import { describeNetworkFailure } from '../../src/platform/network-failures.js';
import { toExchangeError } from '../../src/sts/errors.js';
import { exchangeWebIdentityToken } from '../../src/sts/exchange.js';
import { startTestBed, type TestBed } from '../support/bed.js';
import { findTinyproxy, startTinyproxy, type Tinyproxy } from './tinyproxy.js';
import { createTestPki, type HttpsFront, startHttpsFront, type TestPki } from './tls.js';

/** A bound against a hang, not a measure: the local proxy and STS may be slow on a busy machine. */
const TIMEOUT_MS = 120_000;
const IN_CI = process.env.CI === 'true';
const TINYPROXY = findTinyproxy();
const SKIP_PROXY = TINYPROXY === undefined && !IN_CI;
const PROXY_SUITE = SKIP_PROXY
  ? 'through tinyproxy — SKIPPED: tinyproxy is not installed (apt-get install -y tinyproxy); with CI=true this fails instead'
  : 'through tinyproxy';

let bed: TestBed;
let pki: TestPki;
let front: HttpsFront;

beforeAll(async () => {
  // As src/sts/exchange.ts does: the SDK's Node support notice is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  bed = await startTestBed();
  pki = await createTestPki();
  front = await startHttpsFront(pki, bed.sts.url);
});

afterAll(async () => {
  await front?.stop();
  await pki?.remove();
  await bed?.stop();
});

/** One AssumeRoleWithWebIdentity with the real SDK, as src/sts/exchange.ts configures it. */
async function assumeRole(endpoint: string, agents: EndpointAgents | undefined): Promise<string> {
  const client = new STSClient({
    region: 'us-east-1',
    endpoint,
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: TIMEOUT_MS,
      requestTimeout: TIMEOUT_MS,
      throwOnRequestTimeout: true,
      ...(agents?.httpAgent === undefined ? {} : { httpAgent: agents.httpAgent }),
      ...(agents?.httpsAgent === undefined ? {} : { httpsAgent: agents.httpsAgent }),
    },
  });
  try {
    const response = await client.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: bed.roleArn,
        RoleSessionName: 'network-test',
        WebIdentityToken: await bed.mint(),
      }),
    );
    return response.AssumedRoleUser?.Arn ?? '';
  } finally {
    client.destroy();
  }
}

async function failure(run: Promise<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (error) {
    return error;
  }
  throw new Error('expected the request to fail');
}

function textOf(error: unknown): string {
  if (!(error instanceof HelperError)) return String(error);
  return `${error.message}\n${error.hint ?? ''}\n${String(error.cause)}`;
}

describe('AWS_CA_BUNDLE without a proxy', () => {
  it('trusts the bundle: an endpoint signed by a private CA answers', async () => {
    const agents = await agentsForEndpoint(front.url, { AWS_CA_BUNDLE: pki.caFile });
    expect(agents?.caBundle).toBe(pki.caFile);
    expect(agents?.proxy).toBeUndefined();
    const before = front.secureConnections();
    expect(await assumeRole(front.url, agents)).toMatch(/^arn:aws:sts::\d{12}:assumed-role\//);
    expect(front.secureConnections()).toBe(before + 1);
  });

  it('without the bundle, the TLS failure is explained and points at AWS_CA_BUNDLE', async () => {
    expect(await agentsForEndpoint(front.url, {})).toBeUndefined();
    const error = await failure(assumeRole(front.url, undefined));
    const described = describeNetworkFailure(error, { endpoint: front.url });
    expect(described).toBeInstanceOf(NetworkError);
    expect(described).toMatchObject({ code: 'TlsCertificateUntrusted', retryable: false });
    expect(described?.message).toMatch(
      /^the TLS certificate of 127\.0\.0\.1:\d+ is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE: /,
    );
    expect(described?.hint).toContain('set AWS_CA_BUNDLE');
  });

  it('a bundle without the signing CA replaces the default roots and fails clearly', async () => {
    const agents = await agentsForEndpoint(front.url, { AWS_CA_BUNDLE: pki.otherCaFile });
    const error = await failure(assumeRole(front.url, agents));
    const described = describeNetworkFailure(error, { endpoint: front.url, caBundle: agents?.caBundle });
    expect(described?.code).toBe('TlsCertificateUntrusted');
    expect(described?.hint).toContain(`AWS_CA_BUNDLE=${pki.otherCaFile}`);
  });

  it('an unreadable bundle is a FileError naming the path', async () => {
    const error = await failure(agentsForEndpoint(front.url, { AWS_CA_BUNDLE: `${pki.dir}/missing.pem` }));
    expect(error).toMatchObject({ code: 'CaBundleUnreadable', origin: 'file' });
    expect((error as HelperError).message).toContain(`${pki.dir}/missing.pem`);
  });
});

describe.skipIf(SKIP_PROXY)(PROXY_SUITE, () => {
  let open: Tinyproxy;
  let restricted: Tinyproxy;
  let authenticated: Tinyproxy;
  const stsPort = (): number => Number(new URL(bed.sts.url).port);

  beforeAll(async () => {
    if (TINYPROXY === undefined) {
      throw new Error('tinyproxy is required when CI=true: install it with apt-get install -y tinyproxy');
    }
    [open, restricted, authenticated] = await Promise.all([
      startTinyproxy(),
      startTinyproxy({ connectPorts: [443] }),
      startTinyproxy({ basicAuth: { user: 'alice', password: 's3cr3t-proxy-pw' } }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([open?.stop(), restricted?.stop(), authenticated?.stop()]);
  });

  it('sends an http endpoint through HTTP_PROXY (CONNECT tunnel)', async () => {
    const agents = await agentsForEndpoint(bed.sts.url, { HTTP_PROXY: open.url }, { timeoutMs: TIMEOUT_MS });
    expect(agents?.proxy).toBe(open.url);
    expect(agents?.proxyVariable).toBe('HTTP_PROXY');
    const exchanges = bed.sts.exchangeCount();
    expect(await assumeRole(bed.sts.url, agents)).toContain(':assumed-role/');
    expect(bed.sts.exchangeCount()).toBe(exchanges + 1);
    expect(open.connectTargets()).toContain(`127.0.0.1:${stsPort()}`);
  });

  it('goes direct when NO_PROXY lists the host: the proxy sees nothing', async () => {
    const seen = open.connectTargets().length;
    const env = { HTTP_PROXY: open.url, NO_PROXY: 'example.com, 127.0.0.1' };
    expect(await agentsForEndpoint(bed.sts.url, env)).toBeUndefined();
    const exchanges = bed.sts.exchangeCount();
    expect(await assumeRole(bed.sts.url, undefined)).toContain(':assumed-role/');
    expect(bed.sts.exchangeCount()).toBe(exchanges + 1);
    expect(open.connectTargets()).toHaveLength(seen);
  });

  it('authenticates to the proxy with credentials from the URL', async () => {
    const proxy = `http://alice:s3cr3t-proxy-pw@127.0.0.1:${authenticated.port}`;
    const agents = await agentsForEndpoint(bed.sts.url, { http_proxy: proxy }, { timeoutMs: TIMEOUT_MS });
    expect(agents?.proxy).toBe(`http://alice:****@127.0.0.1:${authenticated.port}`);
    expect(await assumeRole(bed.sts.url, agents)).toContain(':assumed-role/');
    expect(authenticated.connectTargets()).toContain(`127.0.0.1:${stsPort()}`);
  });

  it('a proxy asking for credentials (407) names the masked proxy and says how to give them', async () => {
    const agents = await agentsForEndpoint(bed.sts.url, { HTTP_PROXY: authenticated.url });
    const error = await failure(assumeRole(bed.sts.url, agents));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'ProxyAuthenticationRequired', httpStatus: 407, retryable: false });
    expect((error as NetworkError).message).toBe(
      `the proxy ${authenticated.url} (from HTTP_PROXY) refused a tunnel to 127.0.0.1:${stsPort()}: authentication required (HTTP 407)`,
    );
    expect((error as NetworkError).hint).toContain('give the proxy credentials in HTTP_PROXY');
  });

  it('a wrong proxy password names the masked proxy, never the password', async () => {
    const proxy = `http://alice:wrong-pw-123@127.0.0.1:${authenticated.port}`;
    const agents = await agentsForEndpoint(bed.sts.url, { HTTP_PROXY: proxy }, { timeoutMs: TIMEOUT_MS });
    const error = await failure(assumeRole(bed.sts.url, agents));
    expect(error).toBeInstanceOf(NetworkError);
    // tinyproxy answers wrong credentials with 401 rather than 407.
    expect(error).toMatchObject({ code: 'ProxyAuthenticationRequired', retryable: false });
    expect((error as NetworkError).message.replace(/HTTP 40[17]\)$/, 'HTTP 40x)')).toBe(
      `the proxy http://alice:****@127.0.0.1:${authenticated.port} (from HTTP_PROXY) refused a tunnel to 127.0.0.1:${stsPort()}: credentials rejected (HTTP 40x)`,
    );
    expect((error as NetworkError).hint).toMatch(/check the user and password in HTTP_PROXY.*NO_PROXY/);
    expect(textOf(error)).not.toContain('wrong-pw-123');
  });

  it('a proxy that forbids the tunnel (403) fails once, with a clear error, through the exchange module', async () => {
    const agents = await agentsForEndpoint(bed.sts.url, {
      HTTPS_PROXY: 'unused',
      HTTP_PROXY: restricted.url,
    });
    const error = await failure(
      exchangeWebIdentityToken(
        {
          roleArn: bed.roleArn,
          roleSessionName: 'network-test',
          webIdentityToken: await bed.mint(),
          durationSeconds: 3600,
          region: 'us-east-1',
          endpoint: bed.sts.url,
          token: {},
        },
        {
          maxAttempts: 3,
          timeoutMs: TIMEOUT_MS,
          deadlineMs: Date.now() + 3_600_000,
          sleep: () => Promise.resolve(),
          ...(agents?.httpAgent === undefined ? {} : { httpAgent: agents.httpAgent }),
        },
      ),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'ProxyForbidden', httpStatus: 403, retryable: false });
    expect((error as NetworkError).message).toBe(
      `the proxy ${restricted.url} (from HTTP_PROXY) refused a tunnel to 127.0.0.1:${stsPort()} (HTTP 403)`,
    );
    expect((error as NetworkError).hint).toContain('check HTTP_PROXY and NO_PROXY');
    expect(restricted.connectTargets()).toEqual([`127.0.0.1:${stsPort()}`]);
  });

  it('a proxy nobody listens on is ProxyUnreachable, and the STS error mapping keeps it', async () => {
    const dead = `http://user:dead-pw-456@127.0.0.1:${open.port}`;
    await open.stop();
    try {
      const agents = await agentsForEndpoint(bed.sts.url, { HTTP_PROXY: dead }, { timeoutMs: TIMEOUT_MS });
      const error = await failure(assumeRole(bed.sts.url, agents));
      const mapped = toExchangeError(error, {
        roleArn: bed.roleArn,
        endpoint: bed.sts.url,
        durationSeconds: 3600,
        region: 'us-east-1',
        token: {},
      });
      expect(mapped).toBe(error);
      expect(mapped).toMatchObject({ code: 'ProxyUnreachable', origin: 'network', retryable: true });
      expect(mapped.message).toBe(
        `could not connect to the proxy http://user:****@127.0.0.1:${open.port} (from HTTP_PROXY) (ECONNREFUSED)`,
      );
      expect(textOf(mapped)).not.toContain('dead-pw-456');
    } finally {
      open = await startTinyproxy();
    }
  });

  it('reaches an https endpoint through the proxy with CONNECT and the custom CA', async () => {
    const env = { HTTPS_PROXY: open.url, AWS_CA_BUNDLE: pki.caFile };
    const agents = await agentsForEndpoint(front.url, env, { timeoutMs: TIMEOUT_MS });
    expect(agents).toMatchObject({ proxy: open.url, proxyVariable: 'HTTPS_PROXY', caBundle: pki.caFile });
    const handshakes = front.secureConnections();
    expect(await assumeRole(front.url, agents)).toContain(':assumed-role/');
    expect(front.secureConnections()).toBe(handshakes + 1);
    expect(open.connectTargets()).toContain(`127.0.0.1:${front.port}`);
  });

  it('through the proxy without the CA, the TLS error names the endpoint and the proxy', async () => {
    const agents = await agentsForEndpoint(front.url, { HTTPS_PROXY: open.url }, { timeoutMs: TIMEOUT_MS });
    const error = await failure(assumeRole(front.url, agents));
    const described = describeNetworkFailure(error, {
      endpoint: front.url,
      proxy: agents?.proxy,
      proxyVariable: agents?.proxyVariable,
    });
    expect(described?.code).toBe('TlsCertificateUntrusted');
    expect(described?.message).toContain(
      `127.0.0.1:${front.port} through the proxy ${open.url} (from HTTPS_PROXY)`,
    );
  });
});
