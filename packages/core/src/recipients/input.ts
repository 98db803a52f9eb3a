/**
 * What callers pass as recipients and keys, turned into wrappers and unwrappers once, at the boundary.
 * @module
 */
import { parseAgeKeyText } from '../age-keys.ts';
import { SealstreamError } from '../errors.ts';
import type { KeyInput } from '../keys.ts';
import { RawKeyRecipient } from './key.ts';
import type { StanzaUnwrapper, StanzaWrapper } from './plugin.ts';
import { PassphraseRecipient } from './scrypt.ts';

/** A passphrase recipient. `workFactor` is scrypt's logN (10 to 22, default 18). */
export interface PassphraseInput {
  passphrase: string;
  workFactor?: number;
}

/**
 * Who an object is encrypted to, or a secret to open it with: a raw 256-bit key (bytes or text),
 * `{ key }`, `{ passphrase }`, an age public key (`age1…`, `age1pq1…`: encrypt only) or private key
 * (`AGE-SECRET-KEY-1…`, `AGE-SECRET-KEY-PQ-1…`) as text, or a recipient object (a
 * {@link StanzaWrapper} to encrypt, a {@link StanzaUnwrapper} to decrypt; the built-in ones are
 * both, except public keys). A string is always parsed as a key, never taken as a passphrase.
 */
export type Recipient = KeyInput | { key: KeyInput } | PassphraseInput | StanzaWrapper | StanzaUnwrapper;

/** Turns one caller recipient into a wrapper or unwrapper (the built-in ones are both). */
function fromInput(r: Recipient): StanzaWrapper | StanzaUnwrapper {
  if (typeof r === 'string') return parseAgeKeyText(r) ?? new RawKeyRecipient(r);
  if (r instanceof Uint8Array) return new RawKeyRecipient(r);
  if (r && typeof r === 'object') {
    if ('wrap' in r || 'unwrap' in r) return r;
    if ('key' in r) return new RawKeyRecipient(r.key);
    if ('passphrase' in r) return new PassphraseRecipient(r.passphrase, r.workFactor);
  }
  throw new SealstreamError(
    'INVALID_ARGUMENT',
    'a recipient must be a key (bytes or text, raw or age), { key }, { passphrase } or a recipient object',
  );
}

/**
 * The wrappers for a list of recipients given to encrypt or rewrap.
 * @throws {SealstreamError} `INVALID_ARGUMENT` for an empty list or a recipient that cannot wrap, `INVALID_KEY`.
 */
export function toWrappers(input: Recipient | Recipient[] | undefined): StanzaWrapper[] {
  const list = input === undefined ? [] : Array.isArray(input) ? input : [input];
  if (list.length === 0) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      'at least one recipient (a key or a passphrase) is required',
    );
  }
  return mapEntries(list, 'recipient', (r) => {
    const w = fromInput(r);
    if (!('wrap' in w) || typeof w.wrap !== 'function') {
      throw new SealstreamError('INVALID_ARGUMENT', 'this recipient object can only unwrap, not encrypt to');
    }
    return w;
  });
}

/**
 * The unwrapper for one key or passphrase given to decrypt.
 * @throws {SealstreamError} `INVALID_ARGUMENT`, `INVALID_KEY`.
 */
export function toUnwrapper(input: Recipient): StanzaUnwrapper {
  const u = fromInput(input);
  if (!('unwrap' in u) || typeof u.unwrap !== 'function') {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      'this recipient object can only encrypt to, not unwrap (a public key is not a private key)',
    );
  }
  return u;
}

/**
 * `convert` on each entry of a caller's list; an error names the entry by its place (`key 2 of 3`),
 * never by its text, which may be a secret. A list of one is not numbered.
 * @param what - What an entry is, for the message: `key`, `recipient`.
 */
export function mapEntries<T, R>(list: readonly T[], what: string, convert: (entry: T) => R): R[] {
  return list.map((entry, i) => {
    try {
      return convert(entry);
    } catch (e) {
      if (!(e instanceof SealstreamError) || list.length === 1) throw e;
      throw new SealstreamError(e.code, `${what} ${i + 1} of ${list.length}: ${e.message}`, { cause: e });
    }
  });
}
