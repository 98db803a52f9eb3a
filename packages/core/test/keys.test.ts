import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { decrypt, formatKey, generateKey, isSealstreamError, keyId, parseKey } from '../src/index.ts';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const B64 = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
// Computed independently with node:crypto's HMAC (one HKDF-Expand block: HMAC(prk, info || 0x01)).
const KEY_ID_00_1F = createHmac('sha512', KEY)
  .update(Buffer.concat([Buffer.from('sealstream/v1 key-id'), Buffer.from([1])]))
  .digest()
  .subarray(0, 8)
  .toString('hex');

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isSealstreamError(e) ? e.code : `not a SealstreamError: ${e}`;
  }
  return undefined;
}

describe('generateKey', () => {
  test('returns 32 fresh random bytes', () => {
    const a = generateKey();
    const b = generateKey();
    expect(a).toHaveLength(32);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });
});

describe('parseKey / formatKey', () => {
  test('formatKey is padded standard base64, like openssl rand -base64 32', () => {
    expect(formatKey(KEY)).toBe(B64);
    expect(Buffer.from(formatKey(KEY), 'base64')).toEqual(Buffer.from(KEY));
  });

  test.each([
    ['padded base64', B64],
    ['unpadded base64', B64.replace(/=$/, '')],
    ['base64url', Buffer.from(KEY).toString('base64url')],
    ['hex', Buffer.from(KEY).toString('hex')],
    ['upper-case hex', Buffer.from(KEY).toString('hex').toUpperCase()],
    ['with a trailing newline', `${B64}\n`],
  ])('accepts %s', (_, text) => {
    expect(parseKey(text)).toEqual(KEY);
  });

  test('base64 with + and / and base64url with - and _ decode to the same key', () => {
    const key = new Uint8Array(32).fill(0xfb);
    expect(parseKey(Buffer.from(key).toString('base64'))).toEqual(key);
    expect(parseKey(Buffer.from(key).toString('base64url'))).toEqual(key);
  });

  test.each([
    ['31 bytes', Buffer.alloc(31).toString('base64')],
    ['33 bytes', Buffer.alloc(33).toString('base64')],
    ['63 hex digits', 'a'.repeat(63)],
    ['65 hex digits', 'a'.repeat(65)],
    ['16-byte key', Buffer.alloc(16).toString('base64')],
    ['empty', ''],
    ['mixed alphabets', `${B64.slice(0, 10)}-+${B64.slice(12)}`],
    ['non-canonical trailing bits', `${B64.slice(0, 42)}f=`],
    ['two padding characters', `${B64.slice(0, 43)}==`],
    ['spaces inside', `${B64.slice(0, 20)} ${B64.slice(20)}`],
  ])('rejects %s with INVALID_KEY', (_, text) => {
    expect(code(() => parseKey(text))).toBe('INVALID_KEY');
  });

  test('error messages never contain the key text', () => {
    const secret = `${B64.slice(0, 42)}f=`;
    try {
      parseKey(secret);
    } catch (e) {
      expect(String(e)).not.toContain(secret.slice(0, 20));
    }
  });

  test('text that does not parse says what is wrong when it is hard to see, never showing the key', () => {
    const cases: [string, string][] = [
      [`\uFEFF${B64}\n`, 'byte-order mark'],
      [`${B64.slice(0, 20)}\u00a0${B64.slice(20)}`, 'character 21 is a non-ASCII space'],
      [`\u00a0${B64}`, 'character 1 is a non-ASCII space'],
      [`${B64.slice(0, 10)} ${B64.slice(10)}`, 'whitespace inside it, at character 11'],
      [`${B64.slice(0, 10)}\u0007${B64.slice(10)}`, 'character 11 is not printable ASCII'],
      [`${B64.slice(0, 10).replace(/./, '+')}_${B64.slice(11)}`, 'mixes the standard'],
    ];
    for (const [text, says] of cases) {
      let message = '';
      try {
        parseKey(text);
      } catch (e) {
        expect(isSealstreamError(e, 'INVALID_KEY')).toBe(true);
        message = (e as Error).message;
      }
      expect(message, JSON.stringify(text)).toContain(says);
      expect(message).not.toContain(B64.slice(12, 24));
    }
  });

  test('a key file read as bytes (its text, not its key) is refused with a hint, never echoed', async () => {
    const texts = [`${B64}\n`, `${Buffer.from(KEY).toString('hex')}\r\n`, B64.replace(/=$/, '')];
    for (const text of texts) {
      const bytes = new TextEncoder().encode(text);
      let error: unknown;
      try {
        keyId(bytes);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'INVALID_KEY', message: expect.stringContaining('as a string') });
      expect(String(error)).not.toContain(text.trim().slice(0, 12));
      await expect(decrypt(new Uint8Array(0), { keys: [bytes] })).rejects.toMatchObject({
        code: 'INVALID_KEY',
        message: expect.stringContaining('text of a key'),
      });
    }
    // bytes that are not key text get no such hint
    expect(() => keyId(new Uint8Array(45))).toThrow(
      expect.objectContaining({ message: 'invalid key: expected 32 bytes, got 45' }),
    );
  });

  test('formatKey rejects keys that are not 32 bytes', () => {
    expect(code(() => formatKey(new Uint8Array(16)))).toBe('INVALID_KEY');
  });
});

describe('keyId', () => {
  test('is 16 hex digits, stable, and the same for bytes and text', () => {
    const id = keyId(KEY);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(keyId(B64)).toBe(id);
    // Known answer: HKDF-Expand-SHA512(prk = 00..1f, info = "sealstream/v1 key-id", 8), SPEC §3.2.
    expect(id).toBe(KEY_ID_00_1F);
  });

  test('differs between keys', () => {
    expect(keyId(generateKey())).not.toBe(keyId(generateKey()));
  });
});
