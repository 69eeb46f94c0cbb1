/** The three ways credentials leave the tool, as pure functions of the credentials. */
import type { AwsCredentials } from '../credentials.js';

/** ISO-8601 in UTC without milliseconds, as STS and the AWS CLI write it. */
export function formatExpiration(expiration: Date): string {
  return expiration.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The credential_process contract: Version 1 and the keys the AWS CLI and SDKs read. */
export function formatCredentialProcessJson(credentials: AwsCredentials): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    SessionToken: credentials.sessionToken,
    Expiration: formatExpiration(credentials.expiration),
    ...(credentials.accountId === undefined ? {} : { AccountId: credentials.accountId }),
  });
}

/**
 * The variables every AWS SDK and the AWS CLI read, in a stable order. `AWS_ACCOUNT_ID` is paired
 * with the keys by the SDKs (botocore's and the JS SDK's environment providers) for account-based
 * endpoints, so a stale one from the job must never stay beside ours.
 */
export function credentialVariables(credentials: AwsCredentials): ReadonlyArray<readonly [string, string]> {
  return [
    ['AWS_ACCESS_KEY_ID', credentials.accessKeyId],
    ['AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey],
    ['AWS_SESSION_TOKEN', credentials.sessionToken],
    ['AWS_CREDENTIAL_EXPIRATION', formatExpiration(credentials.expiration)],
    ...(credentials.accountId === undefined ? [] : [['AWS_ACCOUNT_ID', credentials.accountId] as const]),
  ];
}

const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

function shellQuote(value: string): string {
  return SHELL_SAFE.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * `KEY=value` lines: unquoted so the output is also a valid GitLab dotenv report (no quotes, no
 * blank lines). STS credentials only contain shell-safe characters; anything else is quoted when
 * the output is meant for a shell.
 */
export function formatEnvLines(
  credentials: AwsCredentials,
  options: {
    readonly exportPrefix: boolean;
    /** With `exportPrefix`: variables to `unset` first because they would shadow the credentials. */
    readonly unset?: readonly string[];
  },
): string {
  const unset = options.exportPrefix && options.unset !== undefined && options.unset.length > 0;
  const lines = credentialVariables(credentials).map(([name, value]) =>
    options.exportPrefix ? `export ${name}=${shellQuote(value)}` : `${name}=${value}`,
  );
  return [...(unset ? [`unset ${options.unset?.join(' ')}`] : []), ...lines]
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * The keys set in (or, when `undefined`, removed from) a profile of the shared credentials file.
 * `aws_security_token` is the legacy name botocore reads before `aws_session_token`: a stale one
 * left from another tool would pair our keys with a wrong token. `aws_account_id` is read by the
 * SDKs for account-based endpoints and must not name another account.
 */
export function profileEntries(
  credentials: AwsCredentials,
): ReadonlyArray<readonly [string, string | undefined]> {
  return [
    ['aws_access_key_id', credentials.accessKeyId],
    ['aws_secret_access_key', credentials.secretAccessKey],
    ['aws_session_token', credentials.sessionToken],
    ['aws_security_token', undefined],
    ['aws_account_id', credentials.accountId],
    ['expiration', formatExpiration(credentials.expiration)],
  ];
}
