import { describe, expect, it } from 'vitest';
import type { AwsCredentials } from '../credentials.js';
import {
  credentialVariables,
  formatCredentialProcessJson,
  formatEnvLines,
  formatExpiration,
  profileEntries,
} from './formats.js';

const credentials: AwsCredentials = {
  accessKeyId: 'ASIAEXAMPLEEXAMPLE12',
  secretAccessKey: 'secret/with+chars=',
  sessionToken: 'FwoGZXIvYXdzEJr//////////wEaDH+token==',
  expiration: new Date('2026-11-27T03:00:00.000Z'),
  accountId: '123456789012',
};

describe('output formats', () => {
  it('writes credential_process JSON with Version 1 and an ISO-8601 expiration', () => {
    expect(JSON.parse(formatCredentialProcessJson(credentials))).toEqual({
      Version: 1,
      AccessKeyId: 'ASIAEXAMPLEEXAMPLE12',
      SecretAccessKey: 'secret/with+chars=',
      SessionToken: 'FwoGZXIvYXdzEJr//////////wEaDH+token==',
      Expiration: '2026-11-27T03:00:00Z',
      AccountId: '123456789012',
    });
  });

  it('omits AccountId when unknown', () => {
    const json = JSON.parse(formatCredentialProcessJson({ ...credentials, accountId: undefined }));
    expect(json).not.toHaveProperty('AccountId');
  });

  it('writes dotenv-compatible KEY=value lines: unquoted, no blank lines', () => {
    const text = formatEnvLines(credentials, { exportPrefix: false });
    expect(text).toBe(
      'AWS_ACCESS_KEY_ID=ASIAEXAMPLEEXAMPLE12\n' +
        'AWS_SECRET_ACCESS_KEY=secret/with+chars=\n' +
        'AWS_SESSION_TOKEN=FwoGZXIvYXdzEJr//////////wEaDH+token==\n' +
        'AWS_CREDENTIAL_EXPIRATION=2026-11-27T03:00:00Z\n' +
        'AWS_ACCOUNT_ID=123456789012\n',
    );
    for (const line of text.trimEnd().split('\n')) expect(line).toMatch(/^[A-Z_]+=[^\s'"]+$/);
  });

  it('sets AWS_ACCOUNT_ID with the keys, and leaves it out when the account is unknown', () => {
    expect(credentialVariables(credentials).at(-1)).toEqual(['AWS_ACCOUNT_ID', '123456789012']);
    const unknown = credentialVariables({ ...credentials, accountId: undefined }).map(([name]) => name);
    expect(unknown).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_CREDENTIAL_EXPIRATION',
    ]);
  });

  it('prefixes export and quotes only what a shell would misread', () => {
    const text = formatEnvLines({ ...credentials, secretAccessKey: "it's $x" }, { exportPrefix: true });
    expect(text).toContain('export AWS_ACCESS_KEY_ID=ASIAEXAMPLEEXAMPLE12\n');
    expect(text).toContain(`export AWS_SECRET_ACCESS_KEY='it'\\''s $x'\n`);
  });

  it('unsets shadowing variables first, only for a shell', () => {
    const text = formatEnvLines(credentials, {
      exportPrefix: true,
      unset: ['AWS_PROFILE', 'AWS_SECURITY_TOKEN'],
    });
    expect(text.split('\n')[0]).toBe('unset AWS_PROFILE AWS_SECURITY_TOKEN');
    expect(formatEnvLines(credentials, { exportPrefix: false, unset: ['AWS_PROFILE'] })).not.toContain(
      'unset',
    );
    expect(formatEnvLines(credentials, { exportPrefix: true, unset: [] })).not.toContain('unset');
  });

  it('names the profile keys the AWS CLI reads', () => {
    expect(profileEntries(credentials)).toEqual([
      ['aws_access_key_id', 'ASIAEXAMPLEEXAMPLE12'],
      ['aws_secret_access_key', 'secret/with+chars='],
      ['aws_session_token', 'FwoGZXIvYXdzEJr//////////wEaDH+token=='],
      ['aws_security_token', undefined],
      ['aws_account_id', '123456789012'],
      ['expiration', '2026-11-27T03:00:00Z'],
    ]);
    expect(formatExpiration(new Date('2026-01-01T00:00:00.123Z'))).toBe('2026-01-01T00:00:00Z');
  });
});
