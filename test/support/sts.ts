/**
 * A local AWS STS speaking the Query protocol (form or query-string parameters in, namespaced XML
 * out) for the two calls the helper and its users make: AssumeRoleWithWebIdentity (unsigned; the
 * token is verified against the issuer's real discovery document and JWKS, the role's trust
 * policy is evaluated) and GetCallerIdentity (SigV4-signed with issued keys; the signature is
 * recomputed). Every request is recorded; faults can be scripted per action.
 *
 * Message texts marked "seen" were observed from real STS in public issue threads and docs; the
 * others are ours, kept close to AWS's style, and should not be matched on by product code.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { base64url, compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { evaluateTrustPolicy, type TrustDecision } from '../../src/policy/trust.js';
import { readBody, startLoopbackServer } from './server.js';
import { el, parent, renderXmlDocument, type XmlElement } from './xml.js';

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const STS_VERSION = '2011-06-15';

/** Error messages STS returns; see the module comment for which ones were seen in the wild. */
export const STS_MESSAGES = {
  /** seen */
  accessDenied: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
  /** seen */
  incorrectAudience: 'Incorrect token audience',
  /** seen */
  noProvider: (iss: string) => `No OpenIDConnect provider found in your account for ${iss}`,
  /** seen, including the double space */
  verificationKey:
    "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
  /** seen, including the missing space before the second number */
  tokenExpired: (nowSeconds: number, exp: number) =>
    `Token expired: current date/time ${nowSeconds} must be before the expiration date/time${exp}`,
  /** seen */
  durationExceedsMax: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
  /** seen (AssumeRole with a malformed ARN) */
  invalidArn: 'Request ARN is invalid',
  /** seen */
  rateExceeded: 'Rate exceeded',
  /** seen */
  invalidClientTokenId: 'The security token included in the request is invalid.',
  /** seen */
  expiredToken: 'The security token included in the request is expired',
  /** seen */
  missingAuthenticationToken: 'Request is missing Authentication Token',
  /** seen */
  signatureDoesNotMatch:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  /** seen */
  regionDisabled: (accountId: string) =>
    `STS is not activated in this region for account:${accountId}. Your account administrator can activate STS in this region using the IAM Console.`,
  /** seen (shape of the message for unknown actions) */
  invalidAction: (action: string, version: string) =>
    `Could not find operation ${action} for version ${version}`,
  unparseableToken: "Couldn't parse the token",
  unsupportedAlgorithm: 'Only RSA (RS256) signed tokens are supported',
  unknownKid: "Couldn't find a key in the identity provider's JWKS matching the token's kid",
  badSignature: 'Token signature is invalid',
  notYetValid: 'Token is not yet valid (nbf is in the future)',
  missingClaim: (claim: string) => `Token is missing the required claim '${claim}'`,
  idpCommunication: 'The identity provider could not be reached to verify the web identity token',
  packedPolicyTooLarge:
    'Packed policy consumes 112% of allotted space, please use smaller policy for this session.',
  malformedPolicy: 'Syntax errors in policy.',
  internalFailure: 'The request processing has failed because of an unknown error, exception or failure.',
  serviceUnavailable: 'The request has failed due to a temporary failure of the server.',
} as const;

export interface StartStsOptions {
  /** Added before every response. */
  latencyMs?: number;
  /** How long STS waits for the issuer's discovery document plus JWKS; real STS gives up after about 5 s. */
  idpTimeoutMs?: number;
  /** Tolerance on the token's `exp` and `nbf`; IAM documents 5 minutes. */
  clockSkewSeconds?: number;
  /** Clock in epoch milliseconds, for token and credential expiry and the SigV4 date window. */
  now?: () => number;
}

export interface OidcProviderInit {
  accountId: string;
  /** The IAM provider URL = the token's `iss`, e.g. `https://gitlab.example.com`. */
  url: string;
  clientIds: string[];
  /** Where discovery and JWKS are really fetched, e.g. `issuer.baseUrl` (what DNS would resolve to). */
  fetchBaseUrl: string;
  partition?: string;
}

export interface RoleInit {
  accountId: string;
  roleName: string;
  /** `/` or `/a/b/`; default `/`. */
  path?: string;
  /** 3600..43200; default 3600. */
  maxSessionDuration?: number;
  trustPolicy: object;
  partition?: string;
}

export interface RoleRef {
  arn: string;
  /** `AROA` + 17 characters, stable for a given ARN. */
  roleId: string;
}

export interface TrustPolicyInit {
  providerArn: string;
  /** Defaults to the host part of `providerArn`. */
  providerHost?: string;
  sub: string | string[];
  aud: string | string[];
  /** For `sub`; default `StringEquals`. Wildcards need `StringLike`. */
  operator?: 'StringEquals' | 'StringLike';
}

export type StsFault =
  | { kind: 'throttle' }
  | { kind: 'http'; status: 500 | 502 | 503 | 504 }
  | { kind: 'idp-communication' }
  | { kind: 'verification-key' }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  | { kind: 'region-disabled' }
  | { kind: 'packed-policy' };

export interface FaultOptions {
  /** How many matching requests get the fault; default 1. `Infinity` until `clearFaults()`. */
  times?: number;
  /** Only requests with this `Action`; default any. */
  action?: string;
}

export interface RecordedRequest {
  /** The `Action` parameter, `''` when absent. */
  action: string;
  method: string;
  params: Record<string, string>;
  /** Lower-case names, as received. */
  headers: Record<string, string>;
  at: Date;
  /** HTTP status sent; 0 when the connection was reset by a fault. */
  status: number;
  errorCode?: string;
  requestId: string;
  /** The trust-policy decision, when evaluation was reached. */
  trust?: TrustDecision;
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  roleArn: string;
  assumedRoleArn: string;
  assumedRoleId: string;
  sessionName: string;
  accountId: string;
  subject: string;
  audience: string;
}

export interface StsEmulator {
  /** `http://127.0.0.1:PORT/`, for `endpoint` / `--endpoint-url`. */
  readonly url: string;
  /** A copy of the request log, oldest first. */
  readonly requests: RecordedRequest[];
  /** Every credential set handed out, oldest first. */
  readonly issued: IssuedCredentials[];
  /** Registers an IAM OIDC provider; returns its ARN `arn:aws:iam::<acct>:oidc-provider/<host>`. */
  addOidcProvider(init: OidcProviderInit): string;
  addRole(init: RoleInit): RoleRef;
  /** GitLab's documented trust policy for a provider, `sub` and `aud`. */
  trustPolicyFor(init: TrustPolicyInit): TrustPolicyDocument;
  injectFault(fault: StsFault, options?: FaultOptions): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  /** Clears the request log and pending faults; providers, roles and issued keys stay. */
  reset(): void;
  /** AssumeRoleWithWebIdentity requests received (successful, failed and faulted). */
  exchangeCount(): number;
  stop(): Promise<void>;
}

export interface TrustPolicyDocument {
  Version: '2012-10-17';
  Statement: Array<{
    Effect: 'Allow';
    Principal: { Federated: string };
    Action: 'sts:AssumeRoleWithWebIdentity';
    Condition: Record<string, Record<string, string | string[]>>;
  }>;
}

interface Provider {
  readonly arn: string;
  readonly accountId: string;
  /** URL without scheme: `gitlab.example.com[/path]`; the condition-key prefix. */
  readonly host: string;
  readonly clientIds: readonly string[];
  readonly fetchBaseUrl: string;
}

interface Role {
  readonly arn: string;
  readonly roleId: string;
  readonly accountId: string;
  readonly roleName: string;
  readonly partition: string;
  readonly maxSessionDuration: number;
  readonly trustPolicy: object;
}

interface ScheduledFault {
  readonly fault: StsFault;
  readonly action: string | undefined;
  remaining: number;
}

/** A failure answered as an AWS Query `ErrorResponse`. */
class StsFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ROLE_PATH = /^\/(?:[\x21-\x7e]*\/)?$/;
const SESSION_NAME = /^[\w+=,.@-]*$/;
const ARN_CHARS = /^[\t\n\r\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u;
const POLICY_CHARS = /^[\t\n\r\u0020-\u00FF]+$/;
const ROLE_ARN = /^arn:([\w-]+):iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/;
const SIGV4_WINDOW_MS = 15 * 60 * 1000;

function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  for (let i = 0; out.length < length; i += 1) out += BASE32[(bytes[i % bytes.length] ?? 0) % 32];
  return out;
}

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** `https://gitlab.example.com/` → `gitlab.example.com`; the form IAM stores and uses in keys. */
function providerHost(url: string): string {
  return url.replace(/^https:\/\//, '').replace(/\/+$/, '');
}

/** GitLab's documented trust policy (sub with `operator`, aud with StringEquals). */
export function trustPolicyFor(init: TrustPolicyInit): TrustPolicyDocument {
  const host = init.providerHost ?? init.providerArn.replace(/^arn:[^:]+:iam::\d{12}:oidc-provider\//, '');
  const operator = init.operator ?? 'StringEquals';
  const condition: Record<string, Record<string, string | string[]>> = {};
  condition.StringEquals = { [`${host}:aud`]: init.aud };
  condition[operator] = { ...condition[operator], [`${host}:sub`]: init.sub };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: init.providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
      },
    ],
  };
}

function headerRecord(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

// ---------------------------------------------------------------------------------------------
// Parameter validation, in the message style of AWS's generated validators.

function validationMessage(problems: readonly string[]): string {
  const count = problems.length;
  return `${count} validation error${count === 1 ? '' : 's'} detected: ${problems.join('; ')}`;
}

function describeValue(member: string, value: string | undefined, sensitive: boolean): string {
  if (value === undefined) return `Value null at '${member}'`;
  return sensitive ? `Value at '${member}'` : `Value '${value}' at '${member}'`;
}

function checkString(
  problems: string[],
  member: string,
  value: string | undefined,
  rules: {
    required?: boolean;
    min?: number;
    max?: number;
    pattern?: RegExp;
    patternText?: string;
    sensitive?: boolean;
  },
): void {
  const violations: string[] = [];
  if (value === undefined) {
    if (rules.required === true) violations.push('Member must not be null');
  } else {
    if (rules.min !== undefined && value.length < rules.min) {
      violations.push(`Member must have length greater than or equal to ${rules.min}`);
    }
    if (rules.max !== undefined && value.length > rules.max) {
      violations.push(`Member must have length less than or equal to ${rules.max}`);
    }
    if (rules.pattern !== undefined && value.length > 0 && !rules.pattern.test(value)) {
      violations.push(`Member must satisfy regular expression pattern: ${rules.patternText ?? ''}`);
    }
  }
  for (const violation of violations) {
    problems.push(
      `${describeValue(member, value, rules.sensitive === true)} failed to satisfy constraint: ${violation}`,
    );
  }
}

interface ExchangeParams {
  roleArn: string;
  sessionName: string;
  token: string;
  durationSeconds: number;
  policyLength: number;
}

function validateExchange(params: Record<string, string>): ExchangeParams {
  const problems: string[] = [];
  const roleArn = params.RoleArn;
  const sessionName = params.RoleSessionName;
  const token = params.WebIdentityToken;
  checkString(problems, 'roleArn', roleArn, {
    required: true,
    min: 20,
    max: 2048,
    pattern: ARN_CHARS,
    patternText:
      '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+',
  });
  checkString(problems, 'roleSessionName', sessionName, {
    required: true,
    min: 2,
    max: 64,
    pattern: SESSION_NAME,
    patternText: '[\\w+=,.@-]*',
  });
  checkString(problems, 'webIdentityToken', token, { required: true, min: 4, max: 20000, sensitive: true });
  checkString(problems, 'providerId', params.ProviderId, { min: 4, max: 2048 });
  const policyArns = Object.entries(params).filter(([name]) => /^PolicyArns\.member\.\d+\.arn$/.test(name));
  for (const [name, value] of policyArns) {
    const index = name.split('.')[2] ?? '?';
    checkString(problems, `policyArns.${index}.member.arn`, value, { min: 20, max: 2048 });
  }
  checkString(problems, 'policy', params.Policy, {
    min: 1,
    max: 2048,
    pattern: POLICY_CHARS,
    patternText: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+',
  });
  let durationSeconds = 3600;
  const duration = params.DurationSeconds;
  if (duration !== undefined) {
    if (!/^-?\d+$/.test(duration.trim())) {
      problems.push(
        `Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must be a number`,
      );
    } else {
      durationSeconds = Number(duration.trim());
      if (durationSeconds < 900) {
        problems.push(
          `Value '${durationSeconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
        );
      } else if (durationSeconds > 43200) {
        problems.push(
          `Value '${durationSeconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`,
        );
      }
    }
  }
  if (problems.length > 0 || roleArn === undefined || sessionName === undefined || token === undefined) {
    throw new StsFailure(400, 'ValidationError', validationMessage(problems));
  }
  if (params.Policy !== undefined) {
    try {
      JSON.parse(params.Policy);
    } catch {
      throw new StsFailure(400, 'MalformedPolicyDocument', STS_MESSAGES.malformedPolicy);
    }
  }
  const policyLength =
    (params.Policy?.length ?? 0) + policyArns.reduce((total, [, value]) => total + value.length, 0);
  return { roleArn, sessionName, token, durationSeconds, policyLength };
}

// ---------------------------------------------------------------------------------------------
// Token handling.

interface DecodedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(segment)),
    );
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function decodeToken(token: string): DecodedToken {
  const parts = token.split('.');
  const [headerPart, payloadPart, signaturePart] = parts;
  if (
    parts.length !== 3 ||
    headerPart === undefined ||
    payloadPart === undefined ||
    signaturePart === undefined
  ) {
    throw new StsFailure(400, 'InvalidIdentityToken', STS_MESSAGES.unparseableToken);
  }
  const header = decodeSegment(headerPart);
  const payload = decodeSegment(payloadPart);
  if (header === undefined || payload === undefined || signaturePart.length === 0) {
    throw new StsFailure(400, 'InvalidIdentityToken', STS_MESSAGES.unparseableToken);
  }
  return { header, payload };
}

function randomToken(): string {
  // Real session tokens are opaque base64 of varying size, starting with a fixed marker.
  return `IQoJb3JpZ2luX2VjE${randomBytes(720).toString('base64')}`;
}

// ---------------------------------------------------------------------------------------------

/** Starts an STS emulator on 127.0.0.1 at a random port. */
export async function startSts(options: StartStsOptions = {}): Promise<StsEmulator> {
  const now = options.now ?? Date.now;
  const idpTimeoutMs = options.idpTimeoutMs ?? 5000;
  const skewSeconds = options.clockSkewSeconds ?? 300;
  let latencyMs = options.latencyMs ?? 0;
  const providers: Provider[] = [];
  const roles = new Map<string, Role>();
  const credentials = new Map<string, IssuedCredentials>();
  const issued: IssuedCredentials[] = [];
  let requests: RecordedRequest[] = [];
  let faults: ScheduledFault[] = [];
  const inflight = new Set<AbortController>();

  const takeFault = (action: string): StsFault | undefined => {
    const scheduled = faults.find((entry) => entry.remaining > 0 && (entry.action ?? action) === action);
    if (scheduled === undefined) return undefined;
    scheduled.remaining -= 1;
    faults = faults.filter((entry) => entry.remaining > 0);
    return scheduled.fault;
  };

  /** GET with a deadline shared by discovery and JWKS, like STS's overall IdP budget. */
  const fetchJson = async (url: string, signal: AbortSignal): Promise<unknown> => {
    const response = await fetch(url, { signal, headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return response.json();
  };

  const fetchKeys = async (provider: Provider): Promise<JSONWebKeySet> => {
    const controller = new AbortController();
    inflight.add(controller);
    const timer = setTimeout(() => controller.abort(), idpTimeoutMs);
    try {
      const base = provider.fetchBaseUrl.replace(/\/+$/, '');
      const discovery = await fetchJson(`${base}/.well-known/openid-configuration`, controller.signal);
      const jwksUri =
        typeof discovery === 'object' && discovery !== null && 'jwks_uri' in discovery
          ? discovery.jwks_uri
          : undefined;
      if (typeof jwksUri !== 'string') throw new Error('discovery document has no jwks_uri');
      // jwks_uri names the public issuer host; send it where that host really lives.
      const publicBase = `https://${provider.host}`;
      const target = jwksUri.startsWith(publicBase)
        ? `${base}${jwksUri.slice(publicBase.length)}`
        : `${base}${new URL(jwksUri).pathname}`;
      const jwks = await fetchJson(target, controller.signal);
      if (typeof jwks !== 'object' || jwks === null || !('keys' in jwks) || !Array.isArray(jwks.keys)) {
        throw new Error('JWKS has no keys array');
      }
      return jwks as JSONWebKeySet;
    } catch {
      throw new StsFailure(400, 'InvalidIdentityToken', STS_MESSAGES.verificationKey);
    } finally {
      clearTimeout(timer);
      inflight.delete(controller);
    }
  };

  const verifySignature = async (token: string, header: Record<string, unknown>, provider: Provider) => {
    if (header.alg !== 'RS256') {
      throw new StsFailure(400, 'InvalidIdentityToken', STS_MESSAGES.unsupportedAlgorithm);
    }
    const jwks = await fetchKeys(provider);
    let keySet: ReturnType<typeof createLocalJWKSet>;
    try {
      keySet = createLocalJWKSet(jwks);
    } catch {
      throw new StsFailure(400, 'InvalidIdentityToken', STS_MESSAGES.verificationKey);
    }
    try {
      await compactVerify(token, keySet, { algorithms: ['RS256'] });
    } catch (error) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
      const message =
        code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'
          ? STS_MESSAGES.unknownKid
          : STS_MESSAGES.badSignature;
      throw new StsFailure(400, 'InvalidIdentityToken', message);
    }
  };

  const assumeRoleWithWebIdentity = async (
    params: Record<string, string>,
    record: RecordedRequest,
  ): Promise<XmlElement> => {
    const input = validateExchange(params);
    const { header, payload } = decodeToken(input.token);

    const arn = ROLE_ARN.exec(input.roleArn);
    const accountId = arn?.[2];
    if (accountId === undefined) throw new StsFailure(400, 'ValidationError', STS_MESSAGES.invalidArn);

    const iss = payload.iss;
    if (typeof iss !== 'string')
      throw new StsFailure(400, 'InvalidIdentityToken', STS_MESSAGES.missingClaim('iss'));
    const provider = providers.find(
      (entry) => entry.accountId === accountId && `https://${entry.host}` === iss,
    );
    if (provider === undefined)
      throw new StsFailure(400, 'InvalidIdentityToken', STS_MESSAGES.noProvider(iss));

    await verifySignature(input.token, header, provider);

    const audiences =
      typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
    const audience = audiences.find(
      (value): value is string => typeof value === 'string' && provider.clientIds.includes(value),
    );
    if (audience === undefined)
      throw new StsFailure(400, 'InvalidIdentityToken', STS_MESSAGES.incorrectAudience);

    const nowSeconds = Math.floor(now() / 1000);
    const exp = payload.exp;
    if (typeof exp !== 'number')
      throw new StsFailure(400, 'InvalidIdentityToken', STS_MESSAGES.missingClaim('exp'));
    if (nowSeconds > exp + skewSeconds) {
      throw new StsFailure(400, 'ExpiredTokenException', STS_MESSAGES.tokenExpired(nowSeconds, exp));
    }
    if (typeof payload.nbf === 'number' && payload.nbf > nowSeconds + skewSeconds) {
      throw new StsFailure(400, 'InvalidIdentityToken', STS_MESSAGES.notYetValid);
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0) {
      throw new StsFailure(400, 'InvalidIdentityToken', STS_MESSAGES.missingClaim('sub'));
    }

    const role = roles.get(input.roleArn);
    if (role === undefined) throw new StsFailure(403, 'AccessDenied', STS_MESSAGES.accessDenied);
    const decision = evaluateTrustPolicy(role.trustPolicy, {
      action: 'sts:AssumeRoleWithWebIdentity',
      principal: { federated: provider.arn },
      context: {
        [`${provider.host}:sub`]: sub,
        [`${provider.host}:aud`]: audience,
        'aws:FederatedProvider': provider.arn,
        'sts:RoleSessionName': input.sessionName,
      },
    });
    record.trust = decision;
    if (!decision.allowed) throw new StsFailure(403, 'AccessDenied', STS_MESSAGES.accessDenied);
    if (input.durationSeconds > role.maxSessionDuration) {
      throw new StsFailure(400, 'ValidationError', STS_MESSAGES.durationExceedsMax);
    }

    const expiration = new Date(Math.floor(now() / 1000) * 1000 + input.durationSeconds * 1000);
    const assumedRoleArn = `arn:${role.partition}:sts::${role.accountId}:assumed-role/${role.roleName}/${input.sessionName}`;
    const issuedCredentials: IssuedCredentials = {
      accessKeyId: `ASIA${base32(randomBytes(16), 16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomToken(),
      expiration,
      roleArn: role.arn,
      assumedRoleArn,
      assumedRoleId: `${role.roleId}:${input.sessionName}`,
      sessionName: input.sessionName,
      accountId: role.accountId,
      subject: sub,
      audience,
    };
    credentials.set(issuedCredentials.accessKeyId, issuedCredentials);
    issued.push(issuedCredentials);

    const result: XmlElement[] = [
      parent(
        'Credentials',
        el('AccessKeyId', issuedCredentials.accessKeyId),
        el('SecretAccessKey', issuedCredentials.secretAccessKey),
        el('SessionToken', issuedCredentials.sessionToken),
        el('Expiration', isoSeconds(expiration)),
      ),
      el('SubjectFromWebIdentityToken', sub),
      parent(
        'AssumedRoleUser',
        el('AssumedRoleId', issuedCredentials.assumedRoleId),
        el('Arn', issuedCredentials.assumedRoleArn),
      ),
    ];
    if (input.policyLength > 0) {
      // Real STS reports a percentage of a compressed budget; any stable small number will do here.
      result.push(el('PackedPolicySize', String(Math.min(99, Math.ceil((input.policyLength * 100) / 4096)))));
    }
    // Real STS answers with the provider ARN here for IAM OIDC providers (the model says "iss").
    result.push(el('Provider', provider.arn), el('Audience', audience));
    return parent('AssumeRoleWithWebIdentityResult', ...result);
  };

  const getCallerIdentity = async (
    request: IncomingMessage,
    url: URL,
    body: Buffer,
    params: Record<string, string>,
  ): Promise<XmlElement> => {
    const authorization = request.headers.authorization;
    if (authorization === undefined) {
      throw new StsFailure(403, 'MissingAuthenticationToken', STS_MESSAGES.missingAuthenticationToken);
    }
    const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(authorization.trim());
    const fields = new Map<string, string>();
    for (const part of (match?.[1] ?? '').split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const credential = fields.get('Credential');
    const signedHeaders = fields.get('SignedHeaders');
    const signature = fields.get('Signature');
    const dateHeader = request.headers['x-amz-date'];
    if (
      match === null ||
      credential === undefined ||
      signedHeaders === undefined ||
      signature === undefined ||
      typeof dateHeader !== 'string'
    ) {
      const missing = [
        match === null ? `Unsupported AWS 'algorithm' in Authorization header.` : '',
        credential === undefined ? "Authorization header requires 'Credential' parameter." : '',
        signature === undefined ? "Authorization header requires 'Signature' parameter." : '',
        signedHeaders === undefined ? "Authorization header requires 'SignedHeaders' parameter." : '',
        typeof dateHeader !== 'string'
          ? "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
          : '',
      ].filter((text) => text.length > 0);
      throw new StsFailure(400, 'IncompleteSignature', `${missing.join(' ')} Authorization=${authorization}`);
    }
    const [accessKeyId, scopeDate, region, service, terminator] = credential.split('/');
    const issuedCredentials = accessKeyId === undefined ? undefined : credentials.get(accessKeyId);
    if (issuedCredentials === undefined) {
      throw new StsFailure(403, 'InvalidClientTokenId', STS_MESSAGES.invalidClientTokenId);
    }
    const securityToken = request.headers['x-amz-security-token'] ?? params['X-Amz-Security-Token'];
    if (securityToken !== issuedCredentials.sessionToken) {
      throw new StsFailure(403, 'InvalidClientTokenId', STS_MESSAGES.invalidClientTokenId);
    }
    if (now() >= issuedCredentials.expiration.getTime()) {
      throw new StsFailure(403, 'ExpiredToken', STS_MESSAGES.expiredToken);
    }
    if (service !== 'sts' || terminator !== 'aws4_request' || region === undefined || region.length === 0) {
      throw new StsFailure(
        403,
        'SignatureDoesNotMatch',
        "Credential should be scoped to correct service: 'sts'. ",
      );
    }
    const dateMatch = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(dateHeader);
    if (dateMatch === null) {
      throw new StsFailure(
        400,
        'IncompleteSignature',
        `Date must be in ISO-8601 'basic format'. Got '${dateHeader}'.`,
      );
    }
    const [, year, month, day, hour, minute, second] = dateMatch;
    const signingDate = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
    if (scopeDate !== dateHeader.slice(0, 8)) {
      throw new StsFailure(
        403,
        'SignatureDoesNotMatch',
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${dateHeader.slice(0, 8)}', from '${dateHeader}'.`,
      );
    }
    const nowMs = now();
    if (signingDate.getTime() < nowMs - SIGV4_WINDOW_MS) {
      const limit = amzDate(new Date(nowMs - SIGV4_WINDOW_MS));
      throw new StsFailure(
        403,
        'SignatureDoesNotMatch',
        `Signature expired: ${dateHeader} is now earlier than ${limit} (${amzDate(new Date(nowMs))} - 15 min.)`,
      );
    }
    if (signingDate.getTime() > nowMs + SIGV4_WINDOW_MS) {
      const limit = amzDate(new Date(nowMs + SIGV4_WINDOW_MS));
      throw new StsFailure(
        403,
        'SignatureDoesNotMatch',
        `Signature not yet current: ${dateHeader} is still later than ${limit} (${amzDate(new Date(nowMs))} + 15 min.)`,
      );
    }

    // Recompute the signature over exactly the headers the client says it signed.
    const names = signedHeaders.split(';').map((name) => name.trim().toLowerCase());
    const headers: Record<string, string> = {};
    for (const name of names) {
      const value = request.headers[name];
      if (value === undefined)
        throw new StsFailure(403, 'SignatureDoesNotMatch', STS_MESSAGES.signatureDoesNotMatch);
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    // The signer trusts a client-sent body hash; the server must hash what actually arrived.
    if (
      headers['x-amz-content-sha256'] !== undefined &&
      headers['x-amz-content-sha256'] !== 'UNSIGNED-PAYLOAD'
    ) {
      headers['x-amz-content-sha256'] = createHash('sha256').update(body).digest('hex');
    }
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of url.searchParams) {
      const existing = query[name];
      query[name] =
        existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    const signer = new SignatureV4({
      credentials: {
        accessKeyId: issuedCredentials.accessKeyId,
        secretAccessKey: issuedCredentials.secretAccessKey,
      },
      region,
      service: 'sts',
      sha256: Sha256,
      applyChecksum: false,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: request.method ?? 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: url.pathname,
        query,
        headers,
        body,
      }),
      { signingDate, signableHeaders: new Set(names) },
    );
    const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
      throw new StsFailure(403, 'SignatureDoesNotMatch', STS_MESSAGES.signatureDoesNotMatch);
    }
    return parent(
      'GetCallerIdentityResult',
      el('Arn', issuedCredentials.assumedRoleArn),
      el('UserId', issuedCredentials.assumedRoleId),
      el('Account', issuedCredentials.accountId),
    );
  };

  const faultFailure = (fault: StsFault, params: Record<string, string>): StsFailure | undefined => {
    switch (fault.kind) {
      case 'throttle':
        return new StsFailure(400, 'Throttling', STS_MESSAGES.rateExceeded);
      case 'http':
        return fault.status === 503 || fault.status === 504
          ? new StsFailure(fault.status, 'ServiceUnavailable', STS_MESSAGES.serviceUnavailable, 'Receiver')
          : new StsFailure(fault.status, 'InternalFailure', STS_MESSAGES.internalFailure, 'Receiver');
      case 'idp-communication':
        return new StsFailure(400, 'IDPCommunicationError', STS_MESSAGES.idpCommunication);
      case 'verification-key':
        return new StsFailure(400, 'InvalidIdentityToken', STS_MESSAGES.verificationKey);
      case 'region-disabled':
        return new StsFailure(
          403,
          'RegionDisabledException',
          STS_MESSAGES.regionDisabled(ROLE_ARN.exec(params.RoleArn ?? '')?.[2] ?? '123456789012'),
        );
      case 'packed-policy':
        return new StsFailure(400, 'PackedPolicyTooLarge', STS_MESSAGES.packedPolicyTooLarge);
      case 'reset':
      case 'delay':
        return undefined;
    }
  };

  const server = await startLoopbackServer(async (request: IncomingMessage, response: ServerResponse) => {
    const at = new Date(now());
    const requestId = randomUUID();
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    let body: Buffer;
    try {
      body = await readBody(request);
    } catch {
      request.socket.destroy();
      return;
    }
    const params: Record<string, string> = {};
    for (const [name, value] of url.searchParams) params[name] = value;
    const contentType = request.headers['content-type'] ?? '';
    if (
      body.length > 0 &&
      (contentType === '' || contentType.includes('application/x-www-form-urlencoded'))
    ) {
      for (const [name, value] of new URLSearchParams(body.toString('utf8'))) params[name] = value;
    }
    const action = params.Action ?? '';
    const record: RecordedRequest = {
      action,
      method: request.method ?? 'GET',
      params,
      headers: headerRecord(request),
      at,
      status: 0,
      requestId,
    };
    requests.push(record);

    const send = (status: number, root: XmlElement) => {
      const text = renderXmlDocument(root, STS_NAMESPACE);
      record.status = status;
      response.writeHead(status, {
        'x-amzn-RequestId': requestId,
        'Content-Type': 'text/xml',
        'Content-Length': Buffer.byteLength(text),
        Date: new Date().toUTCString(),
      });
      response.end(text);
    };
    const sendFailure = (failure: StsFailure) => {
      record.errorCode = failure.code;
      send(
        failure.status,
        parent(
          'ErrorResponse',
          parent('Error', el('Type', failure.type), el('Code', failure.code), el('Message', failure.message)),
          el('RequestId', requestId),
        ),
      );
    };

    if (!(await server.delay(latencyMs))) return;
    const fault = takeFault(action);
    if (fault !== undefined) {
      if (fault.kind === 'reset') {
        record.errorCode = 'ConnectionReset';
        request.socket.destroy();
        return;
      }
      if (fault.kind === 'delay' && !(await server.delay(fault.ms))) return;
      const failure = faultFailure(fault, params);
      if (failure !== undefined) {
        sendFailure(failure);
        return;
      }
    }

    try {
      const version = params.Version ?? '';
      let result: XmlElement;
      if (version === STS_VERSION && action === 'AssumeRoleWithWebIdentity') {
        result = await assumeRoleWithWebIdentity(params, record);
      } else if (version === STS_VERSION && action === 'GetCallerIdentity') {
        result = await getCallerIdentity(request, url, body, params);
      } else {
        throw new StsFailure(400, 'InvalidAction', STS_MESSAGES.invalidAction(action, version));
      }
      if (server.stopped) return;
      send(200, parent(`${action}Response`, result, parent('ResponseMetadata', el('RequestId', requestId))));
    } catch (error) {
      if (!(error instanceof StsFailure)) throw error;
      if (server.stopped) return;
      sendFailure(error);
    }
  });

  return {
    url: `${server.baseUrl}/`,
    get requests() {
      return [...requests];
    },
    get issued() {
      return [...issued];
    },
    addOidcProvider(init) {
      if (!/^\d{12}$/.test(init.accountId)) throw new Error(`addOidcProvider: accountId must be 12 digits`);
      if (!/^https:\/\/[^/:?#]+(\/[^?#]*)?$/.test(init.url)) {
        throw new Error(
          `addOidcProvider: url must start with https:// and have no port or query, got ${init.url}`,
        );
      }
      if (init.clientIds.length === 0 || init.clientIds.length > 100) {
        throw new Error('addOidcProvider: 1 to 100 client IDs');
      }
      const host = providerHost(init.url);
      if (providers.some((entry) => entry.accountId === init.accountId && entry.host === host)) {
        throw new Error(`addOidcProvider: provider ${host} already exists in ${init.accountId}`);
      }
      const arn = `arn:${init.partition ?? 'aws'}:iam::${init.accountId}:oidc-provider/${host}`;
      providers.push({
        arn,
        accountId: init.accountId,
        host,
        clientIds: [...init.clientIds],
        fetchBaseUrl: init.fetchBaseUrl,
      });
      return arn;
    },
    addRole(init) {
      const path = init.path ?? '/';
      const maxSessionDuration = init.maxSessionDuration ?? 3600;
      const partition = init.partition ?? 'aws';
      if (!/^\d{12}$/.test(init.accountId)) throw new Error('addRole: accountId must be 12 digits');
      if (!ROLE_NAME.test(init.roleName)) throw new Error(`addRole: invalid role name ${init.roleName}`);
      if (!ROLE_PATH.test(path) || path.length > 512) throw new Error(`addRole: invalid path ${path}`);
      if (!Number.isInteger(maxSessionDuration) || maxSessionDuration < 3600 || maxSessionDuration > 43200) {
        throw new Error(`addRole: maxSessionDuration must be 3600..43200, got ${maxSessionDuration}`);
      }
      try {
        // IAM refuses a malformed trust policy at CreateRole time, not at AssumeRole time.
        evaluateTrustPolicy(init.trustPolicy, {
          action: 'sts:AssumeRoleWithWebIdentity',
          principal: { federated: '' },
          context: {},
        });
      } catch (error) {
        throw new Error(
          `addRole: MalformedPolicyDocument: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      const policyText = JSON.stringify(init.trustPolicy);
      if (policyText.length > 2048) {
        throw new Error(
          `addRole: trust policy is ${policyText.length} characters; IAM's default limit is 2048`,
        );
      }
      for (const role of roles.values()) {
        if (
          role.accountId === init.accountId &&
          role.roleName.toLowerCase() === init.roleName.toLowerCase()
        ) {
          throw new Error(`addRole: role ${init.roleName} already exists in ${init.accountId}`);
        }
      }
      const arn = `arn:${partition}:iam::${init.accountId}:role${path}${init.roleName}`;
      const roleId = `AROA${base32(createHash('sha256').update(arn).digest(), 17)}`;
      roles.set(arn, {
        arn,
        roleId,
        accountId: init.accountId,
        roleName: init.roleName,
        partition,
        maxSessionDuration,
        trustPolicy: JSON.parse(policyText) as object,
      });
      return { arn, roleId };
    },
    trustPolicyFor,
    injectFault(fault, faultOptions = {}) {
      const times = faultOptions.times ?? 1;
      if (!(times > 0)) throw new Error('injectFault: times must be positive');
      faults.push({ fault, action: faultOptions.action, remaining: times });
    },
    clearFaults() {
      faults = [];
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    reset() {
      requests = [];
      faults = [];
    },
    exchangeCount() {
      return requests.filter((entry) => entry.action === 'AssumeRoleWithWebIdentity').length;
    },
    async stop() {
      for (const controller of inflight) controller.abort();
      await server.stop();
    },
  };
}
