/**
 * The raw-key recipient (SPEC §5.1): a 256-bit key, named in its stanza by key ID, wrapping the data
 * key with AES-KW under a key-encryption key derived from it (SPEC §3.3).
 * @module
 */
import { equalConstantTime, toHex } from '../bytes.ts';
import { type KeyInput, keyIdBytes, rawKeyKek, toKey } from '../keys.ts';
import { binaryField, makeStanza, type Stanza, stanzaValues } from '../stanza.ts';
import type {
  StanzaFormat,
  StanzaUnwrapper,
  StanzaWrapper,
  UnwrapEnvironment,
  WrapEnvironment,
} from './plugin.ts';

/** The stanza type of raw-key recipients. */
export const KEY_STANZA = 'key';
const KID_LENGTH = 8;
const WRAP_LENGTH = 40;

function fields(stanza: Stanza, where: string): { kid: Uint8Array; wrap: Uint8Array } {
  const [kid, wrap] = stanzaValues(stanza, ['kid', 'wrap'], where);
  return {
    kid: binaryField(kid, KID_LENGTH, `${where} kid`),
    wrap: binaryField(wrap, WRAP_LENGTH, `${where} wrap`),
  };
}

/** Raw-key stanzas: `type`, `kid` (8 bytes), `wrap` (40 bytes). */
export const keyStanzaFormat: StanzaFormat = {
  stanzaType: KEY_STANZA,
  check: (stanza, where) => void fields(stanza, where),
  describe: (stanza) => ({ type: 'key', keyId: toHex(fields(stanza, 'stanza').kid) }),
};

/**
 * A raw 256-bit key, as recipient (it wraps) and as unwrapper (it opens the stanzas that name its
 * key ID). The key-encryption key and key ID are derived once.
 * @example
 * const recipient = new RawKeyRecipient(generateKey());
 */
export class RawKeyRecipient implements StanzaWrapper, StanzaUnwrapper {
  readonly stanzaType = KEY_STANZA;
  readonly costly = false;
  /** Key ID of the key (SPEC §3.2), 16 hex digits. */
  readonly keyId: string;
  readonly #key: Uint8Array;
  readonly #kid: Uint8Array;
  readonly #kek: Uint8Array;

  /** @throws {SealstreamError} `INVALID_KEY` when `key` is not one 256-bit key. */
  constructor(key: KeyInput) {
    this.#key = new Uint8Array(toKey(key)); // a copy: later changes to the caller's array do not reach it
    this.#kid = keyIdBytes(this.#key);
    this.#kek = rawKeyKek(this.#key);
    this.keyId = toHex(this.#kid);
  }

  async wrap(dataKey: Uint8Array, env: WrapEnvironment): Promise<Stanza> {
    return makeStanza(KEY_STANZA, [
      ['kid', this.#kid.slice()],
      ['wrap', await env.backend.wrapKey(this.#kek, dataKey)],
    ]);
  }

  async unwrap(stanza: Stanza, env: UnwrapEnvironment): Promise<Uint8Array | undefined> {
    const { kid, wrap } = fields(stanza, 'stanza');
    // The key ID picks the key without trial decryption (SPEC §5.1).
    if (!equalConstantTime(kid, this.#kid)) return undefined;
    return env.backend.unwrapKey(this.#kek, wrap);
  }

  sameSecret(other: StanzaUnwrapper): boolean {
    return other instanceof RawKeyRecipient && equalConstantTime(other.#key, this.#key);
  }
}
