/**
 * Encryption of cache entries, so a cache file is worthless to anyone who does not hold the GitLab
 * ID token it was made from: AES-256-GCM under a key derived from the token with HKDF-SHA256.
 *
 * Entry format (version 1), one JSON object, all binary fields base64:
 *
 *   { "v": 1, "salt": <16 bytes>, "iv": <12 bytes>, "tag": <16 bytes>, "data": <ciphertext> }
 *
 * - salt: random per entry, the HKDF salt; a fresh key for every write, so an IV can never repeat
 *   under one key even though every entry of one token starts from the same secret.
 * - iv: random, the 96-bit GCM nonce.
 * - AAD: the entry's cache key, so a file copied over another key's file fails authentication
 *   rather than handing out credentials for a different role, session or endpoint.
 * - The HKDF info names the tool, the format version and the cipher, so keys for another version
 *   or purpose never coincide with these.
 *
 * JSON rather than a binary layout: the file is tiny, and a human looking at the cache can see
 * what it is and which version wrote it.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { parseJsonObject } from '../json.js';

const ENTRY_FORMAT_VERSION = 1;

const HKDF_INFO = 'gitlab-aws-credential-helper cache entry v1 aes-256-gcm';
const CIPHER = 'aes-256-gcm';
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Far more than any credentials payload; anything larger is not ours and is not worth decoding. */
const MAX_ENTRY_CHARS = 64 * 1024;

interface SealedEntry {
  readonly v: typeof ENTRY_FORMAT_VERSION;
  readonly salt: string;
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

function deriveKey(token: string, salt: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(token, 'utf8'), salt, HKDF_INFO, KEY_BYTES));
}

/** Encrypts `plaintext` for the holder of `token`, bound to `cacheKey`; returns the entry text. */
export function sealEntry(token: string, cacheKey: string, plaintext: string): string {
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(CIPHER, deriveKey(token, salt), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(cacheKey, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const entry: SealedEntry = {
    v: ENTRY_FORMAT_VERSION,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
  return `${JSON.stringify(entry)}\n`;
}

/**
 * Decrypts an entry written by {@link sealEntry}. Returns undefined, never throws, for anything that
 * is not a valid entry for this token and key: unparseable, truncated, another version, another
 * key's entry, or one made from another token. The caller treats all of them as a cache miss.
 */
export function openEntry(token: string, cacheKey: string, text: string): string | undefined {
  const entry = parseSealedEntry(text);
  if (entry === undefined) return undefined;
  try {
    const decipher = createDecipheriv(CIPHER, deriveKey(token, entry.salt), entry.iv, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(cacheKey, 'utf8'));
    decipher.setAuthTag(entry.tag);
    return Buffer.concat([decipher.update(entry.data), decipher.final()]).toString('utf8');
  } catch {
    // Authentication failed: wrong token, wrong key, or altered bytes. All mean "not usable".
    return undefined;
  }
}

interface ParsedEntry {
  readonly salt: Buffer;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly data: Buffer;
}

function parseSealedEntry(text: string): ParsedEntry | undefined {
  if (text.length > MAX_ENTRY_CHARS) return undefined;
  const record = parseJsonObject(text);
  if (record === undefined) return undefined;
  if (record.v !== ENTRY_FORMAT_VERSION) return undefined;
  const salt = decodeBase64(record.salt, SALT_BYTES);
  const iv = decodeBase64(record.iv, IV_BYTES);
  const tag = decodeBase64(record.tag, TAG_BYTES);
  const data = decodeBase64(record.data);
  if (salt === undefined || iv === undefined || tag === undefined || data === undefined) return undefined;
  return { salt, iv, tag, data };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(value: unknown, expectedBytes?: number): Buffer | undefined {
  // Node's base64 decoder skips characters it does not know; checking the alphabet first keeps a
  // damaged field from decoding into something of the right length by accident.
  if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  if (expectedBytes !== undefined && bytes.length !== expectedBytes) return undefined;
  return bytes;
}
