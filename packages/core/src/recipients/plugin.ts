/**
 * The one interface every recipient type implements (SPEC §5).
 *
 * Words, chosen so they collide with nothing else in the library:
 * - a **recipient** is who an object is sealed to (a raw key, a passphrase, later a public key). A
 *   {@link StanzaWrapper} wraps an object's data key for one recipient into one stanza (age calls it
 *   a Recipient);
 * - a **stanza unwrapper** is a secret a reader holds (a raw key, a passphrase, later a private key)
 *   that tries to recover the data key from a stanza (age calls it an Identity; here "identity" is
 *   the object binding `bucket/key` of SPEC §7, so that word is not used for keys);
 * - a **stanza format** validates and describes one stanza type, with no secret at all.
 *
 * Adding a recipient type is one module in this folder (its format, wrapper and unwrapper), one line
 * in `registry.ts`, and its section of SPEC.md.
 * @module
 */
import type { CipherBackend } from '../aead/backend.ts';
import type { Stanza } from '../stanza.ts';

/** What a wrapper may use: the AES-KW backend and the randomness (ephemeral keys, salts). */
export interface WrapEnvironment {
  readonly backend: CipherBackend;
  /** A CSPRNG, or a deterministic one for test vectors. */
  readonly random: (length: number) => Uint8Array;
}

/** Limits a reader applies to the work a header may demand (SPEC §5.2). */
export interface UnwrapLimits {
  /** Highest scrypt logN accepted in any passphrase stanza. */
  readonly maxWorkFactor: number;
  /** Largest total scrypt work, as a logN: the sum of `2^logN` over all passphrase stanzas may not exceed `2^maxTotalWorkFactor`. */
  readonly maxTotalWorkFactor: number;
}

/** What an unwrapper may use. */
export interface UnwrapEnvironment {
  readonly backend: CipherBackend;
  readonly limits: UnwrapLimits;
}

/** Wraps data keys for one recipient (age: Recipient). */
export interface StanzaWrapper {
  /** The stanza type it writes. */
  readonly stanzaType: string;
  /** The recipient's key ID, when it has one (raw keys: SPEC §3.2; public keys: derived from the public key). */
  readonly keyId?: string | undefined;
  /** Wraps `dataKey` (32 bytes) into one stanza. */
  wrap(dataKey: Uint8Array, env: WrapEnvironment): Promise<Stanza>;
}

/** A secret that may open stanzas of one type (age: Identity). */
export interface StanzaUnwrapper {
  /** The stanza type it opens; stanzas of other types are never handed to it. */
  readonly stanzaType: string;
  /** Reported as the key that opened an object; undefined for passphrases. */
  readonly keyId?: string | undefined;
  /**
   * True for unwrappers whose every attempt is costly on purpose (scrypt): a reader tries them only
   * after every cheap unwrapper failed on every stanza (SPEC §5.3).
   */
  readonly costly: boolean;
  /**
   * Called with all the header's stanzas of this type before any attempt of this unwrapper: throws
   * when the header demands more work than the limits allow, so the refusal comes before any work.
   */
  preflight?(stanzas: readonly Stanza[], env: UnwrapEnvironment): void;
  /**
   * Tries one stanza. Returns the 32-byte data key, or undefined when this secret does not open it
   * (wrong key, other key ID, failed integrity check). Throws only for what must stop the reader.
   */
  unwrap(stanza: Stanza, env: UnwrapEnvironment): Promise<Uint8Array | undefined>;
  /** True when `other` holds the same secret, so a keyring keeps one of them. */
  sameSecret(other: StanzaUnwrapper): boolean;
}

/** What the header of an object says about one recipient stanza, without any secret. */
export type RecipientInfo =
  | { type: 'key'; keyId: string }
  | { type: 'passphrase'; workFactor: number }
  | { type: 'x25519' | 'mlkem768x25519'; keyId: string }
  | { type: 'unknown'; name: string };

/** Validates and describes the stanzas of one type (no secrets). */
export interface StanzaFormat {
  /** The stanza type. */
  readonly stanzaType: string;
  /**
   * Checks a stanza of this type (SPEC §5: a known type with other fields is invalid).
   * @throws {SealstreamError} `HEADER_INVALID`.
   */
  check(stanza: Stanza, where: string): void;
  /** What `inspect` shows of a valid stanza of this type. */
  describe(stanza: Stanza): RecipientInfo;
}
