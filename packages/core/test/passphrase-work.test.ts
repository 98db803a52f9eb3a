import { describe, expect, it } from 'vitest';
import { encrypt, generateKey, passphraseWorkExcess, readHeaderLength } from '../src/index.ts';
import { PassphraseRecipient } from '../src/recipients/scrypt.ts';

/** The header of an object sealed to `recipients`. */
async function headerOf(recipients: unknown[]): Promise<Uint8Array> {
  const sealed = await encrypt(new Uint8Array(10), { recipients: recipients as never });
  return sealed.subarray(0, readHeaderLength(sealed)!);
}

describe('passphraseWorkExcess (SPEC §5.2 budget, as readers enforce it)', () => {
  it('a header within the budget, or with no passphrase: undefined', async () => {
    expect(passphraseWorkExcess(await headerOf([generateKey()]))).toBeUndefined();
    // two stanzas at logN 10: 2^11 in all, well within the default 2^21
    const two = await headerOf([new PassphraseRecipient('a', 10), new PassphraseRecipient('b', 10)]);
    expect(passphraseWorkExcess(two)).toBeUndefined();
    // exactly at the budget: 2^11 with maxWorkFactor 10 (total budget 2^11)
    expect(passphraseWorkExcess(two, { maxWorkFactor: 10 })).toBeUndefined();
  });

  it('past the budget: the stanzas, their work and the budget', async () => {
    const three = await headerOf([10, 10, 10].map((n, i) => new PassphraseRecipient(`p${i}`, n)));
    expect(passphraseWorkExcess(three, { maxWorkFactor: 10 })).toEqual({
      stanzas: 3,
      workFactor: Math.log2(3 * 2 ** 10),
      budget: 11,
    });
    // the total budget may be given apart from the per-stanza limit, as readers take it
    expect(passphraseWorkExcess(three, { maxWorkFactor: 10, maxTotalWorkFactor: 12 })).toBeUndefined();
  });

  it('limits are checked as readers check them: maxWorkFactor 28 is the highest', async () => {
    const one = await headerOf([new PassphraseRecipient('x', 10)]);
    expect(passphraseWorkExcess(one, { maxWorkFactor: 28 })).toBeUndefined();
    expect(() => passphraseWorkExcess(one, { maxWorkFactor: 29 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
