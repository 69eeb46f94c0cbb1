/**
 * Which proxy, if any, the environment asks for to reach an endpoint (pure). The AWS SDK for
 * JavaScript v3 reads neither HTTPS_PROXY nor NO_PROXY, so we read them, by rules chosen to match
 * curl and the AWS CLI where they agree:
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
 */
import { BlockList, isIP } from 'node:net';
import type { Environment } from '../environment.js';
import { ConfigError } from '../errors.js';
import { nonEmpty } from '../text.js';

/** A proxy chosen for an endpoint. */
export interface ProxySetting {
  /** The proxy URL, credentials included: print it only through `describeProxy`. */
  readonly url: URL;
  /** The variable it came from, e.g. `https_proxy`. */
  readonly variable: string;
}

/** An endpoint URL taken apart for proxy and failure decisions. */
export interface Target {
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
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
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

export function parseTarget(endpoint: string | URL): Target {
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
