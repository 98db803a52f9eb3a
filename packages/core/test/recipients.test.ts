/** Recipients as plug-ins (SPEC §5): one interface, unknown types skipped, try order, work checked first. */
import { describe, expect, test } from 'vitest';
import {
  decrypt,
  encrypt,
  generateKey,
  inspectHeader,
  Keyring,
  keyId,
  makeStanza,
  PassphraseRecipient,
  RawKeyRecipient,
  type Stanza,
  type StanzaUnwrapper,
  type StanzaWrapper,
  type UnwrapEnvironment,
  type WrapEnvironment,
} from '../src/index.ts';
import { pattern } from './helpers.ts';

const plain = pattern(20_000);

/**
 * A toy recipient type, only to exercise the interface: it wraps with AES-KW under a key it derives
 * from a secret and a fresh random nonce it stores in the stanza (like a public-key type would store
 * an ephemeral share). Not a design for real use.
 */
class NonceRecipient implements StanzaWrapper, StanzaUnwrapper {
  readonly stanzaType = 'test-nonce';
  readonly costly = false;
  readonly keyId = 'toy0000000000000';
  unwrapCalls = 0;
  constructor(readonly secret: Uint8Array) {}
  #kek(nonce: Uint8Array): Uint8Array {
    return this.secret.map((b, i) => b ^ nonce[i % nonce.length]!);
  }
  async wrap(dataKey: Uint8Array, env: WrapEnvironment): Promise<Stanza> {
    const nonce = env.random(16);
    return makeStanza(this.stanzaType, [
      ['nonce', nonce],
      ['wrap', await env.backend.wrapKey(this.#kek(nonce), dataKey)],
    ]);
  }
  async unwrap(stanza: Stanza, env: UnwrapEnvironment): Promise<Uint8Array | undefined> {
    this.unwrapCalls++;
    return env.backend.unwrapKey(
      this.#kek(stanza.fields.get('nonce') as Uint8Array),
      stanza.fields.get('wrap') as Uint8Array,
    );
  }
  sameSecret(other: StanzaUnwrapper): boolean {
    return other === this;
  }
}

describe('a recipient type outside the core', () => {
  test('round trips through the one interface, and readers without it skip its stanza', async () => {
    const toy = new NonceRecipient(generateKey());
    const key = generateKey();
    const sealed = await encrypt(plain, { recipients: [toy, key] });
    expect(inspectHeader(sealed).recipients).toEqual([
      { type: 'unknown', name: 'test-nonce' },
      { type: 'key', keyId: keyId(key) },
    ]);
    expect(await decrypt(sealed, { keys: [toy] })).toEqual(plain);
    expect(await decrypt(sealed, { keys: [key] })).toEqual(plain); // the unknown stanza is skipped
    await expect(decrypt(sealed, { keys: [new NonceRecipient(generateKey())] })).rejects.toMatchObject({
      code: 'NO_MATCHING_KEY',
    });
  });

  test('an unwrapper is only handed stanzas of its own type', async () => {
    const toy = new NonceRecipient(generateKey());
    const sealed = await encrypt(plain, { recipients: [generateKey(), generateKey()] });
    await expect(decrypt(sealed, { keys: [toy] })).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
    expect(toy.unwrapCalls).toBe(0);
  });

  test('a wrap-only object cannot be given as a key, and an unwrap-only one cannot be a recipient', async () => {
    const toy = new NonceRecipient(generateKey());
    const wrapOnly: StanzaWrapper = { stanzaType: 'x', wrap: (k, e) => toy.wrap(k, e) };
    const sealed = await encrypt(plain, { recipients: [wrapOnly] });
    await expect(decrypt(sealed, { keys: [wrapOnly] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const unwrapOnly: StanzaUnwrapper = {
      stanzaType: 'x',
      costly: false,
      unwrap: async () => undefined,
      sameSecret: () => false,
    };
    await expect(encrypt(plain, { recipients: [unwrapOnly] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe('built-in recipients', () => {
  test('RawKeyRecipient and PassphraseRecipient objects are interchangeable with { key } and { passphrase }', async () => {
    const key = generateKey();
    const sealed = await encrypt(plain, {
      recipients: [new RawKeyRecipient(key), new PassphraseRecipient('pw', 10)],
    });
    expect(await decrypt(sealed, { keys: [key] })).toEqual(plain);
    expect(await decrypt(sealed, { keys: [{ passphrase: 'pw' }] })).toEqual(plain);
    expect(await decrypt(sealed, { keys: new Keyring([new RawKeyRecipient(key)]) })).toEqual(plain);
    expect(new RawKeyRecipient(key).keyId).toBe(keyId(key));
  });

  test('a keyring holds one entry per secret, whatever form it was given in', () => {
    const key = generateKey();
    const ring = new Keyring([key, new RawKeyRecipient(key), { key }]);
    ring.addPassphrase('caf\u00e9');
    ring.addPassphrase('cafe\u0301'); // the same passphrase once normalized to NFC (SPEC §3.3)
    expect(ring.keyIds).toEqual([keyId(key)]);
    expect(ring.passphraseCount).toBe(1);
  });

  test('a key given twice, in any form, gets one stanza (as a rewrap adds it once); passphrases are all kept', async () => {
    const [a, b] = [generateKey(), generateKey()];
    const hex = Buffer.from(a).toString('hex');
    const sealed = await encrypt(plain, {
      recipients: [
        a,
        b,
        { key: a },
        new RawKeyRecipient(a),
        hex,
        { passphrase: 'pw', workFactor: 10 },
        {
          passphrase: 'pw',
          workFactor: 10,
        },
      ],
    });
    const header = inspectHeader(sealed);
    expect(header.keyIds).toEqual([keyId(a), keyId(b)]);
    expect(header.recipients.filter((r) => r.type === 'passphrase')).toHaveLength(2);
    expect(await decrypt(sealed, { keys: [b] })).toEqual(plain);
    // a list past the 64-stanza limit only through repeats is one stanza, not a refusal
    const many = await encrypt(plain, { recipients: Array.from({ length: 100 }, () => a) });
    expect(inspectHeader(many).keyIds).toEqual([keyId(a)]);
  });

  test('a raw key that a stanza names opens before any passphrase is tried', async () => {
    const key = generateKey();
    // The passphrase stanza comes first and its work factor is above the reader's limit: a reader
    // holding the raw key never reaches the passphrase pass, so the limit does not apply.
    const sealed = await encrypt(plain, { recipients: [{ passphrase: 'pw', workFactor: 12 }, key] });
    expect(await decrypt(sealed, { keys: [{ passphrase: 'pw' }, key], maxWorkFactor: 11 })).toEqual(plain);
    await expect(decrypt(sealed, { keys: [{ passphrase: 'pw' }], maxWorkFactor: 11 })).rejects.toMatchObject({
      code: 'WORK_FACTOR_TOO_HIGH',
    });
  });
});
