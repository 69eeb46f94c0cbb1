/**
 * What a failure to reach STS means, in words a user can act on: a socket error or time-out (retried
 * when it can pass), an untrusted, expired or misnamed TLS certificate, a proxy that refuses or does
 * not answer. The one place that classifies transport failures; the STS error mapping asks here first.
 */
import { errnoCode, errorMessage, NetworkError } from '../errors.js';
import { oneLine } from '../text.js';
import { describeProxy, parseTarget } from './proxy.js';

/** Facts for `describeNetworkFailure`; `proxy` may be raw or already masked. */
export interface NetworkFailureContext {
  readonly endpoint: string;
  readonly proxy?: string | undefined;
  readonly proxyVariable?: string | undefined;
  readonly caBundle?: string | undefined;
}

/** An errno-style code of a failed socket or DNS lookup, as Node.js and undici report them. */
const SOCKET_ERROR_CODE = /^(E[A-Z_]+|UND_ERR_[A-Z_]+)$/;
/** Socket errors worth another attempt; a name that does not resolve (ENOTFOUND) is a typo. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
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
const TIMEOUT_NAMES: ReadonlySet<string> = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
]);

export const CA_BUNDLE_VARIABLE = 'AWS_CA_BUNDLE';
function errorFields(error: unknown): {
  code: string | undefined;
  name: string | undefined;
  message: string;
} {
  const name =
    typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string'
      ? error.name
      : undefined;
  return { code: errnoCode(error), name, message: errorMessage(error) };
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

export interface ProxyFacts {
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
export function proxyFailure(error: unknown, facts: ProxyFacts): NetworkError | undefined {
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
 * Turns a transport failure (a socket error, a time-out, TLS, a proxy) into a NetworkError that names
 * the endpoint, the proxy (masked) and the fix, or returns `undefined` when it is no transport
 * failure (an answer of STS, or a bug). Errors from our own agents arrive already described and are
 * returned as they are.
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
  const timedOut = (name !== undefined && TIMEOUT_NAMES.has(name)) || code === 'ETIMEDOUT';
  if (proxy === undefined) {
    if (!timedOut && (code === undefined || !SOCKET_ERROR_CODE.test(code))) return undefined;
    const unresolved = code === 'ENOTFOUND';
    const what = timedOut
      ? 'timed out'
      : unresolved
        ? 'failed: the host name does not resolve (ENOTFOUND)'
        : `failed (${code})`;
    return new NetworkError({
      code: code ?? name ?? 'TimeoutError',
      message: `the request to STS at ${context.endpoint} ${what}`,
      hint: unresolved
        ? 'check --region and --endpoint-url (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL) for a typo, and the runner’s DNS'
        : 'check network access to the STS endpoint (HTTPS_PROXY/NO_PROXY if the runner needs a proxy), --region and --endpoint-url',
      cause: error,
      retryable: timedOut || (code !== undefined && TRANSIENT_CODES.has(code)),
    });
  }

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
