/** Wycheproof vectors through every backend: AES-256-GCM, AES-256-KW, HKDF-SHA512. */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, test } from 'vitest';
import { resolveBackend } from '../src/aead/backend.ts';
import { hkdfExpand } from '../src/kdf.ts';
import { BACKENDS, hex, wycheproof } from './helpers.ts';

const gcm = wycheproof('aes_gcm_test.json');
const kw = wycheproof('aes_wrap_test.json');
const hk = wycheproof('hkdf_sha512_test.json');

interface Case {
  tcId: number;
  comment: string;
  result: 'valid' | 'invalid' | 'acceptable';
  [k: string]: any;
}
const cases = (json: any, pick: (g: any) => boolean): Case[] =>
  json ? json.testGroups.filter(pick).flatMap((g: any) => g.tests) : [];

describe.skipIf(gcm.skip)(`Wycheproof AES-256-GCM, 96-bit IV, 128-bit tag ${gcm.skip ?? ''}`, () => {
  const list = cases(gcm.json, (g) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128);
  test('has cases', () => expect(list.length).toBeGreaterThan(20));
  for (const name of BACKENDS) {
    test(`${name}: every case`, async () => {
      const backend = resolveBackend(name);
      for (const c of list) {
        const label = `tcId ${c.tcId} (${c.comment})`;
        const cipher = await backend.gcm(hex(c.key));
        const msg = hex(c.msg);
        const sealed = new Uint8Array([...hex(c.ct), ...hex(c.tag)]);
        const aad = hex(c.aad);
        const opened = new Uint8Array(msg.length);
        const ok = await cipher.open(hex(c.iv), sealed, new Uint8Array(Math.max(0, sealed.length - 16)), aad);
        if (c.result === 'valid') {
          expect(ok, label).toBe(true);
          const out = new Uint8Array(msg.length + 16);
          await cipher.seal(hex(c.iv), msg, out, aad);
          expect(Buffer.from(out).toString('hex'), label).toBe(c.ct + c.tag);
          expect(await cipher.open(hex(c.iv), sealed, opened, aad), label).toBe(true);
          expect(Buffer.from(opened).toString('hex'), label).toBe(c.msg);
        } else {
          expect(ok, label).toBe(false);
        }
      }
    });
  }
});

describe.skipIf(kw.skip)(`Wycheproof AES-256-KW ${kw.skip ?? ''}`, () => {
  const list = cases(kw.json, (g) => g.keySize === 256);
  test('has cases', () => expect(list.length).toBeGreaterThan(10));
  for (const name of BACKENDS) {
    test(`${name}: every case with a 32-byte key to wrap`, async () => {
      const backend = resolveBackend(name);
      let checked = 0;
      for (const c of list) {
        const label = `tcId ${c.tcId} (${c.comment})`;
        const ct = hex(c.ct);
        // The format only ever wraps 32-byte data keys; WebCrypto refuses other lengths outright.
        if (c.msg.length !== 64 && ct.length !== 40) continue;
        const unwrapped = ct.length === 40 ? await backend.unwrapKey(hex(c.key), ct) : undefined;
        if (c.result === 'valid') {
          expect(
            Buffer.from((await backend.wrapKey(hex(c.key), hex(c.msg))) as Uint8Array).toString('hex'),
            label,
          ).toBe(c.ct);
          expect(unwrapped && Buffer.from(unwrapped).toString('hex'), label).toBe(c.msg);
        } else {
          expect(unwrapped, label).toBeUndefined();
        }
        checked++;
      }
      expect(checked).toBeGreaterThan(5);
    });
  }
});

describe.skipIf(hk.skip)(`Wycheproof HKDF-SHA512 ${hk.skip ?? ''}`, () => {
  const list = cases(hk.json, () => true);
  test('hkdfExpand after an Extract step gives every valid output', () => {
    let checked = 0;
    for (const c of list) {
      const label = `tcId ${c.tcId} (${c.comment})`;
      if (c.result !== 'valid') {
        // Invalid cases ask for more than 255 * 64 bytes: Expand must refuse.
        expect(() => hkdfExpand(new Uint8Array(64), hex(c.info), c.size), label).toThrow();
        continue;
      }
      // Extract = HMAC(salt, ikm), with an all-zero salt when none is given (RFC 5869 §2.2).
      const salt = c.salt.length ? hex(c.salt) : new Uint8Array(64);
      const prk = hmac(sha512, salt, hex(c.ikm));
      expect(Buffer.from(hkdfExpand(prk, hex(c.info), c.size)).toString('hex'), label).toBe(c.okm);
      expect(
        Buffer.from(hkdf(sha512, hex(c.ikm), hex(c.salt), hex(c.info), c.size)).toString('hex'),
        label,
      ).toBe(c.okm);
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });
});
