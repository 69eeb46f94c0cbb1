/**
 * The only place that talks to STS: AssumeRoleWithWebIdentity through the AWS SDK for JavaScript,
 * unsigned (the call needs no AWS credentials), with our own retry policy bounded by the token's life.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { AssumedRole } from '../credentials.js';
import { type HelperError, helperError, StsError, type TokenSummary } from '../errors.js';
import { type ExchangeContext, toExchangeError } from './errors.js';
import { decideRetry } from './retry.js';

export interface WebIdentityExchange {
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly webIdentityToken: string;
  readonly durationSeconds: number;
  readonly region: string;
  readonly endpoint: string;
  /** Claims to quote in error messages. */
  readonly token: TokenSummary;
}

export interface ExchangeOptions {
  readonly maxAttempts: number;
  /** Limit of one HTTP request, connect included. */
  readonly timeoutMs: number;
  /** Epoch ms after which no attempt starts (the token's `exp` plus STS's clock-skew tolerance). */
  readonly deadlineMs: number;
  readonly log?: (line: string) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** HTTP(S) agents, e.g. for a proxy or a custom CA. */
  readonly httpAgent?: HttpAgent | undefined;
  readonly httpsAgent?: HttpsAgent | undefined;
  /** Named in network errors: the proxy (password masked), its variable, the CA bundle. */
  readonly proxy?: string | undefined;
  readonly proxyVariable?: string | undefined;
  readonly caBundle?: string | undefined;
}

const USER_AGENT = 'gitlab-aws-credential-helper';

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function loadSdk(): Promise<typeof import('@aws-sdk/client-sts')> {
  return import('@aws-sdk/client-sts');
}

function requireField(value: string | undefined, field: string, requestId: string | undefined): string {
  if (value === undefined || value === '') {
    throw new StsError({
      code: 'MalformedResponse',
      message: `STS answered without ${field}${requestId === undefined ? '' : ` [request id ${requestId}]`}`,
      hint: 'this is unexpected from AWS; check --endpoint-url points at STS',
      requestId,
    });
  }
  return value;
}

export async function exchangeWebIdentityToken(
  request: WebIdentityExchange,
  options: ExchangeOptions,
): Promise<AssumedRole> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const log = options.log ?? (() => {});
  const context: ExchangeContext = {
    roleArn: request.roleArn,
    endpoint: request.endpoint,
    durationSeconds: request.durationSeconds,
    region: request.region,
    token: request.token,
    proxy: options.proxy,
    proxyVariable: options.proxyVariable,
    caBundle: options.caBundle,
  };

  const { STSClient, AssumeRoleWithWebIdentityCommand } = await loadSdk();
  const client = new STSClient({
    region: request.region,
    endpoint: request.endpoint,
    // The endpoint is already the FIPS or dual-stack one when asked for (src/config/resolve.ts);
    // left to itself the SDK reads AWS_USE_FIPS_ENDPOINT again and rejects FIPS with an endpoint.
    useFipsEndpoint: false,
    useDualstackEndpoint: false,
    maxAttempts: 1,
    customUserAgent: USER_AGENT,
    requestHandler: {
      connectionTimeout: options.timeoutMs,
      requestTimeout: options.timeoutMs,
      throwOnRequestTimeout: true,
      ...(options.httpAgent === undefined ? {} : { httpAgent: options.httpAgent }),
      ...(options.httpsAgent === undefined ? {} : { httpsAgent: options.httpsAgent }),
    },
  });

  try {
    for (let attempt = 1; ; attempt++) {
      try {
        log(
          `calling STS AssumeRoleWithWebIdentity at ${request.endpoint} for ${request.roleArn} (attempt ${attempt})`,
        );
        const response = await client.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: request.roleArn,
            RoleSessionName: request.roleSessionName,
            WebIdentityToken: request.webIdentityToken,
            DurationSeconds: request.durationSeconds,
          }),
        );
        const requestId = response.$metadata.requestId;
        const credentials = response.Credentials;
        const assumedRoleArn = requireField(response.AssumedRoleUser?.Arn, 'AssumedRoleUser.Arn', requestId);
        const expiration = credentials?.Expiration;
        if (!(expiration instanceof Date) || Number.isNaN(expiration.getTime())) {
          requireField(undefined, 'Credentials.Expiration', requestId);
        }
        return {
          credentials: {
            accessKeyId: requireField(credentials?.AccessKeyId, 'Credentials.AccessKeyId', requestId),
            secretAccessKey: requireField(
              credentials?.SecretAccessKey,
              'Credentials.SecretAccessKey',
              requestId,
            ),
            sessionToken: requireField(credentials?.SessionToken, 'Credentials.SessionToken', requestId),
            expiration: expiration as Date,
            accountId: assumedRoleArn.split(':')[4],
          },
          assumedRoleArn,
          assumedRoleId: response.AssumedRoleUser?.AssumedRoleId ?? '',
          subjectFromWebIdentityToken: response.SubjectFromWebIdentityToken,
          provider: response.Provider,
          audience: response.Audience,
        };
      } catch (caught) {
        const error = toExchangeError(caught, context);
        const decision = decideRetry(error, attempt, options.maxAttempts, now(), options.deadlineMs, random);
        if (!decision.retry) throw annotateAttempts(error, attempt);
        log(`STS attempt ${attempt} failed (${error.code}); retrying in ${decision.delayMs} ms`);
        await sleep(decision.delayMs);
      }
    }
  } finally {
    client.destroy();
  }
}

function annotateAttempts(error: HelperError, attempts: number): HelperError {
  if (attempts <= 1 || !error.retryable) return error;
  return helperError(error.origin, {
    code: error.code,
    message: `${error.message} (gave up after ${attempts} attempts)`,
    hint: error.hint,
    cause: error.cause,
    token: error.token,
    requestId: error.requestId,
    httpStatus: error.httpStatus,
    retryable: true,
  });
}
