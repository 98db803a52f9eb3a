/**
 * Bech32 (BIP 173 checksum) as age uses it for key text (SPEC §3.4): all lower case or all upper
 * case, and no 90-character limit, since a post-quantum public key is close to 2000 characters.
 * @module
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
const CHECKSUM_LENGTH = 6;

/** Why a string is not valid bech32; the caller turns it into its own error. */
export class Bech32Error extends Error {
  override readonly name = 'Bech32Error';
}

function polymod(values: Iterable<number>): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i]!;
  }
  return chk >>> 0;
}

function* checksummed(hrp: string, data: readonly number[]): Generator<number> {
  for (let i = 0; i < hrp.length; i++) yield hrp.charCodeAt(i) >>> 5;
  yield 0;
  for (let i = 0; i < hrp.length; i++) yield hrp.charCodeAt(i) & 31;
  yield* data;
}

/** Regroups bits: 8 to 5 with zero padding (encoding), 5 to 8 refusing padding that is not zero (decoding). */
function regroup(data: readonly number[], from: number, to: number, pad: boolean): number[] {
  const out: number[] = [];
  const mask = (1 << to) - 1;
  let acc = 0;
  let bits = 0;
  for (const value of data) {
    acc = ((acc << from) | value) & 0xffffff;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & mask);
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & mask);
  } else if (bits >= from) {
    throw new Bech32Error('it has a whole padding group too many');
  } else if ((acc << (to - bits)) & mask) {
    throw new Bech32Error('its padding bits are not zero');
  }
  return out;
}

/**
 * Encodes `data` under the human-readable part `hrp`; the result has the case of `hrp`.
 * @example
 * bech32Encode('age', publicKey); // "age1..."
 */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  return _bech32EncodeWords(hrp, regroup([...data], 8, 5, true));
}

/** Encodes 5-bit words as they are: the building block of {@link bech32Encode}, open to tests of bad padding. */
export function _bech32EncodeWords(hrp: string, data: readonly number[]): string {
  const lower = hrp.toLowerCase();
  if (hrp !== lower && hrp !== hrp.toUpperCase()) throw new Bech32Error(`mixed-case prefix ${hrp}`);
  const words = [...data];
  const mod = polymod(checksummed(lower, [...words, 0, 0, 0, 0, 0, 0])) ^ 1;
  for (let p = 0; p < CHECKSUM_LENGTH; p++) words.push((mod >>> (5 * (5 - p))) & 31);
  const text = `${lower}1${words.map((w) => CHARSET[w]).join('')}`;
  return hrp === lower ? text : text.toUpperCase();
}

/**
 * Decodes bech32 text. The prefix is returned in the case it was written in.
 * @throws {Bech32Error} mixed case, no separator, a character outside the alphabet, a wrong
 * checksum or padding that is not zero.
 */
export function bech32Decode(text: string): { hrp: string; data: Uint8Array } {
  const lower = text.toLowerCase();
  if (text !== lower && text !== text.toUpperCase()) throw new Bech32Error('it mixes upper and lower case');
  const separator = lower.lastIndexOf('1');
  if (separator < 1 || separator + 1 + CHECKSUM_LENGTH > lower.length) {
    throw new Bech32Error('it has no "1" separator followed by a checksum');
  }
  const hrp = text.slice(0, separator);
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    if (c < 33 || c > 126) throw new Bech32Error('its prefix has a character outside printable ASCII');
  }
  const words: number[] = [];
  for (const ch of lower.slice(separator + 1)) {
    const w = CHARSET.indexOf(ch);
    if (w < 0)
      throw new Bech32Error(`it has the character ${JSON.stringify(ch)}, outside the bech32 alphabet`);
    words.push(w);
  }
  if (polymod(checksummed(lower.slice(0, separator), words)) !== 1) {
    throw new Bech32Error('its checksum is wrong (a typo, or a truncated copy)');
  }
  return { hrp, data: Uint8Array.from(regroup(words.slice(0, -CHECKSUM_LENGTH), 5, 8, false)) };
}
