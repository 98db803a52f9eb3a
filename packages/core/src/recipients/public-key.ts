/**
 * Public-key recipients (SPEC §5.4 to §5.6). A key-encapsulation mechanism (KEM) gives each stanza
 * a fresh shared secret; HKDF turns it into a single-use key-encryption key; AES-KW wraps the data
 * key under it, as in every other stanza. The two types, X25519 (`x25519.ts`) and the ML-KEM-768 +
 * X25519 hybrid (`mlkem768x25519.ts`), are each one {@link StanzaKem}; this module is what they
 * share: the stanza fields, the key ID, the recipient (public key) and the private key.
 * @module
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bech32Encode } from '../bech32.ts';
import { concat, equalConstantTime, toHex, utf8 } from '../bytes.ts';
import { SealstreamError } from '../errors.ts';
import { hkdfExpand } from '../kdf.ts';
import { binaryField, makeStanza, type Stanza, stanzaValues } from '../stanza.ts';
import { mlkem768x25519Kem } from './mlkem768x25519.ts';
import type {
  StanzaFormat,
  StanzaUnwrapper,
  StanzaWrapper,
  UnwrapEnvironment,
  WrapEnvironment,
} from './plugin.ts';
import { x25519Kem } from './x25519.ts';

/** The public-key types: also their stanza types. */
export type PublicKeyType = 'x25519' | 'mlkem768x25519';

/** One public-key type: its KEM, its sizes and its key text (SPEC §5.4, §5.5, §5.6). */
export interface StanzaKem {
  /** The key type, which is also the stanza type. */
  readonly type: PublicKeyType;
  readonly publicKeyLength: number;
  readonly privateKeyLength: number;
  /** Length of the `enc` field: the KEM ciphertext (for X25519, the ephemeral share). */
  readonly encLength: number;
  /** Random bytes one encapsulation consumes. */
  readonly randomLength: number;
  /** Bech32 prefix of the recipient text (age's: `age`, `age1pq`). */
  readonly recipientPrefix: string;
  /** Bech32 prefix of the private key text (age's: `AGE-SECRET-KEY-`, `AGE-SECRET-KEY-PQ-`). */
  readonly privateKeyPrefix: string;
  /** The public key of a private key of the right length. */
  publicKeyOf(privateKey: Uint8Array): Uint8Array;
  /** Why a public key of the right length cannot be encrypted to, or undefined when it can. */
  publicKeyProblem(publicKey: Uint8Array): string | undefined;
  /**
   * A fresh shared secret for `publicKey` (already checked) from `random`, and its encapsulation.
   * @throws {SealstreamError} `INVALID_KEY` when the KEM refuses the key.
   */
  encapsulate(publicKey: Uint8Array, random: Uint8Array): { enc: Uint8Array; sharedSecret: Uint8Array };
  /** The shared secret of `enc` for this private key, or undefined when the KEM rejects `enc`. */
  decapsulate(enc: Uint8Array, privateKey: Uint8Array): Uint8Array | undefined;
}

/** Every public-key type, by name. */
export const STANZA_KEMS: Readonly<Record<PublicKeyType, StanzaKem>> = {
  x25519: x25519Kem,
  mlkem768x25519: mlkem768x25519Kem,
};

const KID_LENGTH = 8;
const WRAP_LENGTH = 40;
const KEK_LENGTH = 32;

/** The key ID of a public key (SPEC §5.4): derived from the public key alone, so anyone holding it can name it. */
function keyIdOf(kem: StanzaKem, publicKey: Uint8Array): Uint8Array {
  return hkdfExpand(publicKey, utf8(`sealstream/v1 ${kem.type} key-id`), KID_LENGTH);
}

/** The single-use key-encryption key of one stanza (SPEC §5.4). */
function kekOf(kem: StanzaKem, sharedSecret: Uint8Array, enc: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return hkdf(sha512, sharedSecret, concat(enc, publicKey), utf8(`sealstream/v1 ${kem.type}`), KEK_LENGTH);
}

interface KemFields {
  kid: Uint8Array;
  enc: Uint8Array;
  wrap: Uint8Array;
}

function fields(kem: StanzaKem, stanza: Stanza, where: string): KemFields {
  const [kid, enc, wrap] = stanzaValues(stanza, ['kid', 'enc', 'wrap'], where);
  return {
    kid: binaryField(kid, KID_LENGTH, `${where} kid`),
    enc: binaryField(enc, kem.encLength, `${where} enc`),
    wrap: binaryField(wrap, WRAP_LENGTH, `${where} wrap`),
  };
}

/** The stanza format of one public-key type: `type`, `kid` (8 bytes), `enc`, `wrap` (40 bytes). */
function kemStanzaFormat(kem: StanzaKem): StanzaFormat {
  return {
    stanzaType: kem.type,
    check: (stanza, where) => void fields(kem, stanza, where),
    describe: (stanza) => ({ type: kem.type, keyId: toHex(fields(kem, stanza, 'stanza').kid) }),
  };
}

/** The stanza formats of the public-key types, for the registry. */
export const publicKeyStanzaFormats: readonly StanzaFormat[] =
  Object.values(STANZA_KEMS).map(kemStanzaFormat);

/**
 * The KEM of a public-key type.
 * @throws {SealstreamError} `INVALID_ARGUMENT` for a type this version does not know.
 */
export function stanzaKem(type: PublicKeyType): StanzaKem {
  const kem = (STANZA_KEMS as Record<string, StanzaKem | undefined>)[type];
  if (!kem) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `unknown public-key type ${JSON.stringify(type)}: expected ${Object.keys(STANZA_KEMS).join(' or ')}`,
    );
  }
  return kem;
}

function invalidKey(detail: string): SealstreamError {
  return new SealstreamError('INVALID_KEY', `invalid key: ${detail}`);
}

/**
 * A public key to seal objects to (age: a recipient). Its text is age's (`age1…` for X25519,
 * `age1pq1…` for ML-KEM-768 + X25519), see {@link parseRecipient}.
 * @example
 * const recipient = parseRecipient('age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p');
 * const sealed = await encrypt(data, { recipients: [recipient] });
 */
export class PublicKeyRecipient implements StanzaWrapper {
  /** The key type, also the stanza type it writes. */
  readonly type: PublicKeyType;
  readonly stanzaType: PublicKeyType;
  /** Key ID (SPEC §5.4), 16 hex digits; `inspectHeader` shows it for each stanza sealed to this key. */
  readonly keyId: string;
  readonly #kem: StanzaKem;
  readonly #publicKey: Uint8Array;
  readonly #kid: Uint8Array;

  /**
   * @param type - `x25519` or `mlkem768x25519`.
   * @param publicKey - The raw public key: 32 bytes for X25519, 1216 for ML-KEM-768 + X25519.
   * @throws {SealstreamError} `INVALID_KEY` for a wrong length, a non-canonical or low-order X25519
   * point, or an ML-KEM key with a coefficient out of range (SPEC §5.4, §5.5).
   */
  constructor(type: PublicKeyType, publicKey: Uint8Array) {
    const kem = stanzaKem(type);
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== kem.publicKeyLength) {
      throw invalidKey(`a ${type} public key is ${kem.publicKeyLength} bytes`);
    }
    const problem = kem.publicKeyProblem(publicKey);
    if (problem) throw invalidKey(`this ${type} public key cannot be encrypted to: ${problem}`);
    this.type = type;
    this.stanzaType = type;
    this.#kem = kem;
    this.#publicKey = publicKey.slice();
    this.#kid = keyIdOf(kem, this.#publicKey);
    this.keyId = toHex(this.#kid);
  }

  /** The raw public key (a copy). */
  get publicKey(): Uint8Array {
    return this.#publicKey.slice();
  }

  async wrap(dataKey: Uint8Array, env: WrapEnvironment): Promise<Stanza> {
    const { enc, sharedSecret } = this.#kem.encapsulate(this.#publicKey, env.random(this.#kem.randomLength));
    const kek = kekOf(this.#kem, sharedSecret, enc, this.#publicKey);
    return makeStanza(this.type, [
      ['kid', this.#kid.slice()],
      ['enc', enc],
      ['wrap', await env.backend.wrapKey(kek, dataKey)],
    ]);
  }

  /** True when `other` is the same public key. */
  equals(other: PublicKeyRecipient): boolean {
    return other.type === this.type && equalConstantTime(other.#publicKey, this.#publicKey);
  }

  /** The key as age writes it: `age1…` or `age1pq1…` (SPEC §5.6). */
  toString(): string {
    return bech32Encode(this.#kem.recipientPrefix, this.#publicKey);
  }
}

/**
 * A private key that opens the stanzas sealed to its public key (age: an identity). Its text is
 * age's (`AGE-SECRET-KEY-1…`, `AGE-SECRET-KEY-PQ-1…`), see {@link parsePrivateKey}; it also seals
 * to its own public key. The stanza's key ID picks it without trial decryption.
 * @example
 * const key = generatePrivateKey('mlkem768x25519');
 * const sealed = await encrypt(data, { recipients: [key.recipient] });
 * const plain = await decrypt(sealed, { keys: [key] });
 */
export class PrivateKey implements StanzaWrapper, StanzaUnwrapper {
  readonly type: PublicKeyType;
  readonly stanzaType: PublicKeyType;
  readonly costly = false;
  /** Its public key, to seal to. */
  readonly recipient: PublicKeyRecipient;
  /** Key ID of its public key. */
  readonly keyId: string;
  readonly #kem: StanzaKem;
  readonly #secret: Uint8Array;

  /**
   * @param type - `x25519` or `mlkem768x25519`.
   * @param secret - 32 bytes: the X25519 scalar, or the ML-KEM-768 + X25519 seed.
   * @throws {SealstreamError} `INVALID_KEY` for a wrong length.
   */
  constructor(type: PublicKeyType, secret: Uint8Array) {
    const kem = stanzaKem(type);
    if (!(secret instanceof Uint8Array) || secret.length !== kem.privateKeyLength) {
      throw invalidKey(`a ${type} private key is ${kem.privateKeyLength} bytes`);
    }
    this.type = type;
    this.stanzaType = type;
    this.#kem = kem;
    this.#secret = secret.slice();
    this.recipient = new PublicKeyRecipient(type, kem.publicKeyOf(this.#secret));
    this.keyId = this.recipient.keyId;
  }

  wrap(dataKey: Uint8Array, env: WrapEnvironment): Promise<Stanza> {
    return this.recipient.wrap(dataKey, env);
  }

  async unwrap(stanza: Stanza, env: UnwrapEnvironment): Promise<Uint8Array | undefined> {
    const { kid, enc, wrap } = fields(this.#kem, stanza, 'stanza');
    // The key ID picks the key without trial decryption (SPEC §5.4); it is public, so a plain comparison.
    if (toHex(kid) !== this.keyId) return undefined;
    // A rejected encapsulation (a low-order X25519 share) opens nothing, like a failed AES-KW check.
    const sharedSecret = this.#kem.decapsulate(enc, this.#secret);
    if (!sharedSecret) return undefined;
    return env.backend.unwrapKey(kekOf(this.#kem, sharedSecret, enc, this.recipient.publicKey), wrap);
  }

  sameSecret(other: StanzaUnwrapper): boolean {
    return (
      other instanceof PrivateKey &&
      other.type === this.type &&
      equalConstantTime(other.#secret, this.#secret)
    );
  }

  /**
   * The private key as age writes it, `AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…` (SPEC §5.6).
   * This is the secret: store it as such (see {@link formatPrivateKeyFile}).
   */
  secretText(): string {
    return bech32Encode(this.#kem.privateKeyPrefix, this.#secret);
  }

  /** Never the secret, so that a key in a template string or a log line shows only what it is. */
  toString(): string {
    return `[${this.type} private key ${this.keyId}]`;
  }
}
