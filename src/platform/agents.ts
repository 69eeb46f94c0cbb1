/**
 * HTTP(S) agents for the STS call when the environment asks for a proxy or a private CA: the AWS SDK
 * for JavaScript v3 reads neither, and Node's own env-proxy mode does not reach the agents the SDK
 * creates, so we hand it ready agents.
 * - `AWS_CA_BUNDLE` replaces the trust store, as in the AWS CLI (botocore hands the bundle to
 *   urllib3, which then skips the default roots); Node's `ca` option does the same, and
 *   NODE_EXTRA_CA_CERTS no longer applies. It also covers TLS to an `https://` proxy.
 * - Every proxied connection is a CONNECT tunnel, also for http endpoints; the proxy must allow
 *   CONNECT to the endpoint's port.
 * The proxy library is imported only when a proxy applies, to keep it off the start-up path.
 */
import { readFile } from 'node:fs/promises';
import type { ClientRequestArgs, Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Environment } from '../environment.js';
import { errnoCode, FileError } from '../errors.js';
import { nonEmpty } from '../text.js';
import { CA_BUNDLE_VARIABLE, type ProxyFacts, proxyFailure } from './network-failures.js';
import { describeProxy, parseTarget, resolveProxy } from './proxy.js';

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

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

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
