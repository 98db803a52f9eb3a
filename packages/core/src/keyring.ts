/**
 * A keyring: the keys and passphrases a reader holds, matched to stanzas by key ID (SPEC §5.3),
 * and re-wrapping of a header for new recipients without touching the payload.
 * @module
 */
import type { BackendChoice, CipherBackend } from './aead/backend.ts';
import { resolveBackend } from './aead/backend.ts';
import { concat, equalConstantTime, toHex } from './bytes.ts';
import { SealstreamError } from './errors.ts';
import {
  encodeRecipientsBlock,
  type KeyStanza,
  parseHeader,
  type ScryptStanza,
  type Stanza,
} from './header.ts';
import { passphraseKek } from './kdf.ts';
import { type KeyInput, keyIdBytes, rawKeyKek, toKey } from './keys.ts';
import { openPayloadKeys } from './open.ts';
import { normalizeRecipient, normalizeRecipients, type Recipient, wrapDataKey } from './recipients.ts';

/** Default highest passphrase work factor a reader accepts (SPEC §5.2). */
export const DEFAULT_MAX_WORK_FACTOR = 20;

interface KeyEntry {
  key: Uint8Array;
  kid: Uint8Array;
  kek: Uint8Array;
}

/** Keys or passphrases a reader accepts: a keyring, one recipient, or a list. */
export type KeysInput = Keyring | Recipient | Recipient[];

/** The data key recovered from a header, and which entry opened it. */
export interface Unwrapped {
  dataKey: Uint8Array;
  /** Key ID of the raw key that opened the object, or undefined for a passphrase. */
  keyId: string | undefined;
  /** Index of the stanza that opened. */
  stanza: number;
}

/**
 * Holds raw keys and passphrases. Decryption picks the key whose ID a stanza names, so a keyring
 * can hold every key a user ever had.
 * @example
 * const ring = new Keyring([oldKey, newKey]);
 * ring.addPassphrase('correct horse battery staple');
 * const plain = await decrypt(sealed, { keys: ring });
 */
export class Keyring {
  readonly #keys: KeyEntry[] = [];
  readonly #passphrases: string[] = [];

  /** @param entries - Raw keys (bytes or text), `{ key }` or `{ passphrase }` objects. */
  constructor(entries: Recipient[] = []) {
    for (const e of entries) this.add(e);
  }

  /** Normalizes what decryption options accept into a keyring. */
  static from(input: KeysInput): Keyring {
    if (input instanceof Keyring) return input;
    return new Keyring(
      normalizeRecipients(input as Recipient | Recipient[]).map((r) => (r.kind === 'key' ? r.key : r)),
    );
  }

  /** Adds a key or passphrase entry. */
  add(entry: Recipient): this {
    const r = normalizeRecipient(entry);
    if (r.kind === 'key') this.addKey(r.key);
    else this.addPassphrase(r.passphrase);
    return this;
  }

  /**
   * Adds a raw key.
   * @returns Its key ID.
   */
  addKey(key: KeyInput): string {
    const k = toKey(key);
    const kid = keyIdBytes(k);
    if (!this.#keys.some((e) => equalConstantTime(e.key, k)))
      this.#keys.push({ key: k, kid, kek: rawKeyKek(k) });
    return toHex(kid);
  }

  /** Adds a passphrase, tried on passphrase stanzas. */
  addPassphrase(passphrase: string): void {
    normalizeRecipient({ passphrase });
    if (!this.#passphrases.includes(passphrase)) this.#passphrases.push(passphrase);
  }

  /** Key IDs of the raw keys held. */
  get keyIds(): string[] {
    return this.#keys.map((e) => toHex(e.kid));
  }

  /** Number of passphrases held. */
  get passphraseCount(): number {
    return this.#passphrases.length;
  }

  /** True when a raw key with this ID is held. */
  has(keyId: string): boolean {
    return this.keyIds.includes(keyId);
  }

  /**
   * Recovers the data key from stanzas (SPEC §5.3): raw keys first, by key ID, then passphrases.
   * @throws {SealstreamError} `WORK_FACTOR_TOO_HIGH`, `NO_MATCHING_KEY`.
   */
  async unwrap(
    stanzas: Stanza[],
    backend: CipherBackend,
    maxWorkFactor = DEFAULT_MAX_WORK_FACTOR,
  ): Promise<Unwrapped> {
    for (const [i, s] of stanzas.entries()) {
      if (s.type !== 'key') continue;
      for (const e of this.#keys) {
        if (!equalConstantTime(e.kid, (s as KeyStanza).kid)) continue;
        const dataKey = await backend.unwrapKey(e.kek, (s as KeyStanza).wrap);
        if (dataKey) return { dataKey, keyId: toHex(e.kid), stanza: i };
      }
    }
    if (this.#passphrases.length > 0) {
      for (const [i, s] of stanzas.entries()) {
        if (s.type !== 'scrypt') continue;
        const { salt, logN, wrap } = s as ScryptStanza;
        if (logN > maxWorkFactor) {
          throw new SealstreamError(
            'WORK_FACTOR_TOO_HIGH',
            `the passphrase stanza asks for work factor ${logN}, above the limit of ${maxWorkFactor}; ` +
              'raise maxWorkFactor only if you trust where this object came from',
          );
        }
        for (const p of this.#passphrases) {
          const dataKey = await backend.unwrapKey(await passphraseKek(p, salt, logN), wrap);
          if (dataKey) return { dataKey, keyId: undefined, stanza: i };
        }
      }
    }
    throw noMatchingKey(stanzas, this);
  }

  /**
   * Re-wraps an object's data key for new recipients. Only the recipients block changes: the
   * payload bytes stay as they are, so the new object is `newHeader || old[oldHeaderLength:]`.
   * @param prefix - The start of the object: the whole header and the 56 bytes of salt and commitment.
   * @param options.recipients - The new recipients.
   * @param options.keepExisting - Keep the current stanzas and add the new ones (default: replace them).
   * @throws {SealstreamError} `NO_MATCHING_KEY` if this keyring cannot open the object, `COMMITMENT_MISMATCH`.
   * @example
   * const { header, oldHeaderLength } = await ring.rewrap(prefix, { recipients: [newKey] });
   */
  async rewrap(
    prefix: Uint8Array,
    options: {
      recipients: Recipient | Recipient[];
      keepExisting?: boolean;
      backend?: BackendChoice;
      maxWorkFactor?: number;
    },
  ): Promise<{ header: Uint8Array; oldHeaderLength: number; newHeaderLength: number }> {
    const recipients = normalizeRecipients(options.recipients);
    const backend = resolveBackend(options.backend);
    const parsed = parseHeader(prefix);
    const opened = await openPayloadKeys(parsed, prefix, this, backend, options.maxWorkFactor);
    const fresh = await wrapDataKey(opened.unwrapped.dataKey, recipients, backend);
    const stanzas = options.keepExisting ? [...parsed.stanzas, ...fresh] : fresh;
    const header = concat(parsed.context, encodeRecipientsBlock(stanzas));
    return { header, oldHeaderLength: parsed.headerLength, newHeaderLength: header.length };
  }
}

function noMatchingKey(stanzas: Stanza[], ring: Keyring): SealstreamError {
  const wanted = stanzas.flatMap((s) => (s.type === 'key' ? [toHex((s as KeyStanza).kid)] : []));
  const passphrases = stanzas.filter((s) => s.type === 'scrypt').length;
  const parts = [];
  if (wanted.length) parts.push(`key ID ${wanted.join(', ')}`);
  if (passphrases) parts.push(`${passphrases} passphrase${passphrases > 1 ? 's' : ''}`);
  const held = ring.keyIds.length ? `keys held: ${ring.keyIds.join(', ')}` : 'no raw keys held';
  return new SealstreamError(
    'NO_MATCHING_KEY',
    `none of the keys or passphrases given opens this object (it is sealed to ${parts.join(' and ') || 'unknown recipient types'}; ${held}${ring.passphraseCount ? `, ${ring.passphraseCount} passphrase(s) tried` : ''})`,
  );
}
