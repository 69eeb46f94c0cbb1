/**
 * The built CLI behind a real forward proxy (tinyproxy): the STS call goes through a CONNECT
 * tunnel for an https endpoint (HTTPS_PROXY, a private CA in AWS_CA_BUNDLE) and for the plain-http
 * test-bed STS (HTTP_PROXY), NO_PROXY goes direct, and a proxy that refuses is one line on stderr
 * naming the proxy with its password masked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTinyproxy, startTinyproxy, type Tinyproxy } from '../../network/tinyproxy.js';
import { createTestPki, type HttpsFront, startHttpsFront, type TestPki } from '../../network/tls.js';
import { startTestBed, type TestBed } from '../../support/bed.js';
import { assertBuilt, createJob, type Job, type RunResult, runCli } from '../harness.js';

const PROXY_USER = 'alice';
const PROXY_PASSWORD = 'S3cretProxyPass';
const SKIP = findTinyproxy() === undefined && process.env.CI !== 'true';

let bed: TestBed;
let pki: TestPki;
let front: HttpsFront;
/** Allows CONNECT to the STS and to the https front only. */
let open: Tinyproxy;
/** The same, but only with PROXY_USER:PROXY_PASSWORD. */
let guarded: Tinyproxy;
/** Allows CONNECT to port 443 only: refuses ours with 403. */
let refusing: Tinyproxy;
let job: Job;

const stsPort = (): number => Number(new URL(bed.sts.url).port);
const withPassword = (proxy: Tinyproxy, password = PROXY_PASSWORD): string =>
  `http://${PROXY_USER}:${password}@127.0.0.1:${proxy.port}`;
const masked = (proxy: Tinyproxy): string => `http://${PROXY_USER}:****@127.0.0.1:${proxy.port}`;

/** `process --no-cache` against the https front, so that every run really crosses the proxy. */
function viaHttps(env: Record<string, string | undefined>, args: readonly string[] = []): Promise<RunResult> {
  return runCli(['process', '--no-cache', '--endpoint-url', front.url, ...args], {
    ...job.env,
    AWS_CA_BUNDLE: pki.caFile,
    ...env,
  });
}

function expectCredentials(result: RunResult): void {
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe('');
  expect(JSON.parse(result.stdout)).toMatchObject({
    Version: 1,
    AccessKeyId: expect.stringMatching(/^ASIA/),
  });
}

function expectOneLine(result: RunResult, pattern: RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^gitlab-aws-credential-helper: [^\n]+\n$/);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toContain(PROXY_PASSWORD);
}

describe.skipIf(SKIP)('through a real proxy (tinyproxy)', () => {
  beforeAll(async () => {
    assertBuilt();
    if (findTinyproxy() === undefined)
      throw new Error('tinyproxy is required when CI=true (apt-get install -y tinyproxy)');
    bed = await startTestBed();
    pki = await createTestPki();
    front = await startHttpsFront(pki, bed.sts.url);
    const ports = [stsPort(), front.port];
    [open, guarded, refusing] = await Promise.all([
      startTinyproxy({ connectPorts: ports }),
      startTinyproxy({ connectPorts: ports, basicAuth: { user: PROXY_USER, password: PROXY_PASSWORD } }),
      startTinyproxy({ connectPorts: [443] }),
    ]);
    job = await createJob(bed, await bed.mint());
  });
  afterAll(async () => {
    await job?.cleanup();
    await Promise.all([open?.stop(), guarded?.stop(), refusing?.stop()]);
    await front?.stop();
    await pki?.remove();
    await bed?.stop();
  });

  it('process: an https endpoint through HTTPS_PROXY, a CONNECT tunnel, the private CA from AWS_CA_BUNDLE', async () => {
    const exchanges = bed.sts.exchangeCount();
    const handshakes = front.secureConnections();
    expectCredentials(await viaHttps({ HTTPS_PROXY: open.url }));
    expect(open.connectTargets()).toEqual([`127.0.0.1:${front.port}`]);
    expect(front.secureConnections()).toBe(handshakes + 1);
    expect(bed.sts.exchangeCount()).toBe(exchanges + 1);
  });

  it('process: the plain-http test-bed STS through HTTP_PROXY (also a CONNECT tunnel)', async () => {
    const seen = open.connectTargets().length;
    const result = await runCli(['process', '--no-cache'], { ...job.env, HTTP_PROXY: open.url });
    expectCredentials(result);
    expect(open.connectTargets().slice(seen)).toEqual([`127.0.0.1:${stsPort()}`]);
  });

  it('authenticates with the password from the URL, and --debug shows the proxy masked', async () => {
    const seen = guarded.connectTargets().length;
    const plain = await viaHttps({ HTTPS_PROXY: withPassword(guarded) });
    expectCredentials(plain);
    const debug = await viaHttps({ HTTPS_PROXY: withPassword(guarded) }, ['--debug']);
    expect(debug.code, debug.stderr).toBe(0);
    expect(debug.stderr).toContain(`[debug] using proxy ${masked(guarded)} (from HTTPS_PROXY)`);
    expect(debug.stderr).not.toContain(PROXY_PASSWORD);
    expect(guarded.connectTargets().slice(seen)).toEqual([
      `127.0.0.1:${front.port}`,
      `127.0.0.1:${front.port}`,
    ]);
  });

  it('env -- CMD and aws-profile go through the proxy too', async () => {
    const seen = guarded.connectTargets().length;
    const env = { ...job.env, HTTP_PROXY: withPassword(guarded) };
    const child = await runCli(['env', '--no-cache', '--', 'sh', '-c', 'echo "$AWS_ACCESS_KEY_ID"'], env);
    expect(child.code, child.stderr).toBe(0);
    expect(child.stdout).toMatch(/^ASIA[A-Z0-9]{16}\n$/);
    const profile = await runCli(['aws-profile', '--no-cache', '--name', 'proxied'], env);
    expect(profile.code, profile.stderr).toBe(0);
    expect(guarded.connectTargets().slice(seen)).toEqual([
      `127.0.0.1:${stsPort()}`,
      `127.0.0.1:${stsPort()}`,
    ]);
  });

  it('goes direct when NO_PROXY lists the host: the proxy sees nothing, a dead proxy does not matter', async () => {
    const seen = open.connectTargets().length;
    expectCredentials(await viaHttps({ HTTPS_PROXY: open.url, NO_PROXY: 'example.com,127.0.0.1' }));
    expectCredentials(
      await viaHttps({ https_proxy: withPassword(open), no_proxy: `127.0.0.1:${front.port}` }),
    );
    expectCredentials(await viaHttps({ HTTPS_PROXY: 'http://127.0.0.1:1', NO_PROXY: '*' }));
    expect(open.connectTargets()).toHaveLength(seen);
    // NO_PROXY for another port of the same host does not bypass.
    expectCredentials(await viaHttps({ HTTPS_PROXY: open.url, NO_PROXY: '127.0.0.1:1' }));
    expect(open.connectTargets()).toHaveLength(seen + 1);
  });

  it('a proxy that refuses the tunnel (403): one line naming the masked proxy, STS never reached', async () => {
    const exchanges = bed.sts.exchangeCount();
    const result = await viaHttps({ HTTPS_PROXY: withPassword(refusing) });
    expectOneLine(
      result,
      new RegExp(
        `^gitlab-aws-credential-helper: the proxy ${masked(refusing).replaceAll('*', '\\*')} \\(from HTTPS_PROXY\\) ` +
          `refused a tunnel to 127\\.0\\.0\\.1:${front.port} \\(HTTP 403\\)\\. Fix: .*NO_PROXY`,
      ),
    );
    // 403 is final: one CONNECT, no retries.
    expect(refusing.connectTargets()).toEqual([`127.0.0.1:${front.port}`]);
    expect(bed.sts.exchangeCount()).toBe(exchanges);
  });

  it('a wrong proxy password: one line, credentials rejected, the password masked', async () => {
    const result = await viaHttps({ HTTPS_PROXY: withPassword(guarded, 'Wr0ngProxyPassword') });
    expectOneLine(
      result,
      /the proxy http:\/\/alice:\*\*\*\*@127\.0\.0\.1:\d+ \(from HTTPS_PROXY\) refused a tunnel .*credentials rejected/,
    );
    expect(result.stderr).not.toContain('Wr0ngProxyPassword');
  });

  it('a proxy nobody listens on: one line naming the masked proxy, after the retries', async () => {
    const result = await viaHttps({ HTTPS_PROXY: `http://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:1` }, [
      '--max-attempts',
      '2',
    ]);
    expectOneLine(
      result,
      /could not connect to the proxy http:\/\/alice:\*\*\*\*@127\.0\.0\.1:1 \(from HTTPS_PROXY\) \(ECONNREFUSED\) \(gave up after 2 attempts\)/,
    );
  });
});
