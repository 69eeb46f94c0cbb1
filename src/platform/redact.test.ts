import { describe, expect, it } from 'vitest';
import { Redactor } from './redact.js';

describe('Redactor', () => {
  it('replaces known secrets, longest first, and anything shaped like a JWT', () => {
    const redactor = new Redactor();
    redactor.add('SECRETSECRET');
    redactor.add('SECRETSECRETLONGER');
    redactor.add('short');
    expect(redactor.redact('a SECRETSECRETLONGER b SECRETSECRET c short')).toBe(
      'a [REDACTED] b [REDACTED] c short',
    );
    expect(redactor.redact('token eyJhbGciOi.eyJzdWIiOi.c2lnbmF0 end')).toBe('token [REDACTED JWT] end');
  });

  it.each([
    ['http://user:S3cretProxyPass@127.0.0.1:1', 'http://user:****@127.0.0.1:1'],
    [
      'the request to STS at https://u:p%40ss@sts.example.com/ failed',
      'the request to STS at https://u:****@sts.example.com/ failed',
    ],
    [
      'proxy http://user:p@ss@host:3128 (from HTTP_PROXY)',
      'proxy http://user:****@host:3128 (from HTTP_PROXY)',
    ],
    ['HTTPS_PROXY=http://glpat-token@proxy:8080', 'HTTPS_PROXY=http://****@proxy:8080'],
    ['socks5://user:pw@h, then http://a:b@c', 'socks5://user:****@h, then http://a:****@c'],
  ])('masks the credentials in %s', (text, expected) => {
    expect(new Redactor().redact(text)).toBe(expected);
  });

  it.each([
    'http://user:****@127.0.0.1:1',
    'http://****@127.0.0.1:1',
    'endpoint http://127.0.0.1:4566/ and mail to ops@example.com',
    'http://[::1]:8080/path?q=a@b#c@d',
    'https://sts.us-east-1.amazonaws.com/ user@host',
    'arn:aws:sts::123456789012:assumed-role/r/s',
  ])('leaves %s as it is', (text) => {
    expect(new Redactor().redact(text)).toBe(text);
  });
});
