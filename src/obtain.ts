/**
 * The core of every command: read the token, check it, and turn it into credentials (from the
 * cache when a fresh set is there, else through one STS exchange).
 */
import type { Environment, Settings } from './config/resolve.js';
import type { AssumedRole, AwsCredentials } from './credentials.js';
import type { TokenSummary } from './errors.js';
import type { exchangeWebIdentityToken, WebIdentityExchange } from './sts/exchange.js';
import {
  assertTokenUsable,
  decodeTokenClaims,
  summarizeClaims,
  TOKEN_CLOCK_SKEW_SECONDS,
} from './token/claims.js';
import { describeTokenSource, readToken } from './token/read.js';

export interface ObtainResult {
  readonly credentials: AwsCredentials;
  /** The assumed-role ARN when the credentials came from STS in this call. */
  readonly assumedRoleArn: string | undefined;
  readonly token: TokenSummary;
  readonly fromCache: boolean;
}

/** A store of credentials between processes; see src/cache. */
export interface CredentialCache {
  /** Runs `produce` unless a fresh entry exists; concurrent callers for one key share one run. */
  getOrCreate(
    token: string,
    request: WebIdentityExchange,
    produce: () => Promise<AssumedRole>,
  ): Promise<{ credentials: AwsCredentials; assumedRoleArn: string | undefined; fromCache: boolean }>;
}

export interface ObtainDependencies {
  readonly env: Environment;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
  readonly cache?: CredentialCache | undefined;
  readonly exchange?: typeof exchangeWebIdentityToken;
  readonly httpAgent?: unknown;
  readonly httpsAgent?: unknown;
}

export async function obtainCredentials(settings: Settings, deps: ObtainDependencies): Promise<ObtainResult> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const source = describeTokenSource(settings.tokenSource);
  const token = await readToken(settings.tokenSource, deps.env);
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
    const exchange = deps.exchange ?? (await import('./sts/exchange.js')).exchangeWebIdentityToken;
    const customAgents = deps.httpAgent !== undefined || deps.httpsAgent !== undefined;
    const network = customAgents
      ? undefined
      : await (await import('./platform/network.js')).agentsForEndpoint(request.endpoint, deps.env, {
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

  if (deps.cache !== undefined && settings.cache.enabled) {
    const cached = await deps.cache.getOrCreate(token, request, produce);
    return { ...cached, token: summary };
  }
  const assumed = await produce();
  return {
    credentials: assumed.credentials,
    assumedRoleArn: assumed.assumedRoleArn,
    token: summary,
    fromCache: false,
  };
}
