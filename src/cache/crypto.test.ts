import { describe, expect, it } from 'vitest';
import { openEntry, sealEntry } from './crypto.js';
import { cacheKeyFor } from './key.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
const REQUEST = {
  roleArn: 'arn:aws:iam::123456789012:role/r',
  roleSessionName: 's',
  durationSeconds: 3600,
  region: 'us-east-1',
  endpoint: 'https://sts.us-east-1.amazonaws.com',
};
const KEY = cacheKeyFor(TOKEN, REQUEST);
const OTHER_KEY = cacheKeyFor(TOKEN, { ...REQUEST, region: 'eu-west-1' });
const PLAINTEXT = JSON.stringify({
  accessKeyId: 'ASIAEXAMPLE',
  secretAccessKey: 'secret/+=',
  sessionToken: 'tok',
});

describe('sealEntry / openEntry', () => {
  it('round-trips', () => {
    expect(openEntry(TOKEN, KEY, sealEntry(TOKEN, KEY, PLAINTEXT))).toBe(PLAINTEXT);
  });

  it('writes version 1 JSON with base64 fields and neither token nor plaintext', () => {
    const text = sealEntry(TOKEN, KEY, PLAINTEXT);
    const entry = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(entry).sort()).toEqual(['data', 'iv', 'salt', 'tag', 'v']);
    expect(entry.v).toBe(1);
    expect(Buffer.from(String(entry.salt), 'base64')).toHaveLength(16);
    expect(Buffer.from(String(entry.iv), 'base64')).toHaveLength(12);
    expect(Buffer.from(String(entry.tag), 'base64')).toHaveLength(16);
    for (const secret of [TOKEN, 'ASIAEXAMPLE', 'secret', KEY]) expect(text).not.toContain(secret);
  });

  it('uses a fresh salt and IV for every write', () => {
    const a = JSON.parse(sealEntry(TOKEN, KEY, PLAINTEXT)) as Record<string, string>;
    const b = JSON.parse(sealEntry(TOKEN, KEY, PLAINTEXT)) as Record<string, string>;
    expect(a.salt).not.toBe(b.salt);
    expect(a.iv).not.toBe(b.iv);
    expect(a.data).not.toBe(b.data);
  });

  it('refuses another token', () => {
    expect(openEntry(`${TOKEN}x`, KEY, sealEntry(TOKEN, KEY, PLAINTEXT))).toBeUndefined();
  });

  it('refuses an entry made for another key (copied file)', () => {
    expect(openEntry(TOKEN, KEY, sealEntry(TOKEN, OTHER_KEY, PLAINTEXT))).toBeUndefined();
  });

  it.each<[string, (text: string) => string]>([
    ['truncated', (text) => text.slice(0, text.length / 2)],
    ['empty', () => ''],
    ['garbage', () => '\u0000\u0001not json at all'],
    ['a JSON array', () => '[1,2,3]'],
    ['JSON null', () => 'null'],
    ['another version', (text) => text.replace('"v":1', '"v":2')],
    ['a flipped ciphertext bit', (text) => withField(text, 'data', flipFirstBit)],
    ['a flipped tag bit', (text) => withField(text, 'tag', flipFirstBit)],
    ['a short IV', (text) => withField(text, 'iv', (value) => value.slice(0, 8))],
    ['a non-base64 salt', (text) => withField(text, 'salt', (value) => `!${value.slice(1)}`)],
    ['a missing tag', (text) => withField(text, 'tag', () => undefined)],
    ['a huge file', (text) => text + ' '.repeat(100_000)],
  ])('treats %s as unreadable', (_name, damage) => {
    expect(openEntry(TOKEN, KEY, damage(sealEntry(TOKEN, KEY, PLAINTEXT)))).toBeUndefined();
  });
});

function withField(text: string, field: string, change: (value: string) => string | undefined): string {
  const entry = JSON.parse(text) as Record<string, string | undefined>;
  entry[field] = change(String(entry[field]));
  return JSON.stringify(entry);
}

function flipFirstBit(value: string): string {
  const bytes = Buffer.from(value, 'base64');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  return bytes.toString('base64');
}
