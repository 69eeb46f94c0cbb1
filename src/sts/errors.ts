/**
 * Turns what the AWS SDK throws into a HelperError whose message names the cause and whose hint
 * names the fix. Pure: it only looks at the error's fields and at the request's context.
 */

import { MAX_SESSION_DURATION_SECONDS } from '../aws/durations.js';
import { HelperError, StsError, type TokenSummary } from '../errors.js';
import { describeNetworkFailure } from '../platform/network-failures.js';
import { oneLine } from '../text.js';
import { PROGRAM_NAME } from '../version.js';
import { THROTTLING_CODES } from './retry.js';

/** The next step after a refusal whose cause AWS does not name: doctor evaluates the policy offline. */
const DOCTOR_POLICY = `; \`${PROGRAM_NAME} doctor --trust-policy <the role's template, or aws iam get-role output>\` shows which condition refuses`;
const DOCTOR_TOKEN = `; \`${PROGRAM_NAME} doctor\` shows the token's iss, aud and times`;

export interface ExchangeContext {
  readonly roleArn: string;
  readonly endpoint: string;
  readonly durationSeconds: number;
  readonly region: string;
  readonly token: TokenSummary;
  /** The proxy in use (password masked), the variable it came from, and the CA bundle in use. */
  readonly proxy?: string | undefined;
  readonly proxyVariable?: string | undefined;
  readonly caBundle?: string | undefined;
}

interface SdkErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown; readonly requestId?: unknown };
}

/** The SDK names modelled STS errors after their classes; the wire codes (what AWS documents) differ. */
const WIRE_CODES: Readonly<Record<string, string>> = {
  InvalidIdentityTokenException: 'InvalidIdentityToken',
  IDPCommunicationErrorException: 'IDPCommunicationError',
  IDPRejectedClaimException: 'IDPRejectedClaim',
  MalformedPolicyDocumentException: 'MalformedPolicyDocument',
  PackedPolicyTooLargeException: 'PackedPolicyTooLarge',
};

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function describeAudience(aud: TokenSummary['aud']): string {
  if (aud === undefined) return '(none)';
  return typeof aud === 'string' ? aud : aud.join(', ');
}

function tokenFacts(token: TokenSummary): string {
  return `token sub "${token.sub ?? '(none)'}", aud "${describeAudience(token.aud)}"`;
}

function issuerHost(token: TokenSummary): string {
  if (token.iss === undefined) return '<your GitLab host>';
  try {
    const url = new URL(token.iss);
    return `${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return token.iss;
  }
}

function stsHint(
  code: string,
  message: string,
  context: ExchangeContext,
): { message: string; hint: string; retryable: boolean } {
  const host = issuerHost(context.token);
  const facts = tokenFacts(context.token);
  switch (code) {
    case 'AccessDenied':
      return {
        message: `STS refused to let this token assume ${context.roleArn} (AccessDenied; ${facts})`,
        hint: `check that the role exists and that its trust policy allows sts:AssumeRoleWithWebIdentity for the OIDC provider ${host} with ${host}:sub matching "${context.token.sub ?? ''}" (StringLike for wildcards) and ${host}:aud matching the token's aud${DOCTOR_POLICY}`,
        retryable: false,
      };
    case 'InvalidIdentityToken':
      if (/no openid ?connect provider/i.test(message)) {
        return {
          message: `STS found no IAM OIDC provider for the token's issuer ${context.token.iss ?? '(none)'} in the role's account`,
          hint: `create an IAM OIDC identity provider with URL ${context.token.iss ?? 'https://<your GitLab host>'} and audience ${describeAudience(context.token.aud)} in the account of ${context.roleArn}${DOCTOR_TOKEN}`,
          retryable: false,
        };
      }
      if (/audience/i.test(message)) {
        return {
          message: `STS rejected the token's audience "${describeAudience(context.token.aud)}" (InvalidIdentityToken: ${oneLine(message)})`,
          hint: `add "${describeAudience(context.token.aud)}" as an audience (client ID) of the IAM OIDC provider ${host}, or set the job's id_tokens aud: to the provider's audience${DOCTOR_TOKEN}`,
          retryable: false,
        };
      }
      if (/verification key|retrieve/i.test(message)) {
        return {
          message: `STS could not fetch the signing keys of ${context.token.iss ?? 'the issuer'} (InvalidIdentityToken: ${oneLine(message)})`,
          hint: `make sure ${context.token.iss ?? 'the issuer'}/.well-known/openid-configuration and its jwks_uri are publicly reachable over HTTPS and answer within 5 seconds`,
          retryable: true,
        };
      }
      return {
        message: `STS rejected the ID token (InvalidIdentityToken: ${oneLine(message)}; ${facts})`,
        hint: `use the unmodified id_tokens: variable of the running job; tokens from another GitLab instance or a copied token do not verify${DOCTOR_TOKEN}`,
        retryable: false,
      };
    case 'ExpiredTokenException':
      return {
        message: `STS says the ID token has expired (${oneLine(message)})`,
        hint: 'GitLab ID tokens live as long as the job timeout: get credentials earlier in the job or raise the job timeout',
        retryable: false,
      };
    case 'IDPRejectedClaim':
      return {
        message: `the identity provider rejected a claim of the token (IDPRejectedClaim: ${oneLine(message)})`,
        hint: 'use a fresh token of the running job',
        retryable: false,
      };
    case 'IDPCommunicationError':
      return {
        message: `STS could not reach the identity provider ${context.token.iss ?? ''} (IDPCommunicationError)`,
        hint: 'this is usually transient; if it persists, check that the GitLab OIDC discovery endpoint is publicly reachable',
        retryable: true,
      };
    case 'ValidationError':
      if (/DurationSeconds/i.test(message)) {
        return {
          message: `the requested duration of ${context.durationSeconds} seconds exceeds the maximum session duration of ${context.roleArn}`,
          hint: `lower --duration-seconds (GITLAB_AWS_DURATION_SECONDS), or raise the role's MaxSessionDuration (up to ${MAX_SESSION_DURATION_SECONDS}) in IAM`,
          retryable: false,
        };
      }
      return {
        message: `STS rejected a parameter (ValidationError: ${oneLine(message)})`,
        hint: 'check --role-name, --role-session-name and --duration-seconds against the limits in the README',
        retryable: false,
      };
    case 'RegionDisabledException':
      return {
        message: `STS is not activated in region ${context.region} for the role's account (RegionDisabledException)`,
        hint: 'activate the region for STS in the IAM console (Account settings), or choose another --region',
        retryable: false,
      };
    // This tool sends no session policy; the packed size also counts the session tags STS takes
    // from the token's claims.
    case 'PackedPolicyTooLarge':
      return {
        message: `STS found the session tags of the token too large (PackedPolicyTooLarge: ${oneLine(message)})`,
        hint: `the token carries more session tags than STS accepts; check the IAM OIDC provider ${host} and the tags the role's trust policy takes from the token`,
        retryable: false,
      };
    case 'MalformedPolicyDocument':
      return {
        message: `STS answered MalformedPolicyDocument (${oneLine(message)}), but this tool sends no session policy`,
        hint: `check that --endpoint-url (${context.endpoint}) is AWS STS or an emulator that speaks like it`,
        retryable: false,
      };
    default:
      if (THROTTLING_CODES.has(code)) {
        return {
          message: `STS is throttling requests (${code}: ${oneLine(message)})`,
          hint: 'too many jobs are exchanging tokens at once; the cache and retries usually absorb this — raise --max-attempts or stagger the jobs',
          retryable: true,
        };
      }
      return {
        message: `STS answered ${code}: ${oneLine(message)}`,
        hint: `check the role ${context.roleArn} and the endpoint ${context.endpoint}`,
        retryable: false,
      };
  }
}

export function toExchangeError(error: unknown, context: ExchangeContext): HelperError {
  if (error instanceof HelperError) return error;
  const network = describeNetworkFailure(error, {
    endpoint: context.endpoint,
    proxy: context.proxy,
    proxyVariable: context.proxyVariable,
    caBundle: context.caBundle,
  });
  if (network !== undefined) return network;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const sdkName = text(shape.name) ?? 'Error';
  const name = WIRE_CODES[sdkName] ?? sdkName;
  const message = text(shape.message) ?? String(error);
  const status =
    typeof shape.$metadata?.httpStatusCode === 'number' ? shape.$metadata.httpStatusCode : undefined;
  const requestId = text(shape.$metadata?.requestId);

  if (status !== undefined && status >= 500) {
    return new StsError({
      code: name,
      message: `STS at ${context.endpoint} failed with HTTP ${status} (${name})`,
      hint: 'this is on the AWS side and usually passes; retry the job if it persists',
      cause: error,
      requestId,
      httpStatus: status,
      retryable: true,
    });
  }

  if (status === undefined && shape.$fault === undefined) {
    // Neither a socket failure nor an answer from STS: the SDK refused to send (a configuration it
    // rejects) or something broke in our code. Neither passes if repeated.
    return new HelperError('internal', {
      code: name,
      message: `the AWS SDK failed before STS answered: ${oneLine(message)}`,
      hint: 'this is a bug in gitlab-aws-credential-helper unless the message names a setting of yours: please report it with the output of --debug',
      cause: error,
    });
  }

  const described = stsHint(name, message, context);
  const suffix = requestId === undefined ? '' : ` [request id ${requestId}]`;
  return new StsError({
    code: name,
    message: `${described.message}${suffix}`,
    hint: described.hint,
    cause: error,
    token: context.token,
    requestId,
    httpStatus: status,
    retryable: described.retryable,
  });
}
