/**
 * Opening an object: parse the header, recover the data key, check the commitment and identity
 * (SPEC §5.3, §6.2, §7), then random access by chunk (SPEC §8).
 * @module
 */
import { type BackendChoice, type CipherBackend, resolveBackend } from './aead/backend.ts';
import { equalConstantTime } from './bytes.ts';
import { SealstreamError } from './errors.ts';
import { describeHeader, type HeaderInfo, type ParsedHeader, parseHeader } from './header.ts';
import { derivePayloadKeys } from './kdf.ts';
import { Keyring, type KeysInput, type Unwrapped, type WorkLimits } from './keyring.ts';
import { PayloadCipher } from './payload.ts';
import {
  CHUNK_SIZE,
  COMMITMENT_LENGTH,
  chunkOffset,
  PAYLOAD_PREFIX_LENGTH,
  plaintextSize,
  SALT_LENGTH,
} from './sizes.ts';

/** Options to open (decrypt) an object. */
export interface DecryptOptions extends WorkLimits {
  /** Keys and passphrases to try: a {@link Keyring}, one key, `{ passphrase }`, or a list. */
  keys: KeysInput;
  /** The identity the object must be bound to (SPEC §7); omitted: not checked. */
  identity?: string;
  /** Cipher backend; omitted: the fastest available. */
  backend?: BackendChoice;
}

/** Recovers and verifies the payload keys (SPEC §5.3, §6.2). `bytes` holds the header and the 56-byte payload prefix. */
export async function openPayloadKeys(
  header: ParsedHeader,
  bytes: Uint8Array,
  keys: KeysInput,
  backend: CipherBackend,
  limits?: WorkLimits,
): Promise<{ unwrapped: Unwrapped; cipher: () => Promise<PayloadCipher> }> {
  const h = header.headerLength;
  if (bytes.length < h + PAYLOAD_PREFIX_LENGTH) {
    throw new SealstreamError(
      'TRUNCATED',
      'the data ends before the payload salt and commitment: it was truncated',
    );
  }
  const unwrapped = await Keyring.from(keys).unwrap(header.stanzas, backend, limits);
  const salt = bytes.subarray(h, h + SALT_LENGTH);
  const commitment = bytes.subarray(h + SALT_LENGTH, h + SALT_LENGTH + COMMITMENT_LENGTH);
  const derived = derivePayloadKeys(unwrapped.dataKey, salt, header.context);
  if (!equalConstantTime(derived.commitment, commitment)) {
    throw new SealstreamError(
      'COMMITMENT_MISMATCH',
      'the key commitment does not match: the header or payload prefix was tampered with, or a recipient stanza was taken from another object',
    );
  }
  return { unwrapped, cipher: () => PayloadCipher.create(backend, derived) };
}

/** Checks the expected identity against the header (SPEC §7). */
export function checkExpectedIdentity(header: ParsedHeader, expected: string | undefined): void {
  if (expected === undefined) return;
  if (header.identity !== expected) {
    const found =
      header.identity === undefined
        ? 'is not bound to any identity'
        : `is bound to ${JSON.stringify(header.identity)}`;
    throw new SealstreamError(
      'IDENTITY_MISMATCH',
      `expected the object ${JSON.stringify(expected)}, but this object ${found}: it was moved, copied or swapped`,
    );
  }
}

/** A plan for a plaintext range: which ciphertext bytes to fetch (SPEC §8). */
export interface RangePlan {
  /** Plaintext range, `end` exclusive. */
  start: number;
  end: number;
  /** Ciphertext range to fetch, `ciphertextEnd` exclusive. */
  ciphertextStart: number;
  ciphertextEnd: number;
  /** First and last chunk index covered. */
  firstChunk: number;
  lastChunk: number;
  /** True when the range includes the final chunk, so the object's length gets authenticated. */
  includesFinalChunk: boolean;
  /** Total ciphertext size the plan was made for. */
  ciphertextSize: number;
}

/**
 * An object whose header has been opened: the key is recovered and committed, so chunks can be
 * decrypted in any order. Built by {@link openHeader}.
 */
export class OpenedObject {
  /** Public header information. */
  readonly info: HeaderInfo;
  /** Key ID that opened it (undefined for a passphrase). */
  readonly keyId: string | undefined;
  /** Header length: the payload starts here. */
  readonly headerLength: number;
  readonly #cipher: PayloadCipher;

  /** @internal */
  constructor(info: HeaderInfo, keyId: string | undefined, cipher: PayloadCipher) {
    this.info = info;
    this.keyId = keyId;
    this.headerLength = info.headerLength;
    this.#cipher = cipher;
  }

  /** @internal The chunk cipher, for the stream reader. */
  get payloadCipher(): PayloadCipher {
    return this.#cipher;
  }

  /** Plaintext size of the object, given its total ciphertext size (SPEC §8). */
  plaintextSize(ciphertextSize: number): number {
    return plaintextSize(ciphertextSize, this.headerLength);
  }

  /**
   * Plans a ranged read: the ciphertext bytes that hold plaintext `[start, end)`.
   * @param range - Plaintext offsets, `end` exclusive.
   * @param ciphertextSize - Total size of the encrypted object.
   * @throws {SealstreamError} `RANGE_NOT_SATISFIABLE` when the range is empty or past the end.
   */
  planRange(range: { start: number; end: number }, ciphertextSize: number): RangePlan {
    const size = this.plaintextSize(ciphertextSize);
    const { start, end } = range;
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start < 0 ||
      end <= start ||
      end > size
    ) {
      throw new SealstreamError(
        'RANGE_NOT_SATISFIABLE',
        `plaintext range [${start}, ${end}) is not satisfiable for an object of ${size} bytes`,
      );
    }
    const finalChunk = Math.floor(size / CHUNK_SIZE);
    const firstChunk = Math.floor(start / CHUNK_SIZE);
    // Touching the end: include the final chunk, which authenticates the length (SPEC §8).
    const lastChunk = end === size ? finalChunk : Math.floor((end - 1) / CHUNK_SIZE);
    return {
      start,
      end,
      ciphertextStart: chunkOffset(firstChunk, this.headerLength),
      ciphertextEnd: Math.min(chunkOffset(lastChunk + 1, this.headerLength), ciphertextSize),
      firstChunk,
      lastChunk,
      includesFinalChunk: lastChunk === finalChunk,
      ciphertextSize,
    };
  }

  /**
   * Decrypts the chunks of a plan and returns exactly the planned plaintext range.
   * @param plan - From {@link OpenedObject.planRange}.
   * @param sealed - The ciphertext bytes `[plan.ciphertextStart, plan.ciphertextEnd)`.
   * @throws {SealstreamError} `TRUNCATED` if `sealed` has the wrong length, `CHUNK_AUTH_FAILED`.
   */
  async decryptRange(plan: RangePlan, sealed: Uint8Array): Promise<Uint8Array> {
    const expected = plan.ciphertextEnd - plan.ciphertextStart;
    if (sealed.length !== expected) {
      throw new SealstreamError(
        'TRUNCATED',
        `expected ${expected} bytes of ciphertext for this range, got ${sealed.length}`,
      );
    }
    const chunks = plan.lastChunk - plan.firstChunk + 1;
    const out = new Uint8Array(chunks * CHUNK_SIZE);
    const { ok, bytes } = await this.#cipher.open(plan.firstChunk, sealed, out, plan.includesFinalChunk);
    if (ok < chunks) {
      throw new SealstreamError(
        'CHUNK_AUTH_FAILED',
        `chunk ${plan.firstChunk + ok} failed authentication: the object is corrupted or was tampered with`,
      );
    }
    const base = plan.firstChunk * CHUNK_SIZE;
    return out.subarray(plan.start - base, Math.min(plan.end - base, bytes));
  }
}

/**
 * Opens an object's header for random access: parses it, recovers the data key with the keys
 * given, checks the key commitment and the expected identity.
 * @param prefix - The start of the object: at least the header and the 56-byte payload prefix. Use
 *   {@link readHeaderLength} on a first read to learn how many bytes that is.
 * @throws {SealstreamError} header errors, `TRUNCATED`, `NO_MATCHING_KEY`, `COMMITMENT_MISMATCH`, `IDENTITY_MISMATCH`.
 * @example
 * const opened = await openHeader(first64k, { keys: [key] });
 * const plan = opened.planRange({ start: 1000, end: 2000 }, objectSize);
 * const plain = await opened.decryptRange(plan, await fetchBytes(plan.ciphertextStart, plan.ciphertextEnd));
 */
export async function openHeader(prefix: Uint8Array, options: DecryptOptions): Promise<OpenedObject> {
  const backend = resolveBackend(options.backend);
  const header = parseHeader(prefix);
  const { unwrapped, cipher } = await openPayloadKeys(header, prefix, options.keys, backend, options);
  checkExpectedIdentity(header, options.identity);
  return new OpenedObject(describeHeader(header), unwrapped.keyId, await cipher());
}

/** Bytes needed to open a header of length `headerLength`: the header plus the payload prefix. */
export function openPrefixLength(headerLength: number): number {
  return headerLength + PAYLOAD_PREFIX_LENGTH;
}
