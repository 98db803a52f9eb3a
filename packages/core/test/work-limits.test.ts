/**
 * Costs a hostile header can impose (SPEC §5.2): the work-factor limit and the total scrypt budget
 * are checked for every passphrase stanza before any scrypt work. scrypt is counted, not timed.
 */
import { Packr } from 'msgpackr';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { concat, writeU32 } from '../src/bytes.ts';
import { parseHeader } from '../src/header.ts';
import { decrypt, decryptStream, encrypt, generateKey, Keyring, resolveBackend } from '../src/index.ts';
import type * as kdf from '../src/kdf.ts';
import { runTransform } from './helpers.ts';

const calls = vi.hoisted(() => ({ scrypt: 0 }));
vi.mock('../src/kdf.ts', async (importOriginal) => {
  const real = await importOriginal<typeof kdf>();
  return {
    ...real,
    passphraseKek: (...args: Parameters<typeof real.passphraseKek>) => {
      calls.scrypt++;
      return real.passphraseKek(...args);
    },
  };
});
beforeEach(() => {
  calls.scrypt = 0;
});

const packr = new Packr({ useRecords: false, variableMapSize: true, mapsAsObjects: false });
const scryptStanza = (logN: number, seed = 0) =>
  new Map<string, unknown>([
    ['type', 'scrypt'],
    ['salt', new Uint8Array(16).fill(seed)],
    ['logN', logN],
    ['wrap', new Uint8Array(40).fill(seed)],
  ]);

/** A real object whose recipients block is replaced by `stanzas` (the payload no longer opens, which is fine: nothing should get that far). */
async function withStanzas(stanzas: Map<string, unknown>[]): Promise<Uint8Array> {
  const real = await encrypt(new Uint8Array(100), { recipients: [generateKey()] });
  const h = parseHeader(real);
  const body = packr.pack(stanzas);
  const length = new Uint8Array(4);
  writeU32(length, 0, body.length);
  return concat(h.context, length, body, real.subarray(h.headerLength));
}

describe('before any scrypt work', () => {
  test('64 stanzas at logN 20 (within the per-stanza limit) are over the total budget: refused, no scrypt run', async () => {
    const file = await withStanzas(Array.from({ length: 64 }, (_, i) => scryptStanza(20, i)));
    await expect(decrypt(file, { keys: [{ passphrase: 'a' }, { passphrase: 'b' }] })).rejects.toMatchObject({
      code: 'WORK_FACTOR_TOO_HIGH',
      message: expect.stringContaining('in total'),
    });
    expect(calls.scrypt).toBe(0);
  });

  test('a stanza within the limit before one above it: refused before the first is tried', async () => {
    const file = await withStanzas([scryptStanza(20), scryptStanza(21)]);
    const { error } = await runTransform(decryptStream({ keys: [{ passphrase: 'pw' }] }), [file]);
    expect(error).toMatchObject({ code: 'WORK_FACTOR_TOO_HIGH', message: expect.stringContaining('21') });
    expect(calls.scrypt).toBe(0);
  });

  test('the budget is exact: 2^(maxWorkFactor + 1) in total passes, one more stanza does not', async () => {
    // With maxWorkFactor 12 the default budget is 2^13: two logN-12 stanzas fit, a third does not.
    const two = await withStanzas([scryptStanza(12, 1), scryptStanza(12, 2)]);
    await expect(decrypt(two, { keys: [{ passphrase: 'pw' }], maxWorkFactor: 12 })).rejects.toMatchObject({
      code: 'NO_MATCHING_KEY',
    });
    expect(calls.scrypt).toBe(2);
    calls.scrypt = 0;
    const three = await withStanzas([scryptStanza(12, 1), scryptStanza(12, 2), scryptStanza(10, 3)]);
    await expect(decrypt(three, { keys: [{ passphrase: 'pw' }], maxWorkFactor: 12 })).rejects.toMatchObject({
      code: 'WORK_FACTOR_TOO_HIGH',
    });
    expect(calls.scrypt).toBe(0);
    // A caller who trusts the source raises the budget explicitly.
    await expect(
      decrypt(three, { keys: [{ passphrase: 'pw' }], maxWorkFactor: 12, maxTotalWorkFactor: 14 }),
    ).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
    expect(calls.scrypt).toBe(3);
  });

  test('a raw key that opens means no passphrase work and no limit, even on a hostile header', async () => {
    const key = generateKey();
    const real = await encrypt(new Uint8Array(100), { recipients: [key] });
    const h = parseHeader(real);
    const own = packr.unpack(real.subarray(h.context.length + 4, h.headerLength)) as unknown[];
    const body = packr.pack([...Array.from({ length: 63 }, (_, i) => scryptStanza(22, i)), ...own]);
    const length = new Uint8Array(4);
    writeU32(length, 0, body.length);
    const file = concat(h.context, length, body, real.subarray(h.headerLength));
    expect(await decrypt(file, { keys: [{ passphrase: 'pw' }, key] })).toEqual(new Uint8Array(100));
    expect(calls.scrypt).toBe(0);
  });

  test('one passphrase object is opened with one scrypt run per stanza tried', async () => {
    const file = await encrypt(new Uint8Array(10), { recipients: [{ passphrase: 'pw', workFactor: 10 }] });
    calls.scrypt = 0;
    expect(await decrypt(file, { keys: [{ passphrase: 'pw' }] })).toEqual(new Uint8Array(10));
    expect(calls.scrypt).toBe(1);
  });

  test('limits given by the caller are validated', async () => {
    const ring = new Keyring([{ passphrase: 'pw' }]);
    const stanzas = parseHeader(await withStanzas([scryptStanza(10)])).stanzas;
    for (const bad of [9, 29, 1.5, Number.NaN]) {
      await expect(ring.unwrap(stanzas, resolveBackend(), { maxWorkFactor: bad })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    }
  });

  test('every documented limit is accepted alone: maxWorkFactor 28 does not fail on a budget of 29 it never set', async () => {
    const file = await encrypt(new Uint8Array(10), { recipients: [{ passphrase: 'pw', workFactor: 10 }] });
    for (const maxWorkFactor of [10, 22, 27, 28]) {
      expect(await decrypt(file, { keys: [{ passphrase: 'pw' }], maxWorkFactor })).toEqual(
        new Uint8Array(10),
      );
    }
    await expect(
      decrypt(file, { keys: [{ passphrase: 'pw' }], maxWorkFactor: 28, maxTotalWorkFactor: 29 }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('maxTotalWorkFactor'),
    });
  });
});
