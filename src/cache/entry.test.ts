import { describe, expect, it } from 'vitest';
import { type CachedCredentials, decodeCachedCredentials, encodeCachedCredentials } from './entry.js';

const VALUE: CachedCredentials = {
  credentials: {
    accessKeyId: 'ASIAEXAMPLE',
    secretAccessKey: 'secret',
    sessionToken: 'session',
    expiration: new Date('2026-01-01T13:00:00.000Z'),
    accountId: '123456789012',
  },
  assumedRoleArn: 'arn:aws:sts::123456789012:assumed-role/r/s',
};

describe('encodeCachedCredentials / decodeCachedCredentials', () => {
  it('round-trips, with and without the optional fields', () => {
    expect(decodeCachedCredentials(encodeCachedCredentials(VALUE))).toEqual(VALUE);
    const { accountId: _accountId, ...bare } = VALUE.credentials;
    const minimal: CachedCredentials = { credentials: bare, assumedRoleArn: undefined };
    expect(decodeCachedCredentials(encodeCachedCredentials(minimal))).toEqual(minimal);
  });

  it('stores only credentials, expiration, account and assumed-role ARN', () => {
    expect(Object.keys(JSON.parse(encodeCachedCredentials(VALUE)) as object).sort()).toEqual([
      'accessKeyId',
      'accountId',
      'assumedRoleArn',
      'expiration',
      'secretAccessKey',
      'sessionToken',
    ]);
  });

  it.each([
    'not json',
    'null',
    '[]',
    '{}',
    JSON.stringify({ accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't' }),
    JSON.stringify({ accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't', expiration: 'soon' }),
    JSON.stringify({
      accessKeyId: '',
      secretAccessKey: 's',
      sessionToken: 't',
      expiration: '2026-01-01T00:00:00Z',
    }),
    JSON.stringify({
      accessKeyId: 'a',
      secretAccessKey: 's',
      sessionToken: 7,
      expiration: '2026-01-01T00:00:00Z',
    }),
    JSON.stringify({
      accessKeyId: 'a',
      secretAccessKey: 's',
      sessionToken: 't',
      expiration: '2026-01-01T00:00:00Z',
      assumedRoleArn: 42,
    }),
  ])('rejects %s', (text) => {
    expect(decodeCachedCredentials(text)).toBeUndefined();
  });
});
