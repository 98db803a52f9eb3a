/**
 * The key lifecycle as callers get it wrong: a keyring or recipient list with one bad entry, a key
 * that does not open, a stanza altered under a key that should open it (SPEC §5.3, §9).
 */
import { describe, expect, test } from 'vitest';
import {
  decrypt,
  encrypt,
  formatKey,
  formatPrivateKeyFile,
  generateKey,
  generatePrivateKey,
  inspectHeader,
  Keyring,
  keyId,
  parseKey,
  parsePrivateKeysFile,
  parseRecipientsFile,
} from '../src/index.ts';
import { pattern } from './helpers.ts';

const [mine, other] = [generateKey(), generateKey()];
const plain = pattern(5000);

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected a failure');
  return error as Error & { code: string };
}

/** The object with one byte of the last stanza's wrap (the last 40 bytes of the header) flipped. */
function withAlteredWrap(sealed: Uint8Array): Uint8Array {
  const altered = sealed.slice();
  altered[inspectHeader(sealed).headerLength - 1]! ^= 0x01;
  return altered;
}

describe('a list of keys or recipients with one bad entry', () => {
  const bad = 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5';

  test('to open: the error names the entry by its place, never by its text, and nothing is tried', async () => {
    const sealed = await encrypt(plain, { recipients: [mine] });
    const error = await failure(decrypt(sealed, { keys: [formatKey(mine), bad] }));
    expect(error.code).toBe('INVALID_KEY');
    expect(error.message).toMatch(/^key 2 of 2: invalid key/);
    expect(error.message).not.toContain(bad.slice(4, 40));
    expect(() => new Keyring([mine, other, bad])).toThrow(/^key 3 of 3: invalid key/);
  });

  test('to seal: a damaged age private key among the recipients is named by place, not echoed', async () => {
    const key = generatePrivateKey().secretText();
    const damaged = `${key.slice(0, 30)}Q${key.slice(31)}`;
    const error = await failure(encrypt(plain, { recipients: [mine, generatePrivateKey(), damaged] }));
    expect(error.code).toBe('INVALID_KEY');
    expect(error.message).toMatch(/^recipient 3 of 3: invalid key: .*checksum/);
    expect(error.message).not.toContain(damaged.slice(16, 60));
  });

  test('one entry alone is not numbered; a single key given as the list itself is one key', async () => {
    const sealed = await encrypt(plain, { recipients: [mine] });
    expect((await failure(decrypt(sealed, { keys: [bad] }))).message).toMatch(/^invalid key/);
    // `new Keyring(key)` (one key, no list) was read as 32 numbers
    expect(await decrypt(sealed, { keys: new Keyring(mine as never) })).toEqual(plain);
  });
});

describe('no key matches (SPEC §5.3)', () => {
  test('a wrong key: NO_MATCHING_KEY naming the key IDs of the object and of the keys given, no key text', async () => {
    const pq = generatePrivateKey('mlkem768x25519');
    const sealed = await encrypt(plain, {
      recipients: [mine, pq.recipient, { passphrase: 'a', workFactor: 10 }],
    });
    const stranger = generatePrivateKey();
    const error = await failure(decrypt(sealed, { keys: [other, stranger, { passphrase: 'b' }] }));
    expect(error.code).toBe('NO_MATCHING_KEY');
    expect(error.message).toBe(
      `none of the keys or passphrases given opens this object (it is sealed to key ${keyId(mine)}, ` +
        `mlkem768x25519 public key ${pq.keyId}, 1 passphrase; keys given: key ${keyId(other)}, ` +
        `x25519 public key ${stranger.keyId}, 1 passphrase(s) tried)`,
    );
    expect(error.message).not.toContain(formatKey(other).slice(0, 20));
  });

  test.each([
    ['a raw key', () => mine, `key ${keyId(mine)}`],
    ['an x25519 private key', () => generatePrivateKey(), 'x25519 public key'],
    ['a hybrid private key', () => generatePrivateKey('mlkem768x25519'), 'mlkem768x25519 public key'],
  ] as const)(
    'a stanza naming %s given, altered so it does not open under it: said to be altered, not a wrong key',
    async (_name, make, label) => {
      const key = make();
      const sealed = await encrypt(plain, {
        recipients: [key instanceof Uint8Array ? key : key.recipient],
      });
      const error = await failure(decrypt(withAlteredWrap(sealed), { keys: [key] }));
      // the code stays the format's (SPEC §9: no stanza opened); the message tells the cause
      expect(error.code).toBe('NO_MATCHING_KEY');
      expect(error.message).toContain(`the stanza for ${label}`);
      expect(error.message).toContain('the header was altered or damaged');
      // the same object with a key it is not sealed to is a wrong key, as before
      const wrong = await failure(decrypt(withAlteredWrap(sealed), { keys: [other] }));
      expect(wrong.message).toMatch(/^none of the keys or passphrases given opens this object/);
    },
  );

  test('a passphrase stanza names no key: a wrong passphrase and an altered stanza read the same', async () => {
    const sealed = await encrypt(plain, { recipients: [{ passphrase: 'right', workFactor: 10 }] });
    const wrong = await failure(decrypt(sealed, { keys: [{ passphrase: 'wrong' }] }));
    const altered = await failure(decrypt(withAlteredWrap(sealed), { keys: [{ passphrase: 'right' }] }));
    expect(wrong.code).toBe('NO_MATCHING_KEY');
    expect(altered.code).toBe('NO_MATCHING_KEY');
    expect(altered.message).toBe(wrong.message);
    expect(wrong.message).not.toMatch(/right|wrong/);
  });
});

describe('key files as editors save them', () => {
  test('a byte-order mark, CRLF, spaces and tabs around keys, several keys: each key read once, in order', () => {
    const [k1, k2] = [generatePrivateKey(), generatePrivateKey('mlkem768x25519')];
    const identities = `\uFEFF${formatPrivateKeyFile(k1).replace(/\n/g, '\r\n')}\t${k2.secretText()}  \r\n\r\n`;
    expect(parsePrivateKeysFile(identities).map((k) => k.keyId)).toEqual([k1.keyId, k2.keyId]);
    const recipients = `\uFEFF# team\r\n ${k1.recipient} \r\n${k2.recipient}\t\r\n`;
    expect(parseRecipientsFile(recipients).map((r) => r.keyId)).toEqual([k1.keyId, k2.keyId]);
    // one raw key's text is exact (SPEC §3.1): a byte-order mark is refused, and said, not shown
    const text = formatKey(mine);
    expect(parseKey(` ${text}\r\n`)).toEqual(mine);
    expect(() => parseKey(`\uFEFF${text}`)).toThrow(/byte-order mark/);
    expect(() => parseKey(`\uFEFF${text}`)).not.toThrow(text.slice(0, 20));
  });
});
