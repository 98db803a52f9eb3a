/**
 * The passphrase recipient (SPEC §5.2): scrypt derives a key-encryption key from the passphrase and a
 * fresh salt; AES-KW wraps the data key under it. Every attempt is costly on purpose, so a reader
 * checks what a header demands before running scrypt at all.
 * @module
 */
import { SealstreamError } from '../errors.ts';
import { passphraseKek } from '../kdf.ts';
import { binaryField, makeStanza, type Stanza, stanzaInvalid, stanzaValues } from '../stanza.ts';
import type {
  StanzaFormat,
  StanzaUnwrapper,
  StanzaWrapper,
  UnwrapEnvironment,
  WrapEnvironment,
} from './plugin.ts';

/** The stanza type of passphrase recipients. */
export const SCRYPT_STANZA = 'scrypt';
/** Smallest and largest work factor (scrypt logN) a stanza may carry (SPEC §5.2). */
export const MIN_LOG_N = 10;
export const MAX_LOG_N = 22;
/** Default work factor of new passphrase stanzas (SPEC §5.2). */
export const DEFAULT_WORK_FACTOR = 18;
/** Default highest work factor a reader accepts (SPEC §5.2). */
export const DEFAULT_MAX_WORK_FACTOR = 20;
/**
 * Default total scrypt work a reader accepts from one header, as a logN (SPEC §5.2): the sum of
 * `2^logN` over its passphrase stanzas may be at most `2^21`, twice the work of one stanza at the
 * default limit (eight at the default work factor).
 */
export const DEFAULT_MAX_TOTAL_WORK_FACTOR = 21;
const SALT_LENGTH = 16;
const WRAP_LENGTH = 40;

interface ScryptFields {
  salt: Uint8Array;
  logN: number;
  wrap: Uint8Array;
}

function fields(stanza: Stanza, where: string): ScryptFields {
  const [salt, logN, wrap] = stanzaValues(stanza, ['salt', 'logN', 'wrap'], where);
  if (typeof logN !== 'number' || !Number.isInteger(logN) || logN < MIN_LOG_N || logN > MAX_LOG_N) {
    throw stanzaInvalid(`${where} has a work factor outside ${MIN_LOG_N} to ${MAX_LOG_N}`);
  }
  return {
    salt: binaryField(salt, SALT_LENGTH, `${where} salt`),
    logN,
    wrap: binaryField(wrap, WRAP_LENGTH, `${where} wrap`),
  };
}

/** Passphrase stanzas: `type`, `salt` (16 bytes), `logN` (10 to 22), `wrap` (40 bytes). */
export const scryptStanzaFormat: StanzaFormat = {
  stanzaType: SCRYPT_STANZA,
  check: (stanza, where) => void fields(stanza, where),
  describe: (stanza) => ({ type: 'passphrase', workFactor: fields(stanza, 'stanza').logN }),
};

/**
 * Refuses, before any scrypt work, a header whose passphrase stanzas demand more than the limits
 * (SPEC §5.2): any one above `maxWorkFactor`, or all of them together above `2^maxTotalWorkFactor`.
 * @throws {SealstreamError} `WORK_FACTOR_TOO_HIGH`.
 */
export function checkScryptWork(stanzas: readonly Stanza[], env: UnwrapEnvironment): void {
  const { maxWorkFactor, maxTotalWorkFactor } = env.limits;
  let total = 0;
  for (const s of stanzas) {
    const { logN } = fields(s, 'stanza');
    if (logN > maxWorkFactor) {
      throw new SealstreamError(
        'WORK_FACTOR_TOO_HIGH',
        `a passphrase stanza asks for work factor ${logN}, above the limit of ${maxWorkFactor}; ` +
          'raise maxWorkFactor only if you trust where this object came from',
      );
    }
    total += 2 ** logN;
  }
  if (total > 2 ** maxTotalWorkFactor) {
    throw new SealstreamError(
      'WORK_FACTOR_TOO_HIGH',
      `the ${stanzas.length} passphrase stanzas of this header ask for scrypt work 2^${Math.log2(total).toFixed(2)} in total, ` +
        `above the limit of 2^${maxTotalWorkFactor}; raise maxTotalWorkFactor only if you trust where this object came from`,
    );
  }
}

/**
 * A passphrase, as recipient (it wraps with a fresh salt at its work factor) and as unwrapper.
 * The passphrase is normalized to NFC before scrypt (SPEC §3.3).
 * @example
 * const recipient = new PassphraseRecipient('correct horse battery staple', 18);
 */
export class PassphraseRecipient implements StanzaWrapper, StanzaUnwrapper {
  readonly stanzaType = SCRYPT_STANZA;
  readonly costly = true;
  readonly keyId = undefined;
  /** The scrypt logN this recipient wraps with. */
  readonly workFactor: number;
  readonly #passphrase: string;

  /**
   * @param passphrase - A non-empty string.
   * @param workFactor - scrypt logN for new stanzas, 10 to 22 (default 18); unused when unwrapping.
   *   Above 20 (the readers' default `maxWorkFactor`), readers must raise their limit to open the object.
   * @throws {SealstreamError} `INVALID_ARGUMENT`.
   */
  constructor(passphrase: string, workFactor: number = DEFAULT_WORK_FACTOR) {
    if (typeof passphrase !== 'string' || passphrase.length === 0) {
      throw new SealstreamError('INVALID_ARGUMENT', 'a passphrase must be a non-empty string');
    }
    if (!Number.isInteger(workFactor) || workFactor < MIN_LOG_N || workFactor > MAX_LOG_N) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `workFactor must be an integer from ${MIN_LOG_N} to ${MAX_LOG_N}, got ${workFactor}`,
      );
    }
    this.#passphrase = passphrase;
    this.workFactor = workFactor;
  }

  async wrap(dataKey: Uint8Array, env: WrapEnvironment): Promise<Stanza> {
    const salt = env.random(SALT_LENGTH);
    const kek = await passphraseKek(this.#passphrase, salt, this.workFactor);
    return makeStanza(SCRYPT_STANZA, [
      ['salt', salt],
      ['logN', this.workFactor],
      ['wrap', await env.backend.wrapKey(kek, dataKey)],
    ]);
  }

  preflight(stanzas: readonly Stanza[], env: UnwrapEnvironment): void {
    checkScryptWork(stanzas, env);
  }

  async unwrap(stanza: Stanza, env: UnwrapEnvironment): Promise<Uint8Array | undefined> {
    const { salt, logN, wrap } = fields(stanza, 'stanza');
    return env.backend.unwrapKey(await passphraseKek(this.#passphrase, salt, logN), wrap);
  }

  sameSecret(other: StanzaUnwrapper): boolean {
    return (
      other instanceof PassphraseRecipient &&
      other.#passphrase.normalize('NFC') === this.#passphrase.normalize('NFC')
    );
  }
}
