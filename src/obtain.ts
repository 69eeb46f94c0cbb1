/**
 * The core of every command: read the token, check it, and turn it into credentials (from the
 * cache when a fresh set is there, else through one STS exchange).
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { isStsHostOfPartition } from './aws/partitions.js';
import type { CredentialCache } from './cache/credential-cache.js';
import { createFileCache } from './cache/store.js';
import type { Settings } from './config/resolve.js';
import type { AssumedRole, AwsCredentials } from './credentials.js';
import type { Environment } from './environment.js';
import type { TokenSummary } from './errors.js';
import type { exchangeWebIdentityToken, WebIdentityExchange } from './sts/exchange.js';
import { longestExchangeMs } from './sts/retry.js';
import {
  assertTokenUsable,
  decodeTokenClaims,
  summarizeClaims,
  TOKEN_CLOCK_SKEW_SECONDS,
} from './token/claims.js';
import { describeTokenSource, readToken } from './token/read.js';

export interface ObtainResult {
  readonly credentials: AwsCredentials;
  /** The assumed-role ARN, from STS or from the cache entry; undefined only for an entry without it. */
  readonly assumedRoleArn: string | undefined;
  readonly token: TokenSummary;
  readonly fromCache: boolean;
}

export interface ObtainDependencies {
  readonly env: Environment;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
  /** One-line warnings the user must see even without --debug (on stderr). */
  readonly warn?: (line: string) => void;
  /** Told every secret as soon as it is known (the token as used, then the credentials), to redact it. */
  readonly secret?: (value: string) => void;
  readonly cache?: CredentialCache | undefined;
  readonly exchange?: typeof exchangeWebIdentityToken;
  /** Agents for the STS call instead of the ones the environment configures (proxy, CA bundle). */
  readonly httpAgent?: HttpAgent | undefined;
  readonly httpsAgent?: HttpsAgent | undefined;
}

/** The encrypted cache shared by every process of the user, as the settings ask for it, or none. */
export function cacheForSettings(
  settings: Settings,
  deps: {
    readonly env: Environment;
    readonly log: (line: string) => void;
    readonly warn: (line: string) => void;
  },
): CredentialCache | undefined {
  if (!settings.cache.enabled) return undefined;
  return createFileCache({
    ...deps,
    refreshWindowSeconds: settings.cache.refreshWindowSeconds,
    // Another process's exchange may take this long; giving up sooner would call STS a second time.
    lockOptions: { waitMs: longestExchangeMs(settings.maxAttempts, settings.timeoutMs) },
  });
}

/** A bearer token to a non-loopback host without TLS: allowed (emulators), but never silently. */
export function sendsTokenInClear(endpoint: string): boolean {
  if (!URL.canParse(endpoint)) return false;
  const url = new URL(endpoint);
  if (url.protocol !== 'http:') return false;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || /^127\./.test(host));
}

/**
 * What the user must hear before the ID token (a bearer credential for every role that trusts the
 * project) leaves for `settings.endpoint`: a plain-HTTP hop, or a host that only the all-services
 * `AWS_ENDPOINT_URL` chose (often LocalStack or an S3-compatible store, not meant for STS).
 */
export function tokenDestinationWarnings(
  settings: Pick<Settings, 'endpoint' | 'endpointSource' | 'partition'>,
): string[] {
  const warnings: string[] = [];
  if (sendsTokenInClear(settings.endpoint)) {
    warnings.push(
      `warning: the ID token goes to ${settings.endpoint} over plain HTTP; use https (check --endpoint-url, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL)`,
    );
  }
  if (settings.endpointSource === 'AWS_ENDPOINT_URL' && URL.canParse(settings.endpoint)) {
    const host = new URL(settings.endpoint).hostname;
    if (!isStsHostOfPartition(host.replace(/^\[|\]$/g, ''), settings.partition)) {
      warnings.push(
        `warning: the ID token goes to ${host}, which is not an AWS STS host, because AWS_ENDPOINT_URL (the endpoint of every AWS service) names it; set AWS_ENDPOINT_URL_STS or --endpoint-url to the STS endpoint you mean, or AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true for AWS's own`,
      );
    }
  }
  return warnings;
}

export async function obtainCredentials(settings: Settings, deps: ObtainDependencies): Promise<ObtainResult> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const source = describeTokenSource(settings.tokenSource);
  const token = await readToken(settings.tokenSource, deps.env);
  deps.secret?.(token);
  const claims = decodeTokenClaims(token, source);
  const summary = summarizeClaims(claims);
  log(`token from ${source}: iss ${claims.iss ?? '?'}, sub ${claims.sub ?? '?'}, exp ${claims.exp ?? '?'}`);
  assertTokenUsable(claims, source, now());

  const request: WebIdentityExchange = {
    roleArn: settings.roleArn,
    roleSessionName: settings.roleSessionName,
    webIdentityToken: token,
    durationSeconds: settings.durationSeconds,
    region: settings.region,
    endpoint: settings.endpoint,
    token: summary,
  };
  const deadlineMs =
    claims.exp === undefined ? now() + 5 * 60_000 : (claims.exp + TOKEN_CLOCK_SKEW_SECONDS) * 1000;
  // The SDK, the proxy agents and the CA bundle are loaded only here: a cache hit never pays for them.
  const produce = async (): Promise<AssumedRole> => {
    for (const warning of tokenDestinationWarnings(settings)) deps.warn?.(warning);
    const exchange = deps.exchange ?? (await import('./sts/exchange.js')).exchangeWebIdentityToken;
    const customAgents = deps.httpAgent !== undefined || deps.httpsAgent !== undefined;
    const network = customAgents
      ? undefined
      : await (await import('./platform/agents.js')).agentsForEndpoint(request.endpoint, deps.env, {
          timeoutMs: settings.timeoutMs,
        });
    if (network?.proxy !== undefined) log(`using proxy ${network.proxy} (from ${network.proxyVariable})`);
    if (network?.caBundle !== undefined)
      log(`trusting only the CA bundle ${network.caBundle} (AWS_CA_BUNDLE)`);
    const httpAgent = deps.httpAgent ?? network?.httpAgent;
    const httpsAgent = deps.httpsAgent ?? network?.httpsAgent;
    return exchange(request, {
      maxAttempts: settings.maxAttempts,
      timeoutMs: settings.timeoutMs,
      deadlineMs,
      log,
      now,
      proxy: network?.proxy,
      proxyVariable: network?.proxyVariable,
      caBundle: network?.caBundle,
      ...(httpAgent === undefined ? {} : { httpAgent }),
      ...(httpsAgent === undefined ? {} : { httpsAgent }),
    });
  };

  const obtained =
    deps.cache !== undefined && settings.cache.enabled
      ? await deps.cache.getOrCreate(token, request, produce, { reuse: settings.cache.reuse })
      : { ...(await produce()), fromCache: false };
  deps.secret?.(obtained.credentials.secretAccessKey);
  deps.secret?.(obtained.credentials.sessionToken);
  return {
    credentials: obtained.credentials,
    assumedRoleArn: obtained.assumedRoleArn,
    token: summary,
    fromCache: obtained.fromCache,
  };
}
