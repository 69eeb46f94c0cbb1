/**
 * Proxies and private CAs for the connection to STS. The AWS SDK for JavaScript v3 reads neither
 * HTTPS_PROXY/NO_PROXY nor AWS_CA_BUNDLE, and Node's own env-proxy mode does not reach the agents
 * the SDK creates, so we read them here and hand the SDK ready agents.
 *
 * Rules, chosen to match curl and the AWS CLI where they agree:
 * - https endpoints use `https_proxy`, then `HTTPS_PROXY`, then `all_proxy`/`ALL_PROXY`; http
 *   endpoints use `http_proxy`, `HTTP_PROXY`, then `all_proxy`/`ALL_PROXY`. Lowercase wins when
 *   both are set; an empty value counts as unset. An https endpoint never falls back to
 *   `http_proxy` (curl, proxy-from-env, Go and Python don't either; undici's EnvHttpProxyAgent does).
 *   Unlike curl we accept uppercase `HTTP_PROXY` (curl ignores it because of CGI "httpoxy"; a
 *   CLI is no CGI script). A proxy without a scheme is `http://`; without a port, 80 or 443 by
 *   scheme (curl would assume 1080).
 * - `no_proxy`, then `NO_PROXY`: entries split on commas and white space, case-insensitive. `*`
 *   bypasses everything; `example.com`, `.example.com` and `*.example.com` all match example.com
 *   and every subdomain (on label boundaries); `host:port` only that port; IP literals (IPv6 with
 *   or without brackets) and CIDR ranges match IP hosts only. Names are never resolved, and
 *   loopback is not bypassed unless listed (add `localhost,127.0.0.1,::1` yourself).
 * - `AWS_CA_BUNDLE` replaces the trust store, as in the AWS CLI (botocore hands the bundle to
 *   urllib3, which then skips the default roots); Node's `ca` option does the same, and
 *   NODE_EXTRA_CA_CERTS no longer applies. It also covers TLS to an `https://` proxy.
 * - Every proxied connection is a CONNECT tunnel, also for http endpoints; the proxy must allow
 *   CONNECT to the endpoint's port.
 *
 * The proxy library is imported only when a proxy applies, to keep it off the start-up path.
 */
import { readFile } from 'node:fs/promises';
import type { ClientRequestArgs, Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Environment } from '../environment.js';
import { ConfigError, errnoCode, FileError, NetworkError } from '../errors.js';
import { oneLine } from '../text.js';

/** A proxy chosen for an endpoint. */
export interface ProxySetting {
  /** The proxy URL, credentials included: print it only through `describeProxy`. */
  readonly url: URL;
  /** The variable it came from, e.g. `https_proxy`. */
  readonly variable: string;
}

/** What `agentsForEndpoint` returns: the agent the endpoint's scheme needs, and what it does. */
export interface EndpointAgents {
  readonly httpAgent?: HttpAgent;
  readonly httpsAgent?: HttpsAgent;
  /** The proxy in use, password masked; absent when connecting directly. */
  readonly proxy?: string;
  /** The variable the proxy came from. */
  readonly proxyVariable?: string;
  /** The AWS_CA_BUNDLE path in use. */
  readonly caBundle?: string;
}

export interface EndpointAgentOptions {
  /**
   * Limit for the proxy's answer to CONNECT. The SDK's timeouts abandon the request but cannot
   * stop the tunnel request the agent has in flight; this does, so no socket outlives a failure.
   */
  readonly timeoutMs?: number;
  readonly readFile?: (path: string) => Promise<string>;
}

/** Facts for `describeNetworkFailure`; `proxy` may be raw or already masked. */
export interface NetworkFailureContext {
  readonly endpoint: string;
  readonly proxy?: string | undefined;
  readonly proxyVariable?: string | undefined;
  readonly caBundle?: string | undefined;
}

interface Target {
  readonly url: URL;
  readonly secure: boolean;
  /** Lower case, no brackets, no trailing dot. */
  readonly hostname: string;
  readonly port: number;
}

const PROXY_VARIABLES = {
  https: ['https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'],
  http: ['http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'],
} as const;
const NO_PROXY_VARIABLES = ['no_proxy', 'NO_PROXY'] as const;
const CA_BUNDLE_VARIABLE = 'AWS_CA_BUNDLE';
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Socket errors worth another attempt; a name that does not resolve (ENOTFOUND) is a typo. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
]);
const UNTRUSTED_CERT_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'INVALID_CA',
]);
const EXPIRED_CERT_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const NAME_CERT_CODES = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
export const TIMEOUT_NAMES: ReadonlySet<string> = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
]);

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function firstSet(
  env: Environment,
  names: readonly string[],
): { variable: string; value: string } | undefined {
  for (const variable of names) {
    const value = nonEmpty(env[variable]);
    if (value !== undefined) return { variable, value };
  }
  return undefined;
}

function normalizeHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.+$/, '');
}

function parseTarget(endpoint: string | URL): Target {
  const url = typeof endpoint === 'string' && URL.canParse(endpoint) ? new URL(endpoint) : endpoint;
  if (typeof url === 'string' || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ConfigError({
      code: 'InvalidEndpoint',
      message: `expected an http:// or https:// STS endpoint URL, got "${String(endpoint)}"`,
      hint: 'check --endpoint-url (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL)',
    });
  }
  const secure = url.protocol === 'https:';
  return {
    url,
    secure,
    hostname: normalizeHost(url.hostname),
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
  };
}

/**
 * Parses a proxy value without ever echoing it: an unencoded `@` or `/` in a password makes the
 * URL parser cut the password in two, and a message would then show the rest as host or path.
 */
function safeProxyUrl(value: string): URL | undefined {
  const withScheme = SCHEME.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return undefined;
  }
  if (url.hostname === '' || /[@]/.test(`${url.pathname}${url.search}${url.hash}`)) return undefined;
  return url;
}

/**
 * The proxy URL fit for messages and logs: scheme, masked credentials and host. The password is
 * always masked; a user name without a password is masked too, as it is then likely a token.
 */
export function describeProxy(proxy: string | URL): string {
  const url = typeof proxy === 'string' ? safeProxyUrl(proxy.trim()) : proxy;
  if (url === undefined) return '(unparsable proxy URL, not shown)';
  let credentials = '';
  if (url.password !== '') credentials = `${url.username}:****@`;
  else if (url.username !== '') credentials = '****@';
  return `${url.protocol}//${credentials}${url.host}`;
}

function parseProxyUrl(value: string, variable: string): URL {
  const url = safeProxyUrl(value);
  if (url === undefined) {
    throw new ConfigError({
      code: 'InvalidProxyUrl',
      // The value itself stays out: it may hold a password.
      message: `${variable} is not a valid proxy URL (value not shown, it may contain a password)`,
      hint: `set ${variable} to http://[user:password@]host:port, percent-encoding "@", ":" and "/" in the user and password`,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError({
      code: 'UnsupportedProxyScheme',
      message: `${variable}=${describeProxy(url)} uses ${url.protocol.slice(0, -1)}, but only http:// and https:// proxies are supported`,
      hint: `point ${variable} at an HTTP proxy, or list the STS host in NO_PROXY to connect directly`,
    });
  }
  return url;
}

interface NoProxyEntry {
  readonly port: number | undefined;
  readonly domain?: string;
  readonly ips?: BlockList;
}

function ipBlock(address: string, prefix: number | undefined): BlockList | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const block = new BlockList();
  try {
    if (prefix === undefined) block.addAddress(address, type);
    else block.addSubnet(address, prefix, type);
  } catch {
    return undefined;
  }
  return block;
}

function parsePort(text: string | undefined): number | undefined | null {
  if (text === undefined) return undefined;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  return port >= 1 && port <= 65535 ? port : null;
}

/** One NO_PROXY entry; `undefined` for entries nobody could mean (they then never match). */
function parseNoProxyEntry(raw: string): NoProxyEntry | 'all' | undefined {
  const entry = raw.toLowerCase();
  if (entry === '*') return 'all';

  const bracketed = /^\[([^\]]+)\](?::([^:]*))?$/.exec(entry);
  if (bracketed !== null) {
    const port = parsePort(bracketed[2]);
    const ips = ipBlock(bracketed[1] ?? '', undefined);
    return port === null || ips === undefined ? undefined : { port, ips };
  }
  const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (cidr !== null) {
    const ips = ipBlock(cidr[1] ?? '', Number(cidr[2]));
    return ips === undefined ? undefined : { port: undefined, ips };
  }
  if (isIP(entry) === 6) {
    const ips = ipBlock(entry, undefined);
    return ips === undefined ? undefined : { port: undefined, ips };
  }

  const hostPort = /^([^:]+)(?::([^:]*))?$/.exec(entry);
  if (hostPort === null) return undefined;
  const port = parsePort(hostPort[2]);
  if (port === null) return undefined;
  const host = (hostPort[1] ?? '').replace(/^\*/, '').replace(/^\.+/, '').replace(/\.+$/, '');
  if (host === '') return undefined;
  if (isIP(host) !== 0) {
    const ips = ipBlock(host, undefined);
    return ips === undefined ? undefined : { port, ips };
  }
  return { port, domain: host };
}

/** True when `noProxy` (a NO_PROXY value) says `hostname:port` is reached without the proxy. */
export function isProxyBypassed(noProxy: string, hostname: string, port: number): boolean {
  const host = normalizeHost(hostname);
  const family = isIP(host);
  for (const raw of noProxy.split(/[\s,]+/)) {
    if (raw === '') continue;
    const entry = parseNoProxyEntry(raw);
    if (entry === undefined) continue;
    if (entry === 'all') return true;
    if (entry.port !== undefined && entry.port !== port) continue;
    if (entry.ips !== undefined) {
      if (family !== 0 && entry.ips.check(host, family === 4 ? 'ipv4' : 'ipv6')) return true;
    } else if (entry.domain !== undefined && family === 0) {
      if (host === entry.domain || host.endsWith(`.${entry.domain}`)) return true;
    }
  }
  return false;
}

/**
 * The proxy the environment asks for when connecting to `endpoint`, or `undefined` for a direct
 * connection. Throws ConfigError for a proxy URL we cannot use, but only when it would be used.
 */
export function resolveProxy(endpoint: string | URL, env: Environment): ProxySetting | undefined {
  const target = parseTarget(endpoint);
  const found = firstSet(env, target.secure ? PROXY_VARIABLES.https : PROXY_VARIABLES.http);
  if (found === undefined) return undefined;
  const noProxy = firstSet(env, NO_PROXY_VARIABLES);
  if (noProxy !== undefined && isProxyBypassed(noProxy.value, target.hostname, target.port)) return undefined;
  return { url: parseProxyUrl(found.value, found.variable), variable: found.variable };
}

async function readCaBundle(path: string, read: (path: string) => Promise<string>): Promise<string[]> {
  let text: string;
  try {
    text = await read(path);
  } catch (cause) {
    const code = errnoCode(cause);
    throw new FileError({
      code: 'CaBundleUnreadable',
      message: `cannot read the CA bundle ${path} named by ${CA_BUNDLE_VARIABLE}${code === undefined ? '' : ` (${code})`}`,
      hint: `point ${CA_BUNDLE_VARIABLE} at a readable PEM file with the CA certificates to trust, or unset it`,
      cause,
    });
  }
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) {
    throw new FileError({
      code: 'CaBundleInvalid',
      message: `the CA bundle ${path} named by ${CA_BUNDLE_VARIABLE} holds no PEM certificate`,
      hint: 'the file needs "-----BEGIN CERTIFICATE-----" blocks; convert a DER file with: openssl x509 -inform der -in ca.cer -out ca.pem',
    });
  }
  const { X509Certificate } = await import('node:crypto');
  certificates.forEach((pem, index) => {
    try {
      new X509Certificate(pem);
    } catch (cause) {
      throw new FileError({
        code: 'CaBundleInvalid',
        message: `certificate ${index + 1} of the CA bundle ${path} named by ${CA_BUNDLE_VARIABLE} is not a valid X.509 certificate`,
        hint: 'replace or remove that block; check it with: openssl x509 -noout -text',
        cause,
      });
    }
  });
  return certificates;
}

function errorFields(error: unknown): {
  code: string | undefined;
  name: string | undefined;
  message: string;
} {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
  };
  return {
    code: typeof shape.code === 'string' ? shape.code : undefined,
    name: typeof shape.name === 'string' ? shape.name : undefined,
    message: typeof shape.message === 'string' ? shape.message : String(error),
  };
}

function tlsFailure(
  code: string,
  message: string,
  peer: string,
  caBundle: string | undefined,
  cause: unknown,
): NetworkError | undefined {
  const detail = `${code}: ${oneLine(message)}`;
  if (UNTRUSTED_CERT_CODES.has(code)) {
    return new NetworkError({
      code: 'TlsCertificateUntrusted',
      message: `the TLS certificate of ${peer} is not trusted (${detail})`,
      hint:
        caBundle === undefined
          ? `if a TLS-inspecting proxy or a private CA signs it, set ${CA_BUNDLE_VARIABLE} to a PEM file with that root certificate`
          : `add the CA that signs it (e.g. your TLS-inspecting proxy's root) to ${CA_BUNDLE_VARIABLE}=${caBundle}; that file replaces the default trust store`,
      cause,
    });
  }
  if (EXPIRED_CERT_CODES.has(code)) {
    return new NetworkError({
      code: 'TlsCertificateExpired',
      message: `the TLS certificate of ${peer} is outside its validity period (${detail})`,
      hint: "check the runner's clock; if the clock is right, the certificate must be renewed",
      cause,
    });
  }
  if (NAME_CERT_CODES.has(code)) {
    return new NetworkError({
      code: 'TlsCertificateNameMismatch',
      message: `the TLS certificate of ${peer} is for another host name (${detail})`,
      hint: 'check --endpoint-url; a TLS-inspecting proxy must issue certificates for the STS host name',
      cause,
    });
  }
  return undefined;
}

interface ProxyFacts {
  /** Masked. */
  readonly proxy: string;
  readonly variable: string;
  /** `host:port` the tunnel was for. */
  readonly target: string;
  readonly targetHost: string;
  readonly hasPassword: boolean;
  readonly caBundle: string | undefined;
  readonly timeoutMs: number | undefined;
}

/** hpagent's wording for a non-200 answer to CONNECT and for its own CONNECT timeout. */
function tunnelRefusal(error: unknown, facts: ProxyFacts): NetworkError | undefined {
  const { message } = errorFields(error);
  const proxy = `the proxy ${facts.proxy} (from ${facts.variable})`;
  const direct = `or add ${facts.targetHost} to NO_PROXY if it is reachable without the proxy`;
  const refused = /^Bad response: (\d{3})$/.exec(message);
  if (refused !== null) {
    const status = Number(refused[1]);
    // 407 is the standard answer; some proxies (tinyproxy among them) say 401 to wrong credentials.
    if (status === 407 || status === 401) {
      return new NetworkError({
        code: 'ProxyAuthenticationRequired',
        message: `${proxy} refused a tunnel to ${facts.target}: ${facts.hasPassword ? 'credentials rejected' : 'authentication required'} (HTTP ${status})`,
        hint: facts.hasPassword
          ? `check the user and password in ${facts.variable} (percent-encode "@", ":" and "/"), ${direct}`
          : `give the proxy credentials in ${facts.variable} as http://user:password@host:port, ${direct}`,
        httpStatus: status,
        cause: error,
      });
    }
    const transient = status === 502 || status === 503 || status === 504;
    return new NetworkError({
      code: status === 403 ? 'ProxyForbidden' : 'ProxyRefused',
      message: `${proxy} refused a tunnel to ${facts.target} (HTTP ${status})`,
      hint: transient
        ? `the proxy could not reach ${facts.target}; check ${facts.variable} and NO_PROXY, and retry`
        : `the proxy does not allow CONNECT to ${facts.target}: check ${facts.variable} and NO_PROXY, ${direct}, or ask the proxy's administrators to allow it`,
      httpStatus: status,
      retryable: transient,
      cause: error,
    });
  }
  if (message === 'Proxy timeout') {
    return new NetworkError({
      code: 'ProxyTimeout',
      message: `${proxy} did not answer the tunnel request to ${facts.target}${facts.timeoutMs === undefined ? '' : ` within ${facts.timeoutMs} ms`}`,
      hint: `check that ${facts.variable} names a reachable proxy and NO_PROXY, ${direct}`,
      retryable: true,
      cause: error,
    });
  }
  return undefined;
}

/** What a failure while opening the tunnel means; `undefined` when it isn't recognizably that. */
function proxyFailure(error: unknown, facts: ProxyFacts): NetworkError | undefined {
  const refusal = tunnelRefusal(error, facts);
  if (refusal !== undefined) return refusal;
  const { code, message } = errorFields(error);
  if (code === undefined) return undefined;
  const proxy = `the proxy ${facts.proxy} (from ${facts.variable})`;
  const tls = tlsFailure(code, message, proxy, facts.caBundle, error);
  if (tls !== undefined) return tls;
  return new NetworkError({
    code: 'ProxyUnreachable',
    message: `could not connect to ${proxy} (${code})`,
    hint: `check the host and port in ${facts.variable} and NO_PROXY, or add ${facts.targetHost} to NO_PROXY if it is reachable without the proxy`,
    retryable: TRANSIENT_CODES.has(code),
    cause: error,
  });
}

/**
 * Turns a transport failure into a NetworkError that names the proxy (masked) and the fix, or
 * returns `undefined` when it isn't one this module can explain (the caller's mapping applies).
 * Errors from our own agents arrive already described and are returned as they are.
 */
export function describeNetworkFailure(
  error: unknown,
  context: NetworkFailureContext,
): NetworkError | undefined {
  if (error instanceof NetworkError) return error;
  if (!URL.canParse(context.endpoint)) return undefined;
  const target = parseTarget(context.endpoint);
  const proxy = context.proxy === undefined ? undefined : describeProxy(context.proxy);
  const variable = context.proxyVariable ?? (target.secure ? 'HTTPS_PROXY' : 'HTTP_PROXY');
  const via = proxy === undefined ? '' : ` through the proxy ${proxy} (from ${variable})`;
  const { code, name, message } = errorFields(error);

  if (code !== undefined) {
    const tls = tlsFailure(code, message, `${target.hostname}:${target.port}${via}`, context.caBundle, error);
    if (tls !== undefined) return tls;
  }
  if (proxy === undefined) return undefined;

  const refusal = tunnelRefusal(error, {
    proxy,
    variable,
    target: `${target.hostname}:${target.port}`,
    targetHost: target.hostname,
    hasPassword: proxy.includes(':****@'),
    caBundle: context.caBundle,
    timeoutMs: undefined,
  });
  if (refusal !== undefined) return refusal;
  const timedOut = (name !== undefined && TIMEOUT_NAMES.has(name)) || code === 'ETIMEDOUT';
  if (code === undefined && !timedOut) return undefined;
  // Our agents report failures to reach the proxy themselves; what is left broke on the way
  // through the tunnel, where proxy and endpoint are both suspects.
  return new NetworkError({
    code: timedOut ? 'TimeoutError' : (code ?? 'NetworkError'),
    message: `the request to STS at ${context.endpoint}${via} ${timedOut ? 'timed out' : `failed (${code})`}`,
    hint: `check ${variable} and NO_PROXY (add ${target.hostname} to NO_PROXY if it is reachable without the proxy), --region and --endpoint-url`,
    retryable: timedOut || (code !== undefined && TRANSIENT_CODES.has(code)),
    cause: error,
  });
}

type ConnectionCallback = (error: Error | null, stream: Duplex) => void;

/**
 * HTTP(S) agents for the AWS SDK's `requestHandler` when the environment configures a proxy for
 * `endpoint` or a CA bundle for it; `undefined` when the SDK's defaults will do. Only the agent
 * for the endpoint's scheme is returned. Failures to open the tunnel reach the SDK as
 * NetworkErrors naming the proxy.
 */
export async function agentsForEndpoint(
  endpoint: string,
  env: Environment,
  options: EndpointAgentOptions = {},
): Promise<EndpointAgents | undefined> {
  const target = parseTarget(endpoint);
  const proxy = resolveProxy(target.url, env);
  const caBundle = nonEmpty(env[CA_BUNDLE_VARIABLE]);
  const proxyIsTls = proxy?.url.protocol === 'https:';
  const needsCa = caBundle !== undefined && (target.secure || proxyIsTls);
  if (proxy === undefined && !needsCa) return undefined;

  const read = options.readFile ?? ((path: string) => readFile(path, 'utf8'));
  const ca = needsCa ? await readCaBundle(caBundle, read) : undefined;
  const described = needsCa ? { caBundle } : {};

  if (proxy === undefined) {
    const { Agent } = await import('node:https');
    return { httpsAgent: new Agent({ keepAlive: true, ...(ca === undefined ? {} : { ca }) }), ...described };
  }

  const facts: ProxyFacts = {
    proxy: describeProxy(proxy.url),
    variable: proxy.variable,
    target: `${target.hostname}:${target.port}`,
    targetHost: target.hostname,
    hasPassword: proxy.url.password !== '',
    caBundle: needsCa ? caBundle : undefined,
    timeoutMs: options.timeoutMs,
  };
  const explain = (error: Error): Error => proxyFailure(error, facts) ?? error;
  const wrap =
    (callback: ConnectionCallback | undefined): ConnectionCallback =>
    (error, stream) => {
      callback?.(error === null ? null : explain(error), stream);
    };
  const agentOptions = {
    proxy: proxy.url,
    keepAlive: true,
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    ...(proxyIsTls && ca !== undefined ? { proxyRequestOptions: { ca } } : {}),
  };
  const { HttpProxyAgent, HttpsProxyAgent } = await import('hpagent');
  const via = { proxy: facts.proxy, proxyVariable: proxy.variable, ...described };

  if (target.secure) {
    class TunnelHttpsAgent extends HttpsProxyAgent {
      override createConnection(request: ClientRequestArgs, callback?: ConnectionCallback) {
        return super.createConnection(request, wrap(callback));
      }
    }
    return {
      httpsAgent: new TunnelHttpsAgent({ ...agentOptions, ...(ca === undefined ? {} : { ca }) }),
      ...via,
    };
  }
  class TunnelHttpAgent extends HttpProxyAgent {
    override createConnection(request: ClientRequestArgs, callback?: ConnectionCallback) {
      return super.createConnection(request, wrap(callback));
    }
  }
  return { httpAgent: new TunnelHttpAgent(agentOptions), ...via };
}
