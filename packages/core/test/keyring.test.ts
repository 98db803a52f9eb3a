/** Keyring: key selection by key ID, several recipients, re-wrapping without touching the payload (SPEC §5). */
import { describe, expect, test } from 'vitest';
import {
  decrypt,
  decryptStream,
  encrypt,
  formatKey,
  generateKey,
  inspectHeader,
  Keyring,
  keyId,
  makeStanza,
  PAYLOAD_PREFIX_LENGTH,
  readHeaderLength,
} from '../src/index.ts';
import { pattern, through } from './helpers.ts';

const [a, b, c] = [generateKey(), generateKey(), generateKey()];
const plain = pattern(40_000);

describe('Keyring', () => {
  test('holds keys given as bytes or text and reports their key IDs', () => {
    const ring = new Keyring([a, formatKey(b)]);
    expect(ring.keyIds).toEqual([keyId(a), keyId(b)]);
    expect(ring.has(keyId(b))).toBe(true);
    expect(ring.has(keyId(c))).toBe(false);
    expect(ring.addKey(a)).toBe(keyId(a));
    expect(ring.keyIds).toHaveLength(2); // no duplicates
  });

  test('any one recipient of several opens the object, and the stream reports which key did', async () => {
    const sealed = await encrypt(plain, { recipients: [a, b, { passphrase: 'pw', workFactor: 10 }] });
    for (const k of [a, b]) {
      let opened: string | undefined;
      const out = await through(
        decryptStream({ keys: new Keyring([c, k]), onOpen: (o) => void (opened = o.keyId) }),
        [sealed],
      );
      expect(out).toEqual(plain);
      expect(opened).toBe(keyId(k));
    }
    expect(await decrypt(sealed, { keys: { passphrase: 'pw' } })).toEqual(plain);
  });

  test('a keyring without the key says which key IDs the object wants', async () => {
    const sealed = await encrypt(plain, { recipients: [a] });
    await expect(decrypt(sealed, { keys: new Keyring([b, c]) })).rejects.toThrow(keyId(a));
  });

  test('a stanza that names a held key but does not open under it is skipped, not fatal', async () => {
    // A colliding (or forged) key ID: the stanza names a's key ID, but its wrap is not a's. The
    // object is then rewrapped to [that stanza, a]: a must still open it, through the second stanza.
    const sealed = await encrypt(plain, { recipients: [a] });
    const forged = {
      stanzaType: 'key',
      wrap: async () =>
        makeStanza('key', [
          ['kid', new Uint8Array(Buffer.from(keyId(a), 'hex'))],
          ['wrap', new Uint8Array(40).fill(7)],
        ]),
    };
    const h = readHeaderLength(sealed)!;
    const { header } = await new Keyring([a]).rewrap(sealed.subarray(0, h + PAYLOAD_PREFIX_LENGTH), {
      recipients: [forged, a],
    });
    const colliding = new Uint8Array(Buffer.concat([header, sealed.subarray(h)]));
    expect(inspectHeader(colliding).keyIds).toEqual([keyId(a), keyId(a)]);
    expect(await decrypt(colliding, { keys: [a] })).toEqual(plain);
    // with only the forged stanza, nothing opens: NO_MATCHING_KEY, not an unwrap error
    const { header: only } = await new Keyring([a]).rewrap(sealed.subarray(0, h + PAYLOAD_PREFIX_LENGTH), {
      recipients: [forged],
    });
    const forgedOnly = new Uint8Array(Buffer.concat([only, sealed.subarray(h)]));
    await expect(decrypt(forgedOnly, { keys: [a] })).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
  });

  test("no key at all (an empty list or keyring) is the caller's INVALID_ARGUMENT, before any input is read", async () => {
    const sealed = await encrypt(plain, { recipients: [a] });
    for (const keys of [[], new Keyring()]) {
      await expect(decrypt(sealed, { keys })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('no key or passphrase'),
      });
      // the stream fails before its first write is taken
      const stream = decryptStream({ keys });
      const writer = stream.writable.getWriter();
      await expect(writer.write(sealed)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect(new Keyring([a, a, formatKey(a)]).size).toBe(1);
  });
});

describe('rewrap', () => {
  test('rotates to new recipients: only the header changes, the payload bytes stay', async () => {
    const sealed = await encrypt(plain, { recipients: [a], identity: 'bucket/key' });
    const h = readHeaderLength(sealed)!;
    const { header, oldHeaderLength } = await new Keyring([a]).rewrap(
      sealed.subarray(0, h + PAYLOAD_PREFIX_LENGTH),
      {
        recipients: [b, c],
      },
    );
    expect(oldHeaderLength).toBe(h);
    const rotated = new Uint8Array(Buffer.concat([header, sealed.subarray(h)]));
    expect(inspectHeader(rotated).keyIds).toEqual([keyId(b), keyId(c)]);
    expect(inspectHeader(rotated).identity).toBe('bucket/key');
    expect(await decrypt(rotated, { keys: [b], identity: 'bucket/key' })).toEqual(plain);
    expect(await decrypt(rotated, { keys: [c] })).toEqual(plain);
    await expect(decrypt(rotated, { keys: [a] })).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
  });

  test('keepExisting adds recipients next to the old ones', async () => {
    const sealed = await encrypt(plain, { recipients: [a] });
    const { header, oldHeaderLength } = await new Keyring([a]).rewrap(sealed, {
      recipients: [{ passphrase: 'x', workFactor: 10 }],
      keepExisting: true,
    });
    const rotated = new Uint8Array(Buffer.concat([header, sealed.subarray(oldHeaderLength)]));
    expect(inspectHeader(rotated).recipients).toEqual([
      { type: 'key', keyId: keyId(a) },
      { type: 'passphrase', workFactor: 10 },
    ]);
    expect(await decrypt(rotated, { keys: [a] })).toEqual(plain);
    expect(await decrypt(rotated, { keys: [{ passphrase: 'x' }] })).toEqual(plain);
  });

  test('refuses without a key that opens the object', async () => {
    const sealed = await encrypt(plain, { recipients: [a] });
    await expect(new Keyring([b]).rewrap(sealed, { recipients: [c] })).rejects.toMatchObject({
      code: 'NO_MATCHING_KEY',
    });
  });

  test('refuses a tampered header: the commitment is checked before wrapping anything', async () => {
    const sealed = await encrypt(plain, { recipients: [a] });
    sealed[readHeaderLength(sealed)! + 30]! ^= 1; // inside the commitment
    await expect(new Keyring([a]).rewrap(sealed, { recipients: [c] })).rejects.toMatchObject({
      code: 'COMMITMENT_MISMATCH',
    });
  });

  test('needs the payload prefix, not just the header', async () => {
    const sealed = await encrypt(plain, { recipients: [a] });
    await expect(
      new Keyring([a]).rewrap(sealed.subarray(0, readHeaderLength(sealed)!), { recipients: [c] }),
    ).rejects.toMatchObject({
      code: 'TRUNCATED',
    });
  });
});
