import { Agent as HttpsAgent } from 'node:https';
import { describe, expect, it } from 'vitest';
import { ConfigError, FileError, NetworkError } from '../errors.js';
import { agentsForEndpoint } from './agents.js';
import { describeNetworkFailure } from './network-failures.js';
import { describeProxy, isProxyBypassed, resolveProxy } from './proxy.js';

const STS = 'https://sts.eu-west-1.amazonaws.com';
/** A self-signed test certificate (CN network-unit-test), valid until 2126; no key kept. */
const PEM = `-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUcBNnSBhXOswihrVxlfd61qnVi3wwCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRbmV0d29yay11bml0LXRlc3QwIBcNMjYxMTI3MDIxNDA5WhgP
MjEyNjExMDMwMjE0MDlaMBwxGjAYBgNVBAMMEW5ldHdvcmstdW5pdC10ZXN0MFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1ngyvyJGnPyC/sFqe/5p98um+ZoTJMUX
J2KH6oIUZUFqobGZ0WLyXp7GvAkShZf6VaVH3vyE4EmkWC4mckvrtaNTMFEwHQYD
VR0OBBYEFI5dFYruSIU2fchrMkVDLEJKdUPSMB8GA1UdIwQYMBaAFI5dFYruSIU2
fchrMkVDLEJKdUPSMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIg
PoQreekT+xwaRF+Pew0h+Vqgj0HQHkDoene6kNMyQ4MCIQDT3h/zgxkL4rUO+BVy
6iXLa5oUX/vtVVGwdEtxao+YeQ==
-----END CERTIFICATE-----`;
/** The same certificate with its body cut short. */
const PEM_LINES = PEM.split('\n');
const BROKEN_PEM = [...PEM_LINES.slice(0, 3), PEM_LINES.at(-1)].join('\n');

describe('isProxyBypassed', () => {
  const cases: Array<[noProxy: string, host: string, port: number, bypassed: boolean]> = [
    // exact host and domain suffixes (on label boundaries)
    ['sts.amazonaws.com', 'sts.amazonaws.com', 443, true],
    ['amazonaws.com', 'sts.eu-west-1.amazonaws.com', 443, true],
    ['.amazonaws.com', 'sts.eu-west-1.amazonaws.com', 443, true],
    ['.amazonaws.com', 'amazonaws.com', 443, true],
    ['*.amazonaws.com', 'sts.amazonaws.com', 443, true],
    ['*.amazonaws.com', 'amazonaws.com', 443, true],
    ['amazonaws.com', 'notamazonaws.com', 443, false],
    ['amazonaws.com', 'amazonaws.com.evil.example', 443, false],
    ['sts.amazonaws.com', 'amazonaws.com', 443, false],
    // `*` alone is everything, anywhere in the list
    ['*', 'anything.example', 443, true],
    ['internal.example, *', 'sts.amazonaws.com', 443, true],
    ['*.', 'sts.amazonaws.com', 443, false],
    // case, trailing dots and white space
    ['STS.AmazonAWS.com', 'sts.amazonaws.com', 443, true],
    ['amazonaws.com', 'STS.AMAZONAWS.COM.', 443, true],
    ['amazonaws.com.', 'sts.amazonaws.com', 443, true],
    ['  foo.example ,\tamazonaws.com\n', 'sts.amazonaws.com', 443, true],
    ['foo.example bar.example amazonaws.com', 'sts.amazonaws.com', 443, true],
    [',,, ,', 'sts.amazonaws.com', 443, false],
    ['', 'sts.amazonaws.com', 443, false],
    // ports
    ['sts.amazonaws.com:443', 'sts.amazonaws.com', 443, true],
    ['sts.amazonaws.com:8443', 'sts.amazonaws.com', 443, false],
    ['.amazonaws.com:443', 'sts.amazonaws.com', 443, true],
    ['sts.amazonaws.com:http', 'sts.amazonaws.com', 443, false],
    ['sts.amazonaws.com:0', 'sts.amazonaws.com', 443, false],
    ['sts.amazonaws.com:70000', 'sts.amazonaws.com', 443, false],
    // IP literals and CIDR; names are never resolved
    ['127.0.0.1', '127.0.0.1', 8080, true],
    ['127.0.0.1:8080', '127.0.0.1', 8080, true],
    ['127.0.0.1:8080', '127.0.0.1', 9090, false],
    ['10.0.0.0/8', '10.20.30.40', 443, true],
    ['10.0.0.0/8', '11.0.0.1', 443, false],
    ['10.0.0.0/33', '10.0.0.1', 443, false],
    ['0.0.1', '10.0.0.1', 443, false],
    ['127.0.0.1', '127.0.0.10', 443, false],
    ['localhost', '127.0.0.1', 443, false],
    ['127.0.0.1', 'localhost', 443, false],
    ['::1', '::1', 443, true],
    ['::1', '[::1]', 443, true],
    ['[::1]', '::1', 443, true],
    ['[::1]:8443', '::1', 8443, true],
    ['[::1]:8443', '::1', 443, false],
    ['0:0:0:0:0:0:0:1', '::1', 443, true],
    ['fd00::/8', 'fd12::5', 443, true],
    ['fd00::/8', 'fe80::1', 443, false],
    // loopback is not implicit
    ['example.com', 'localhost', 443, false],
    ['example.com', '127.0.0.1', 443, false],
  ];

  it.each(cases)('NO_PROXY=%j, host %s:%i → bypassed %s', (noProxy, host, port, bypassed) => {
    expect(isProxyBypassed(noProxy, host, port)).toBe(bypassed);
  });
});

describe('resolveProxy', () => {
  it('uses nothing when no proxy variable is set', () => {
    expect(resolveProxy(STS, {})).toBeUndefined();
    expect(resolveProxy(STS, { HTTPS_PROXY: '', https_proxy: '  ' })).toBeUndefined();
  });

  it('prefers lowercase over uppercase for https', () => {
    const proxy = resolveProxy(STS, { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' });
    expect(proxy?.variable).toBe('https_proxy');
    expect(proxy?.url.host).toBe('lower:2');
  });

  it('falls back to uppercase, then all_proxy / ALL_PROXY, but never to http_proxy for https', () => {
    expect(resolveProxy(STS, { HTTPS_PROXY: 'http://upper:1', all_proxy: 'http://all:3' })?.variable).toBe(
      'HTTPS_PROXY',
    );
    expect(resolveProxy(STS, { all_proxy: 'http://all:3', ALL_PROXY: 'http://ALL:4' })?.variable).toBe(
      'all_proxy',
    );
    expect(resolveProxy(STS, { ALL_PROXY: 'http://ALL:4' })?.variable).toBe('ALL_PROXY');
    expect(resolveProxy(STS, { http_proxy: 'http://h:1', HTTP_PROXY: 'http://H:1' })).toBeUndefined();
  });

  it('uses http_proxy, then HTTP_PROXY (unlike curl), for http endpoints', () => {
    const endpoint = 'http://127.0.0.1:9000/';
    expect(resolveProxy(endpoint, { http_proxy: 'http://a:1', HTTP_PROXY: 'http://b:1' })?.variable).toBe(
      'http_proxy',
    );
    expect(resolveProxy(endpoint, { HTTP_PROXY: 'http://b:1' })?.variable).toBe('HTTP_PROXY');
    expect(resolveProxy(endpoint, { HTTPS_PROXY: 'http://c:1' })).toBeUndefined();
  });

  it('prefers no_proxy over NO_PROXY', () => {
    const env = { HTTPS_PROXY: 'http://proxy:3128', no_proxy: 'other.example', NO_PROXY: 'amazonaws.com' };
    expect(resolveProxy(STS, env)?.variable).toBe('HTTPS_PROXY');
    expect(resolveProxy(STS, { ...env, no_proxy: '' })).toBeUndefined();
  });

  it('defaults a proxy without scheme to http:// and keeps credentials', () => {
    const proxy = resolveProxy(STS, { HTTPS_PROXY: 'user:p%40ss@proxy.corp:3128' });
    expect(proxy?.url.protocol).toBe('http:');
    expect(proxy?.url.host).toBe('proxy.corp:3128');
    expect(decodeURIComponent(proxy?.url.password ?? '')).toBe('p@ss');
  });

  it('rejects unusable proxy URLs without echoing them, but only when they would be used', () => {
    const bad = { HTTPS_PROXY: 'http://user:pa ss/wo@rd@proxy:3128' };
    const error = catchError(() => resolveProxy(STS, bad));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'InvalidProxyUrl' });
    expect(`${error.message} ${(error as ConfigError).hint}`).not.toMatch(/pa ss|wo@rd/);
    expect(resolveProxy(STS, { ...bad, NO_PROXY: 'amazonaws.com' })).toBeUndefined();

    const socks = catchError(() => resolveProxy(STS, { ALL_PROXY: 'socks5://u:secret@proxy:1080' }));
    expect(socks).toMatchObject({ code: 'UnsupportedProxyScheme' });
    expect(socks.message).toContain('socks5://u:****@proxy:1080');
    expect(socks.message).not.toContain('secret');
  });

  it('rejects an endpoint that is not an http(s) URL', () => {
    expect(catchError(() => resolveProxy('sts.amazonaws.com', {}))).toMatchObject({
      code: 'InvalidEndpoint',
    });
  });
});

describe('describeProxy', () => {
  it.each([
    ['http://user:s3cr3t@proxy:3128', 'http://user:****@proxy:3128'],
    ['http://user:s3cr3t@proxy:3128/', 'http://user:****@proxy:3128'],
    ['https://user:p%40ss%3Aw@proxy.corp', 'https://user:****@proxy.corp'],
    ['http://tokenonly@proxy:8080', 'http://****@proxy:8080'],
    ['proxy.corp:3128', 'http://proxy.corp:3128'],
    ['http://proxy:80', 'http://proxy'],
    ['http://user:****@proxy:3128', 'http://user:****@proxy:3128'],
    ['http://user:s3cr3t/x@proxy:3128', '(unparsable proxy URL, not shown)'],
    ['http://[::1', '(unparsable proxy URL, not shown)'],
  ])('%s → %s', (input, expected) => {
    expect(describeProxy(input)).toBe(expected);
  });

  it('accepts a URL object', () => {
    expect(describeProxy(new URL('http://a:b@proxy:1'))).toBe('http://a:****@proxy:1');
  });
});

describe('agentsForEndpoint', () => {
  const noRead = (): Promise<string> => Promise.reject(new Error('must not read'));

  it('returns nothing when nothing is configured or the proxy is bypassed', async () => {
    expect(await agentsForEndpoint(STS, {}, { readFile: noRead })).toBeUndefined();
    expect(
      await agentsForEndpoint(STS, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.amazonaws.com' }),
    ).toBeUndefined();
    // A CA bundle is irrelevant to a plain-http endpoint without an https proxy.
    expect(
      await agentsForEndpoint('http://127.0.0.1:1/', { AWS_CA_BUNDLE: '/nope.pem' }, { readFile: noRead }),
    ).toBeUndefined();
  });

  it('builds an https agent with the CA bundle as its only trust', async () => {
    const agents = await agentsForEndpoint(
      STS,
      { AWS_CA_BUNDLE: '/etc/corp.pem' },
      { readFile: () => Promise.resolve(`# corporate roots\n${PEM}\n\n${PEM}\n`) },
    );
    expect(agents?.httpsAgent).toBeInstanceOf(HttpsAgent);
    expect(agents?.httpsAgent?.options.ca).toEqual([PEM, PEM]);
    expect(agents?.caBundle).toBe('/etc/corp.pem');
    expect(agents?.proxy).toBeUndefined();
  });

  it('rejects a bundle with a damaged certificate, naming which one', async () => {
    const error = await agentsForEndpoint(
      STS,
      { AWS_CA_BUNDLE: '/etc/corp.pem' },
      { readFile: () => Promise.resolve(`${PEM}\n${BROKEN_PEM}\n`) },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FileError);
    expect(error).toMatchObject({ code: 'CaBundleInvalid' });
    expect((error as FileError).message).toBe(
      'certificate 2 of the CA bundle /etc/corp.pem named by AWS_CA_BUNDLE is not a valid X.509 certificate',
    );
  });

  it('reports an unreadable or empty CA bundle as a FileError naming the path', async () => {
    const missing = await agentsForEndpoint(STS, { AWS_CA_BUNDLE: '/does/not/exist.pem' }).catch(
      (error: unknown) => error,
    );
    expect(missing).toBeInstanceOf(FileError);
    expect(missing).toMatchObject({ code: 'CaBundleUnreadable' });
    expect((missing as FileError).message).toBe(
      'cannot read the CA bundle /does/not/exist.pem named by AWS_CA_BUNDLE (ENOENT)',
    );
    expect((missing as FileError).hint).toContain('AWS_CA_BUNDLE');

    const empty = await agentsForEndpoint(
      STS,
      { AWS_CA_BUNDLE: '/empty.pem' },
      { readFile: () => Promise.resolve('') },
    ).catch((error: unknown) => error);
    expect(empty).toMatchObject({ code: 'CaBundleInvalid' });
  });

  it('builds a tunnelling https agent for a proxy, describing it masked', async () => {
    const agents = await agentsForEndpoint(STS, { https_proxy: 'http://u:topsecret@proxy:3128' });
    expect(agents?.httpsAgent).toBeInstanceOf(HttpsAgent);
    expect(agents?.httpAgent).toBeUndefined();
    expect(agents?.proxy).toBe('http://u:****@proxy:3128');
    expect(agents?.proxyVariable).toBe('https_proxy');
    expect(agents?.caBundle).toBeUndefined();
    agents?.httpsAgent?.destroy();
  });

  it('builds a tunnelling http agent for an http endpoint', async () => {
    const agents = await agentsForEndpoint('http://127.0.0.1:9000', { HTTP_PROXY: 'http://proxy:3128' });
    expect(agents?.httpAgent).toBeDefined();
    expect(agents?.httpsAgent).toBeUndefined();
    agents?.httpAgent?.destroy();
  });
});

describe('describeNetworkFailure', () => {
  const withProxy = { endpoint: STS, proxy: 'http://u:topsecret@proxy:3128', proxyVariable: 'HTTPS_PROXY' };

  function errno(code: string, message = code): Error {
    return Object.assign(new Error(message), { code });
  }

  it('returns NetworkErrors from our agents unchanged', () => {
    const error = new NetworkError({ code: 'ProxyForbidden', message: 'x' });
    expect(describeNetworkFailure(error, withProxy)).toBe(error);
  });

  it('explains untrusted certificates and points at AWS_CA_BUNDLE', () => {
    const failure = describeNetworkFailure(errno('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate'), {
      endpoint: STS,
    });
    expect(failure).toMatchObject({ code: 'TlsCertificateUntrusted', retryable: false });
    expect(failure?.message).toBe(
      'the TLS certificate of sts.eu-west-1.amazonaws.com:443 is not trusted (SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate)',
    );
    expect(failure?.hint).toContain('set AWS_CA_BUNDLE');

    const withBundle = describeNetworkFailure(errno('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), {
      ...withProxy,
      caBundle: '/etc/corp.pem',
    });
    expect(withBundle?.message).toContain('through the proxy http://u:****@proxy:3128 (from HTTPS_PROXY)');
    expect(withBundle?.hint).toContain('AWS_CA_BUNDLE=/etc/corp.pem');
  });

  it('explains expired and misnamed certificates', () => {
    expect(describeNetworkFailure(errno('CERT_HAS_EXPIRED'), { endpoint: STS })?.code).toBe(
      'TlsCertificateExpired',
    );
    expect(describeNetworkFailure(errno('ERR_TLS_CERT_ALTNAME_INVALID'), { endpoint: STS })?.code).toBe(
      'TlsCertificateNameMismatch',
    );
  });

  it('classifies socket errors and time-outs without a proxy too, and leaves the rest to the caller', () => {
    expect(describeNetworkFailure(errno('ECONNREFUSED'), { endpoint: STS })).toMatchObject({
      code: 'ECONNREFUSED',
      message: `the request to STS at ${STS} failed (ECONNREFUSED)`,
      retryable: true,
    });
    expect(describeNetworkFailure(errno('ENOTFOUND'), { endpoint: STS })).toMatchObject({
      code: 'ENOTFOUND',
      message: `the request to STS at ${STS} failed: the host name does not resolve (ENOTFOUND)`,
      retryable: false,
    });
    const timeout = Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
    expect(describeNetworkFailure(timeout, { endpoint: STS })).toMatchObject({
      code: 'TimeoutError',
      message: `the request to STS at ${STS} timed out`,
      retryable: true,
    });
    expect(describeNetworkFailure(new Error('boom'), { endpoint: STS })).toBeUndefined();
    expect(describeNetworkFailure(new Error('boom'), withProxy)).toBeUndefined();
  });

  it('names the proxy (masked) for tunnel refusals and timeouts', () => {
    const denied = describeNetworkFailure(new Error('Bad response: 407'), withProxy);
    expect(denied).toMatchObject({ code: 'ProxyAuthenticationRequired', httpStatus: 407, retryable: false });
    expect(denied?.message).toBe(
      'the proxy http://u:****@proxy:3128 (from HTTPS_PROXY) refused a tunnel to sts.eu-west-1.amazonaws.com:443: credentials rejected (HTTP 407)',
    );
    expect(denied?.hint).toContain('check the user and password in HTTPS_PROXY');
    const anonymous = describeNetworkFailure(new Error('Bad response: 407'), {
      ...withProxy,
      proxy: 'http://proxy:3128',
    });
    expect(anonymous?.message).toContain('authentication required (HTTP 407)');
    expect(anonymous?.hint).toContain('give the proxy credentials in HTTPS_PROXY');
    expect(describeNetworkFailure(new Error('Bad response: 401'), withProxy)?.code).toBe(
      'ProxyAuthenticationRequired',
    );
    expect(denied?.hint).toMatch(/HTTPS_PROXY.*NO_PROXY/);

    const forbidden = describeNetworkFailure(new Error('Bad response: 403'), withProxy);
    expect(forbidden).toMatchObject({ code: 'ProxyForbidden', retryable: false });
    expect(describeNetworkFailure(new Error('Bad response: 503'), withProxy)).toMatchObject({
      code: 'ProxyRefused',
      retryable: true,
    });

    const timeout = describeNetworkFailure(
      Object.assign(new Error('socket did not connect'), { name: 'TimeoutError' }),
      withProxy,
    );
    expect(timeout).toMatchObject({ code: 'TimeoutError', retryable: true });
    expect(timeout?.message).toBe(
      `the request to STS at ${STS} through the proxy http://u:****@proxy:3128 (from HTTPS_PROXY) timed out`,
    );

    for (const failure of [denied, forbidden, timeout]) {
      expect(`${failure?.message} ${failure?.hint}`).not.toContain('topsecret');
    }
  });
});

function catchError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`);
  }
  throw new Error('expected an error');
}
