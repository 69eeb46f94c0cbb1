/**
 * The only place that talks to STS: AssumeRoleWithWebIdentity through the AWS SDK for JavaScript,
 * unsigned (the call needs no AWS credentials), with our own retry policy bounded by the token's life.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { setTimeout as wait } from 'node:timers/promises';
import type { AssumedRole, AwsCredentials } from '../credentials.js';
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

type ClientOptions = Pick<ExchangeOptions, 'timeoutMs' | 'httpAgent' | 'httpsAgent'>;

/** The SDK's STS client for one endpoint, with our timeouts and agents and without its own retries. */
async function createStsClient(
  target: { readonly region: string; readonly endpoint: string },
  options: ClientOptions,
  credentials?: AwsCredentials,
): Promise<import('@aws-sdk/client-sts').STSClient> {
  const { STSClient } = await loadSdk();
  return new STSClient({
    region: target.region,
    endpoint: target.endpoint,
    // The endpoint is already the FIPS or dual-stack one when asked for (src/config/resolve.ts);
    // left to itself the SDK reads AWS_USE_FIPS_ENDPOINT again and rejects FIPS with an endpoint.
    useFipsEndpoint: false,
    useDualstackEndpoint: false,
    maxAttempts: 1,
    customUserAgent: USER_AGENT,
    ...(credentials === undefined
      ? {}
      : {
          credentials: {
            accessKeyId: credentials.accessKeyId,
            secretAccessKey: credentials.secretAccessKey,
            sessionToken: credentials.sessionToken,
            expiration: credentials.expiration,
          },
        }),
    requestHandler: {
      connectionTimeout: options.timeoutMs,
      requestTimeout: options.timeoutMs,
      throwOnRequestTimeout: true,
      ...(options.httpAgent === undefined ? {} : { httpAgent: options.httpAgent }),
      ...(options.httpsAgent === undefined ? {} : { httpsAgent: options.httpsAgent }),
    },
  });
}

export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
  readonly userId: string;
}

/**
 * GetCallerIdentity with credentials just obtained (signed; needs no permission): proves they work.
 * One attempt; failures are mapped like the exchange's.
 */
export async function getCallerIdentity(
  credentials: AwsCredentials,
  target: {
    readonly region: string;
    readonly endpoint: string;
    readonly roleArn: string;
    readonly token: TokenSummary;
  },
  options: ClientOptions & Pick<ExchangeOptions, 'proxy' | 'proxyVariable' | 'caBundle'>,
): Promise<CallerIdentity> {
  const { GetCallerIdentityCommand } = await loadSdk();
  const client = await createStsClient(target, options, credentials);
  try {
    const response = await client.send(new GetCallerIdentityCommand({}));
    const requestId = response.$metadata.requestId;
    return {
      account: requireField(response.Account, 'Account', requestId),
      arn: requireField(response.Arn, 'Arn', requestId),
      userId: requireField(response.UserId, 'UserId', requestId),
    };
  } catch (caught) {
    throw toExchangeError(caught, {
      roleArn: target.roleArn,
      endpoint: target.endpoint,
      durationSeconds: 0,
      region: target.region,
      token: target.token,
      proxy: options.proxy,
      proxyVariable: options.proxyVariable,
      caBundle: options.caBundle,
    });
  } finally {
    client.destroy();
  }
}

export async function exchangeWebIdentityToken(
  request: WebIdentityExchange,
  options: ExchangeOptions,
): Promise<AssumedRole> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => wait(ms));
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

  const { AssumeRoleWithWebIdentityCommand } = await loadSdk();
  const client = await createStsClient(request, options);

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
