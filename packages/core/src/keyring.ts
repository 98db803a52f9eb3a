/**
 * A keyring: the secrets a reader holds (raw keys, passphrases, any {@link StanzaUnwrapper}), tried
 * on a header's stanzas in the order of SPEC §5.3, and re-wrapping of a header for new recipients
 * without touching the payload.
 * @module
 */
import type { BackendChoice, CipherBackend } from './aead/backend.ts';
import { resolveBackend } from './aead/backend.ts';
import { concat } from './bytes.ts';
import { checkPayloadPrefix, committedPayloadKeys } from './commitment.ts';
import { SealstreamError } from './errors.ts';
import { encodeRecipientsBlock, parseHeader } from './header.ts';
import type { KeyInput } from './keys.ts';
import { mapEntries, type Recipient, toUnwrapper } from './recipients/input.ts';
import { RawKeyRecipient } from './recipients/key.ts';
import type { RecipientInfo, StanzaUnwrapper, UnwrapEnvironment, UnwrapLimits } from './recipients/plugin.ts';
import { describeStanza } from './recipients/registry.ts';
import { DEFAULT_MAX_WORK_FACTOR, MAX_LOG_N, MIN_LOG_N, PassphraseRecipient } from './recipients/scrypt.ts';
import { type RewrapOptions, rewrapStanzas } from './rewrap.ts';
import type { Stanza } from './stanza.ts';

export { DEFAULT_MAX_WORK_FACTOR } from './recipients/scrypt.ts';

/** Keys or passphrases a reader accepts: a keyring, one recipient, or a list. */
export type KeysInput = Keyring | Recipient | Recipient[];

/** Limits on the work a header may demand of a reader (SPEC §5.2). */
export interface WorkLimits {
  /** Highest passphrase work factor to accept (scrypt logN, default 20). */
  maxWorkFactor?: number;
  /**
   * Largest total scrypt work one header may demand, as a logN: the sum of `2^logN` over its
   * passphrase stanzas may not exceed `2^maxTotalWorkFactor` (default `maxWorkFactor + 1`, at most
   * 28, the highest either limit accepts).
   */
  maxTotalWorkFactor?: number;
}

/**
 * Validates caller limits once.
 * @throws {SealstreamError} `INVALID_ARGUMENT`.
 */
export function resolveLimits(options: WorkLimits = {}): UnwrapLimits {
  const maxWorkFactor = checkLimit('maxWorkFactor', options.maxWorkFactor ?? DEFAULT_MAX_WORK_FACTOR);
  // the default follows maxWorkFactor, within the range a caller may give: maxWorkFactor 28 (the
  // highest accepted) must not fail on a budget of 29 that the caller never wrote
  const maxTotalWorkFactor = checkLimit(
    'maxTotalWorkFactor',
    options.maxTotalWorkFactor ?? Math.min(maxWorkFactor + 1, MAX_LIMIT),
  );
  return { maxWorkFactor, maxTotalWorkFactor };
}

/** Highest work limit a caller may give: 64 stanzas at the format's highest logN (22) is 2^28. */
const MAX_LIMIT = MAX_LOG_N + 6;

function checkLimit(name: string, value: number): number {
  if (!Number.isInteger(value) || value < MIN_LOG_N || value > MAX_LIMIT) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `${name} must be an integer from ${MIN_LOG_N} to ${MAX_LIMIT}, got ${value}`,
    );
  }
  return value;
}

/** The data key recovered from a header, and which entry opened it. */
export interface Unwrapped {
  dataKey: Uint8Array;
  /** Key ID of the key that opened the object, or undefined for a passphrase. */
  keyId: string | undefined;
  /** Index of the stanza that opened. */
  stanza: number;
}

/**
 * Holds the secrets a reader has: raw keys, passphrases, and any other {@link StanzaUnwrapper}.
 * Decryption picks the raw key whose ID a stanza names, so a keyring can hold every key a user ever had.
 * @example
 * const ring = new Keyring([oldKey, newKey]);
 * ring.addPassphrase('correct horse battery staple');
 * const plain = await decrypt(sealed, { keys: ring });
 */
export class Keyring {
  readonly #unwrappers: StanzaUnwrapper[] = [];

  /** @param entries - Raw keys (bytes or text), `{ key }`, `{ passphrase }` or unwrapper objects. */
  constructor(entries: Recipient[] = []) {
    // an entry that is no key is named by its place (`key 2 of 3`), never by its text
    mapEntries(Array.isArray(entries) ? entries : [entries as Recipient], 'key', (e) => this.add(e));
  }

  /** Normalizes what decryption options accept into a keyring. */
  static from(input: KeysInput): Keyring {
    if (input instanceof Keyring) return input;
    const list = Array.isArray(input) ? input : [input];
    return new Keyring(list);
  }

  /**
   * Adds a key, passphrase or unwrapper; a secret already held is not added twice.
   * @throws {SealstreamError} `INVALID_KEY`, `INVALID_ARGUMENT`.
   */
  add(entry: Recipient): this {
    this.#hold(toUnwrapper(entry));
    return this;
  }

  #hold<U extends StanzaUnwrapper>(u: U): U {
    const held = this.#unwrappers.find((e) => e.sameSecret(u));
    if (held) return held as U;
    this.#unwrappers.push(u);
    return u;
  }

  /**
   * Adds a raw key.
   * @returns Its key ID.
   */
  addKey(key: KeyInput): string {
    return this.#hold(new RawKeyRecipient(key)).keyId;
  }

  /** Adds a passphrase, tried on passphrase stanzas. */
  addPassphrase(passphrase: string): void {
    this.#hold(new PassphraseRecipient(passphrase));
  }

  /** Key IDs of the keys held (raw keys and any unwrapper with a key ID). */
  get keyIds(): string[] {
    return this.#unwrappers.flatMap((u) => (u.keyId === undefined ? [] : [u.keyId]));
  }

  /** Number of secrets held: keys, passphrases and unwrappers (each secret once). */
  get size(): number {
    return this.#unwrappers.length;
  }

  /** Number of passphrases held. */
  get passphraseCount(): number {
    return this.#unwrappers.filter((u) => u instanceof PassphraseRecipient).length;
  }

  /** True when a key with this ID is held. */
  has(keyId: string): boolean {
    return this.keyIds.includes(keyId);
  }

  /**
   * Recovers the data key from stanzas (SPEC §5.3): every cheap unwrapper (raw keys) on every stanza
   * first, in header order; then, after checking what the header demands of them before any work,
   * the costly ones (passphrases), in header order.
   * @param limits - A backend-independent work limit, or (older form) the highest work factor.
   * @throws {SealstreamError} `WORK_FACTOR_TOO_HIGH`, `NO_MATCHING_KEY`.
   */
  async unwrap(
    stanzas: readonly Stanza[],
    backend: CipherBackend,
    limits: WorkLimits | number = {},
  ): Promise<Unwrapped> {
    const env: UnwrapEnvironment = {
      backend,
      limits: resolveLimits(typeof limits === 'number' ? { maxWorkFactor: limits } : limits),
    };
    const cheap = this.#unwrappers.filter((u) => !u.costly);
    const costly = this.#unwrappers.filter((u) => u.costly);
    const found = await tryEach(stanzas, cheap, env);
    if (found) return found;
    for (const u of costly)
      u.preflight?.(
        stanzas.filter((s) => s.type === u.stanzaType),
        env,
      );
    const slow = await tryEach(stanzas, costly, env);
    if (slow) return slow;
    throw noMatchingKey(stanzas, this, this.#unwrappers);
  }

  /**
   * Re-wraps an object's data key for new recipients. Only the recipients block changes: the
   * payload bytes stay as they are, so the new object is `newHeader || old[oldHeaderLength:]`.
   * Prefer `openSealed(source, options).rewrap(...)`, which reads exactly the bytes it needs.
   * @param prefix - The start of the object: the whole header and the 56 bytes of salt and commitment.
   * @param options - The new recipients, and what to keep or remove (see {@link RewrapOptions}).
   * @throws {SealstreamError} `NO_MATCHING_KEY` if this keyring cannot open the object, `COMMITMENT_MISMATCH`.
   * @example
   * const { header, oldHeaderLength } = await ring.rewrap(prefix, { recipients: [newKey] });
   */
  async rewrap(
    prefix: Uint8Array,
    options: RewrapOptions & { backend?: BackendChoice } & WorkLimits,
  ): Promise<{ header: Uint8Array; oldHeaderLength: number; newHeaderLength: number }> {
    const backend = resolveBackend(options.backend);
    const parsed = parseHeader(prefix);
    checkPayloadPrefix(parsed, prefix);
    const { dataKey } = await this.unwrap(parsed.stanzas, backend, options);
    committedPayloadKeys(parsed, prefix, dataKey);
    const stanzas = await rewrapStanzas(parsed.stanzas, dataKey, options, backend);
    const header = concat(parsed.context, encodeRecipientsBlock(stanzas));
    return { header, oldHeaderLength: parsed.headerLength, newHeaderLength: header.length };
  }
}

async function tryEach(
  stanzas: readonly Stanza[],
  unwrappers: readonly StanzaUnwrapper[],
  env: UnwrapEnvironment,
): Promise<Unwrapped | undefined> {
  if (unwrappers.length === 0) return undefined;
  for (const [i, s] of stanzas.entries()) {
    for (const u of unwrappers) {
      if (u.stanzaType !== s.type) continue;
      const dataKey = await u.unwrap(s, env);
      if (dataKey) return { dataKey, keyId: u.keyId, stanza: i };
    }
  }
  return undefined;
}

/**
 * The error when no stanza opened. Stanzas name their key by key ID, so two cases are told apart:
 * no key given is one the object is sealed to (a wrong key), or a stanza names a key that was given
 * and still did not open under it, which an honest writer never produces: the header was altered
 * or damaged (or, at odds of 2^-64, two keys share an ID). Passphrase stanzas name nothing, so a
 * wrong passphrase and an altered passphrase stanza look the same.
 */
function noMatchingKey(
  stanzas: readonly Stanza[],
  ring: Keyring,
  held: readonly StanzaUnwrapper[],
): SealstreamError {
  const infos = stanzas.map(describeStanza);
  const heldLabels = held.flatMap((u) => (u.keyId === undefined ? [] : [keyLabel(u.stanzaType, u.keyId)]));
  const named = infos.flatMap((r) => ('keyId' in r ? [keyLabel(r.type, r.keyId)] : []));
  const altered = [...new Set(named.filter((label) => heldLabels.includes(label)))];
  const passphrases = ring.passphraseCount ? `, ${ring.passphraseCount} passphrase(s) tried` : '';
  const given = `${heldLabels.length ? `keys given: ${heldLabels.join(', ')}` : 'no keys given'}${passphrases}`;
  if (altered.length > 0) {
    return new SealstreamError(
      'NO_MATCHING_KEY',
      `the stanza for ${altered.join(', ')} names a key given but does not open under it: the header was altered or damaged (${given})`,
    );
  }
  return new SealstreamError(
    'NO_MATCHING_KEY',
    `none of the keys or passphrases given opens this object (it is sealed to ${describeStanzas(infos)}; ${given})`,
  );
}

/** How a message names a key: its stanza type, for keys other than raw keys, and its key ID. */
function keyLabel(type: string, keyId: string): string {
  return type === 'key' ? `key ${keyId}` : `${type} public key ${keyId}`;
}

function describeStanzas(infos: readonly RecipientInfo[]): string {
  const parts = infos.flatMap((r) => ('keyId' in r ? [keyLabel(r.type, r.keyId)] : []));
  const passphrases = infos.filter((r) => r.type === 'passphrase').length;
  if (passphrases) parts.push(`${passphrases} passphrase${passphrases > 1 ? 's' : ''}`);
  const unknown = infos.filter((r) => r.type === 'unknown').length;
  if (unknown)
    parts.push(`${unknown} recipient${unknown > 1 ? 's' : ''} of a type this version does not know`);
  return parts.join(', ');
}
