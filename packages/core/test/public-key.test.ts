/** Public-key recipients (SPEC §5.4, §5.5): round trips, key IDs, tampering, small-order points, Wycheproof. */
import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, test } from 'vitest';
import { resolveBackend } from '../src/aead/backend.ts';
import { concat, utf8 } from '../src/bytes.ts';
import { encodeRecipientsBlock, parseHeader } from '../src/header.ts';
import {
  decrypt,
  encrypt,
  generateKey,
  generatePrivateKey,
  inspectHeader,
  Keyring,
  keyId,
  openHeader,
  PrivateKey,
  PublicKeyRecipient,
  type Stanza,
} from '../src/index.ts';
import type { UnwrapEnvironment } from '../src/recipients/plugin.ts';
import { wrapDataKey } from '../src/recipients/wrap.ts';
import { x25519PublicKeyProblem, x25519SharedSecret } from '../src/recipients/x25519.ts';
import { BACKENDS, hex, pattern, wycheproof } from './helpers.ts';

const PASSPHRASE = { passphrase: 'correct horse battery staple', workFactor: 10 };
const env = (backend = resolveBackend('noble')): UnwrapEnvironment => ({
  backend,
  limits: { maxWorkFactor: 20, maxTotalWorkFactor: 21 },
});

/** The object with its recipients block rewritten by `edit` (the payload and context unchanged). */
function withStanzas(file: Uint8Array, edit: (stanzas: Stanza[]) => Stanza[]): Uint8Array {
  const h = parseHeader(file);
  return concat(h.context, encodeRecipientsBlock(edit(h.stanzas)), file.subarray(h.headerLength));
}

/** A copy of `stanza` with one field replaced (or added at the end). */
function setField(stanza: Stanza, name: string, value: unknown): Stanza {
  const fields = new Map(stanza.fields);
  fields.set(name, value);
  return { type: stanza.type, fields };
}

function flipped(bytes: unknown, at: number): Uint8Array {
  const copy = (bytes as Uint8Array).slice();
  if (at >= copy.length) throw new RangeError(`byte ${at} is outside the ${copy.length}-byte field`);
  copy[at]! ^= 0x01;
  return copy;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  return undefined;
}

const u = (h: string) => hex(h);
/**
 * X25519 u-coordinates of small order, canonical or not: 0, 1, the two points of order 8, and
 * p - 1, p, p + 1 (the same classes written at or above the field prime).
 */
const SMALL_ORDER = [
  u('0000000000000000000000000000000000000000000000000000000000000000'),
  u('0100000000000000000000000000000000000000000000000000000000000000'),
  u('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'),
  u('5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157'),
  u('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
  u('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
  u('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
];

describe('round trips', () => {
  test.each(BACKENDS)(
    'one object, sealed to an X25519 key, a hybrid key, a raw key and a passphrase, opens with each (%s)',
    async (backend) => {
      const classic = generatePrivateKey('x25519');
      const hybrid = generatePrivateKey('mlkem768x25519');
      const raw = generateKey();
      const plaintext = pattern(50_000, 5);
      const sealed = await encrypt(plaintext, {
        recipients: [classic.recipient, hybrid.recipient.toString(), raw, PASSPHRASE],
        backend,
      });
      for (const keys of [classic, hybrid.secretText(), raw, PASSPHRASE]) {
        expect(await decrypt(sealed, { keys, backend })).toEqual(plaintext);
      }
      const opened = await openHeader(sealed, { keys: [hybrid], backend });
      expect(opened.keyId).toBe(hybrid.keyId);
    },
  );

  test('inspectHeader names every public-key recipient by type and key ID', async () => {
    const classic = generatePrivateKey();
    const hybrid = generatePrivateKey('mlkem768x25519');
    const raw = generateKey();
    const sealed = await encrypt(pattern(10), { recipients: [classic.recipient, hybrid, raw] });
    const info = inspectHeader(sealed);
    expect(info.recipients).toEqual([
      { type: 'x25519', keyId: classic.keyId },
      { type: 'mlkem768x25519', keyId: hybrid.keyId },
      { type: 'key', keyId: keyId(raw) },
    ]);
    expect(info.keyIds).toEqual([classic.keyId, hybrid.keyId, keyId(raw)]);
  });

  test('a keyring of many private keys picks the one the stanza names; duplicates are held once', async () => {
    const keys = Array.from({ length: 5 }, (_, i) => generatePrivateKey(i % 2 ? 'mlkem768x25519' : 'x25519'));
    const ring = new Keyring([...keys, keys[3]!.secretText()]);
    expect(ring.keyIds).toEqual(keys.map((k) => k.keyId));
    const sealed = await encrypt(pattern(100), { recipients: [keys[3]!.recipient] });
    const opened = await openHeader(sealed, { keys: ring });
    expect(opened.keyId).toBe(keys[3]!.keyId);
  });

  test('rewrapping moves an object from a raw key to a public key, without the private key at hand', async () => {
    const raw = generateKey();
    const backupKey = generatePrivateKey();
    const sealed = await encrypt(pattern(20_000, 8), { recipients: [raw] });
    const { header, oldHeaderLength } = await new Keyring([raw]).rewrap(sealed, {
      recipients: [backupKey.recipient.toString()],
    });
    const moved = concat(header, sealed.subarray(oldHeaderLength));
    expect(inspectHeader(moved).recipients).toEqual([{ type: 'x25519', keyId: backupKey.keyId }]);
    expect(await decrypt(moved, { keys: backupKey })).toEqual(pattern(20_000, 8));
    expect(await codeOf(decrypt(moved, { keys: raw }))).toBe('NO_MATCHING_KEY');
  });

  test('stanza bytes are identical on every backend for the same randomness', async () => {
    const dataKey = pattern(32, 7);
    const recipients = [generatePrivateKey().recipient, generatePrivateKey('mlkem768x25519').recipient];
    const encodings = await Promise.all(
      BACKENDS.map(async (name) => {
        let counter = 0;
        const random = (n: number) => pattern(n, ++counter);
        return encodeRecipientsBlock(await wrapDataKey(dataKey, recipients, resolveBackend(name), random));
      }),
    );
    for (const e of encodings) expect(e).toEqual(encodings[0]);
  });

  test('a recipients block holds 54 hybrid stanzas; a 55th is refused before anything is written', async () => {
    // distinct keys: one key given twice is one stanza
    const rs = Array.from({ length: 55 }, () => generatePrivateKey('mlkem768x25519').recipient);
    const sealed = await encrypt(pattern(10), { recipients: rs.slice(0, 54) });
    expect(inspectHeader(sealed).recipients).toHaveLength(54);
    expect(await codeOf(encrypt(pattern(10), { recipients: rs }))).toBe('INVALID_ARGUMENT');
  });
});

describe.each(['x25519', 'mlkem768x25519'] as const)('%s stanzas under attack', (type) => {
  const owner = generatePrivateKey(type);
  const sealing = encrypt(pattern(3000, 2), { recipients: [owner.recipient] });

  test('another private key of the same type: NO_MATCHING_KEY, naming the key IDs', async () => {
    const stranger = generatePrivateKey(type);
    const error = await decrypt(await sealing, { keys: stranger }).catch((e) => e);
    expect(error.code).toBe('NO_MATCHING_KEY');
    expect(error.message).toContain(owner.keyId);
    expect(error.message).toContain(stranger.keyId);
    expect(error.message).not.toContain(stranger.secretText().slice(20, 40));
  });

  test('a public key is not a private key', async () => {
    expect(await codeOf(decrypt(await sealing, { keys: owner.recipient as never }))).toBe('INVALID_ARGUMENT');
  });

  test.each([
    ['enc', 0],
    ['enc', type === 'x25519' ? 15 : 600], // inside the ML-KEM ciphertext: implicit rejection
    ['enc', type === 'x25519' ? 31 : 1119], // the X25519 share's last byte
    ['wrap', 0],
    ['wrap', 39],
    ['kid', 3],
  ])('a bit flipped in %s (byte %i): the stanza does not open', async (field, at) => {
    const tampered = withStanzas(await sealing, ([s]) => [
      setField(s!, field, flipped(s!.fields.get(field), at)),
    ]);
    expect(await codeOf(decrypt(tampered, { keys: owner }))).toBe('NO_MATCHING_KEY');
  });

  test('fields of the wrong size or an extra field: HEADER_INVALID', async () => {
    const sealed = await sealing;
    for (const edit of [
      (s: Stanza) => setField(s, 'enc', (s.fields.get('enc') as Uint8Array).subarray(1)),
      (s: Stanza) => setField(s, 'kid', new Uint8Array(9)),
      (s: Stanza) => setField(s, 'wrap', new Uint8Array(32)),
      (s: Stanza) => setField(s, 'note', 'hi'),
    ]) {
      const bad = withStanzas(sealed, ([s]) => [edit(s!)]);
      expect(await codeOf(decrypt(bad, { keys: owner }))).toBe('HEADER_INVALID');
      expect(() => inspectHeader(bad)).toThrow(/malformed header/);
    }
  });
});

describe('small-order X25519 points (SPEC §5.4)', () => {
  test('each listed point is of small order for X25519', () => {
    const scalar = pattern(32, 11);
    for (const point of SMALL_ORDER) {
      expect(x25519SharedSecret(scalar, point)).toBeUndefined();
      expect(x25519PublicKeyProblem(point)).toBeDefined();
    }
  });

  test('as the share of an x25519 stanza, even with the wrap a reader without the check would open', async () => {
    const scalar = pattern(32, 31);
    const owner = new PrivateKey('x25519', scalar);
    const pk = owner.recipient.publicKey;
    const sealed = await encrypt(pattern(500, 3), { recipients: [owner.recipient] });
    const [good] = parseHeader(sealed).stanzas;
    const dataKey = (await owner.unwrap(good!, env()))!;
    expect(dataKey).toHaveLength(32);
    /** A stanza for `enc` wrapped under SPEC §5.4's KEK for the shared secret `ss`. */
    const forge = async (enc: Uint8Array, ss: Uint8Array) => {
      const kek = hkdf(sha512, ss, concat(enc, pk), utf8('sealstream/v1 x25519'), 32);
      return setField(
        setField(good!, 'enc', enc),
        'wrap',
        await resolveBackend('noble').wrapKey(kek, dataKey),
      );
    };
    // The control: built this way with a real share, the stanza opens, so the refusals below are the check's.
    const share = x25519.getPublicKey(pattern(32, 32));
    expect(await owner.unwrap(await forge(share, x25519.getSharedSecret(scalar, share)), env())).toEqual(
      dataKey,
    );
    for (const point of SMALL_ORDER) {
      // What a hostile writer can compute for a small-order share: the shared secret is 32 zero bytes.
      const hostile = await forge(point, new Uint8Array(32));
      expect(await owner.unwrap(hostile, env())).toBeUndefined();
      expect(
        await codeOf(
          decrypt(
            withStanzas(sealed, () => [hostile]),
            { keys: owner },
          ),
        ),
      ).toBe('NO_MATCHING_KEY');
    }
  });

  test('as the X25519 part of a hybrid ciphertext: the stanza does not open', async () => {
    const owner = generatePrivateKey('mlkem768x25519');
    const sealed = await encrypt(pattern(500, 3), { recipients: [owner.recipient] });
    for (const point of SMALL_ORDER) {
      const file = withStanzas(sealed, ([s]) => {
        const enc = (s!.fields.get('enc') as Uint8Array).slice();
        enc.set(point, 1088);
        return [setField(s!, 'enc', enc)];
      });
      expect(await codeOf(decrypt(file, { keys: owner }))).toBe('NO_MATCHING_KEY');
    }
  });

  test('as a recipient public key: refused before sealing', () => {
    for (const point of SMALL_ORDER) {
      expect(() => new PublicKeyRecipient('x25519', point)).toThrow(/small order|canonical/);
    }
  });
});

describe('Wycheproof X25519', () => {
  const { json, skip } = wycheproof('x25519_test.json');
  const cases = (json?.testGroups ?? []).flatMap((g: { tests: unknown[] }) => g.tests) as {
    tcId: number;
    comment: string;
    public: string;
    private: string;
    shared: string;
    result: string;
    flags: string[];
  }[];

  test.skipIf(!json)(
    `every case: the shared secret, or a refusal exactly when it is zero${skip ? ` (${skip})` : ''}`,
    () => {
      expect(cases.length).toBeGreaterThan(500);
      let refused = 0;
      for (const c of cases) {
        const got = x25519SharedSecret(hex(c.private), hex(c.public));
        if (/^0+$/.test(c.shared)) {
          expect(got, `tcId ${c.tcId}`).toBeUndefined();
          expect(x25519PublicKeyProblem(hex(c.public)), `tcId ${c.tcId}`).toBeDefined();
          refused++;
        } else {
          expect(got && Buffer.from(got).toString('hex'), `tcId ${c.tcId} ${c.comment}`).toBe(c.shared);
        }
      }
      expect(refused).toBeGreaterThan(20);
    },
  );

  test.skipIf(!json)('node:crypto gives the same bytes wherever it computes a secret', () => {
    let compared = 0;
    for (const c of cases) {
      if (/^0+$/.test(c.shared) || c.flags.includes('NonCanonicalPublic')) continue;
      const privateKey = createPrivateKey({
        key: Buffer.concat([
          Buffer.from('302e020100300506032b656e04220420', 'hex'),
          Buffer.from(c.private, 'hex'),
        ]),
        format: 'der',
        type: 'pkcs8',
      });
      const publicKey = createPublicKey({
        key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), Buffer.from(c.public, 'hex')]),
        format: 'der',
        type: 'spki',
      });
      const ours = x25519SharedSecret(hex(c.private), hex(c.public))!;
      expect(diffieHellman({ privateKey, publicKey }), `tcId ${c.tcId}`).toEqual(Buffer.from(ours));
      compared++;
    }
    expect(compared).toBeGreaterThan(400);
  });
});

describe('Wycheproof ML-KEM-768 (the KEM inside the hybrid)', () => {
  const decaps = wycheproof('mlkem_768_test.json');
  const encaps = wycheproof('mlkem_768_encaps_test.json');
  const x25519Part = generatePrivateKey('x25519').recipient.publicKey;

  test.skipIf(!decaps.json)(
    `key generation from seeds and decapsulation, implicit rejection included${decaps.skip ? ` (${decaps.skip})` : ''}`,
    () => {
      let valid = 0;
      for (const g of decaps.json?.testGroups ?? []) {
        for (const c of g.tests as {
          tcId: number;
          seed: string;
          ek?: string;
          c: string;
          K: string;
          result: string;
        }[]) {
          const run = () => {
            const { publicKey, secretKey } = ml_kem768.keygen(hex(c.seed));
            if (c.ek !== undefined) expect(Buffer.from(publicKey).toString('hex')).toBe(c.ek);
            return Buffer.from(ml_kem768.decapsulate(hex(c.c), secretKey)).toString('hex');
          };
          if (c.result === 'valid') {
            expect(run(), `tcId ${c.tcId}`).toBe(c.K);
            valid++;
          } else {
            expect(run, `tcId ${c.tcId}`).toThrow();
          }
        }
      }
      expect(valid).toBeGreaterThan(100);
    },
  );

  test.skipIf(!encaps.json)(
    `encapsulation keys: ours refuses exactly the invalid ones${encaps.skip ? ` (${encaps.skip})` : ''}`,
    () => {
      let refused = 0;
      for (const g of encaps.json?.testGroups ?? []) {
        for (const c of g.tests as {
          tcId: number;
          ek: string;
          m: string;
          c: string;
          K: string;
          result: string;
        }[]) {
          const make = () => new PublicKeyRecipient('mlkem768x25519', concat(hex(c.ek), x25519Part));
          if (c.result === 'valid') {
            expect(make, `tcId ${c.tcId}`).not.toThrow();
            const { cipherText, sharedSecret } = ml_kem768.encapsulate(hex(c.ek), hex(c.m));
            expect(Buffer.from(cipherText).toString('hex'), `tcId ${c.tcId}`).toBe(c.c);
            expect(Buffer.from(sharedSecret).toString('hex'), `tcId ${c.tcId}`).toBe(c.K);
          } else {
            expect(make, `tcId ${c.tcId}`).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
            refused++;
          }
        }
      }
      expect(refused).toBeGreaterThan(100);
    },
  );
});

test('a private key seals to its own public key', async () => {
  const key = new PrivateKey('x25519', pattern(32, 21));
  const sealed = await encrypt(pattern(64), { recipients: [key] });
  expect(inspectHeader(sealed).recipients).toEqual([{ type: 'x25519', keyId: key.keyId }]);
  expect(await decrypt(sealed, { keys: [key] })).toEqual(pattern(64));
});
