/**
 * What a cache entry holds once decrypted, and its strict decoding: only the credentials, their
 * expiration and the assumed-role ARN; nothing about the token.
 */
import type { AwsCredentials } from '../credentials.js';
import { parseJsonObject } from '../json.js';

export interface CachedCredentials {
  readonly credentials: AwsCredentials;
  readonly assumedRoleArn: string | undefined;
}

interface Payload {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** ISO-8601. */
  readonly expiration: string;
  readonly accountId?: string;
  readonly assumedRoleArn?: string;
}

export function encodeCachedCredentials(value: CachedCredentials): string {
  const { credentials } = value;
  const payload: Payload = {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    expiration: credentials.expiration.toISOString(),
    ...(credentials.accountId === undefined ? {} : { accountId: credentials.accountId }),
    ...(value.assumedRoleArn === undefined ? {} : { assumedRoleArn: value.assumedRoleArn }),
  };
  return JSON.stringify(payload);
}

/** Returns undefined for anything that is not a complete payload; the caller treats it as a miss. */
export function decodeCachedCredentials(text: string): CachedCredentials | undefined {
  const record = parseJsonObject(text);
  if (record === undefined) return undefined;
  const accessKeyId = nonEmptyString(record.accessKeyId);
  const secretAccessKey = nonEmptyString(record.secretAccessKey);
  const sessionToken = nonEmptyString(record.sessionToken);
  const expirationText = nonEmptyString(record.expiration);
  if (
    accessKeyId === undefined ||
    secretAccessKey === undefined ||
    sessionToken === undefined ||
    expirationText === undefined
  ) {
    return undefined;
  }
  const expiration = new Date(expirationText);
  if (Number.isNaN(expiration.getTime())) return undefined;
  if (!optionalString(record.accountId) || !optionalString(record.assumedRoleArn)) return undefined;
  const accountId = nonEmptyString(record.accountId);
  return {
    credentials: {
      accessKeyId,
      secretAccessKey,
      sessionToken,
      expiration,
      ...(accountId === undefined ? {} : { accountId }),
    },
    assumedRoleArn: nonEmptyString(record.assumedRoleArn),
  };
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function optionalString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}
