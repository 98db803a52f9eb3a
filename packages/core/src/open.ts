/**
 * Opening an object: parse the header, recover the data key, check the commitment and identity
 * (SPEC §5.3, §6.2, §7), then random access by chunk (SPEC §8).
 * @module
 */
import { type BackendChoice, type CipherBackend, resolveBackend } from './aead/backend.ts';
import { checkPayloadPrefix, committedPayloadKeys } from './commitment.ts';
import { SealstreamError } from './errors.ts';
import { checkIdentity, describeHeader, type HeaderInfo, type ParsedHeader, parseHeader } from './header.ts';
import { Keyring, type KeysInput, resolveLimits, type WorkLimits } from './keyring.ts';
import { openedLength, PayloadCipher, PayloadOpener } from './payload.ts';
import { CHUNK_SIZE, chunkOffset, PAYLOAD_PREFIX_LENGTH, plaintextSize } from './sizes.ts';

/** Options to open (decrypt) an object. */
export interface DecryptOptions extends WorkLimits {
  /** Keys and passphrases to try: a {@link Keyring}, one key, `{ passphrase }`, or a list. */
  keys: KeysInput;
  /** The identity the object must be bound to (SPEC §7); omitted: not checked. */
  identity?: string;
  /** Cipher backend; omitted: the fastest available. */
  backend?: BackendChoice;
}

/**
 * An object whose data key is recovered and committed (SPEC §5.3, §6.2) and whose identity is
 * checked (SPEC §7): everything needed to decrypt any chunk, or to rewrap. Internal: the reader
 * (`openSealed`), the stream reader and the legacy `openHeader` all hold one.
 */
export interface OpenedPayload {
  readonly parsed: ParsedHeader;
  readonly info: HeaderInfo;
  /** Key ID of the key that opened it; undefined for a passphrase. */
  readonly keyId: string | undefined;
  readonly dataKey: Uint8Array;
  readonly cipher: PayloadCipher;
  readonly backend: CipherBackend;
}

/** Decryption options validated once, before any input is read (SPEC §9: caller errors come first). */
export interface PreparedOpen {
  readonly keyring: Keyring;
  readonly backend: CipherBackend;
  readonly limits: WorkLimits;
  readonly identity: string | undefined;
}

/**
 * Validates decryption options: keys, backend, work limits, expected identity.
 * @throws {SealstreamError} `INVALID_ARGUMENT`, `INVALID_KEY`, `BACKEND_UNAVAILABLE`.
 */
export function prepareOpen(options: DecryptOptions | PreparedOpen): PreparedOpen {
  if (!options || typeof options !== 'object') {
    throw new SealstreamError('INVALID_ARGUMENT', 'decryption options are required: { keys: [...] }');
  }
  if ('keyring' in options) return options;
  if (options.keys === undefined) {
    throw new SealstreamError('INVALID_ARGUMENT', 'decryption options need keys: { keys: [...] }');
  }
  resolveLimits(options);
  const keyring = Keyring.from(options.keys);
  // nothing to try is the caller's mistake (a key list that came out empty), not the object's
  if (keyring.size === 0) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      'decryption options hold no key or passphrase: keys is empty (give at least one)',
    );
  }
  if (options.identity !== undefined) {
    checkIdentity(
      options.identity,
      (m) => new SealstreamError('INVALID_ARGUMENT', `expected identity: ${m}`),
    );
  }
  return {
    keyring,
    backend: resolveBackend(options.backend),
    limits: { maxWorkFactor: options.maxWorkFactor, maxTotalWorkFactor: options.maxTotalWorkFactor },
    identity: options.identity,
  };
}

/**
 * Opens the header at the start of `prefix` (which holds at least the header and the 56-byte payload
 * prefix): parse, unwrap, commitment, identity, in this order (SPEC §9 says which error wins).
 * @throws {SealstreamError} header errors, `TRUNCATED`, `WORK_FACTOR_TOO_HIGH`, `NO_MATCHING_KEY`,
 *   `COMMITMENT_MISMATCH`, `IDENTITY_MISMATCH`.
 */
export async function openPayload(
  prefix: Uint8Array,
  options: DecryptOptions | PreparedOpen,
): Promise<OpenedPayload> {
  const { keyring, backend, limits, identity } = prepareOpen(options);
  const parsed = parseHeader(prefix);
  checkPayloadPrefix(parsed, prefix);
  const unwrapped = await keyring.unwrap(parsed.stanzas, backend, limits);
  const keys = committedPayloadKeys(parsed, prefix, unwrapped.dataKey);
  checkExpectedIdentity(parsed, identity);
  return {
    parsed,
    info: describeHeader(parsed),
    keyId: unwrapped.keyId,
    dataKey: unwrapped.dataKey,
    cipher: await PayloadCipher.create(backend, keys),
    backend,
  };
}

/** Checks the expected identity against the header (SPEC §7). */
export function checkExpectedIdentity(header: ParsedHeader, expected: string | undefined): void {
  if (expected === undefined) return;
  if (header.identity !== expected) {
    // An object sealed without a binding cannot be told from one swapped in: say which it is, and
    // do not claim it was moved when the writer simply did not bind it.
    throw new SealstreamError(
      'IDENTITY_MISMATCH',
      header.identity === undefined
        ? `expected the object ${JSON.stringify(expected)}, but this object is not bound to any identity: it was sealed without one, so where it belongs cannot be checked (read it without an expected identity only if you trust where it came from)`
        : `expected the object ${JSON.stringify(expected)}, but this object is bound to ${JSON.stringify(header.identity)}: it was moved, copied or swapped`,
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
  constructor(opened: OpenedPayload) {
    this.info = opened.info;
    this.keyId = opened.keyId;
    this.headerLength = opened.info.headerLength;
    this.#cipher = opened.cipher;
  }

  /** Plaintext size of the object, given its total ciphertext size (SPEC §8). */
  plaintextSize(ciphertextSize: number): number {
    return plaintextSize(ciphertextSize, this.headerLength);
  }

  /**
   * Plans a ranged read: the ciphertext bytes that hold plaintext `[start, end)`.
   * @param range - Plaintext offsets, `end` exclusive.
   * @param ciphertextSize - Total size of the encrypted object.
   * @throws {SealstreamError} `RANGE_NOT_SATISFIABLE` when the range is empty or past the end;
   *   `INVALID_ARGUMENT` when it is not two integer offsets.
   */
  planRange(range: { start: number; end: number }, ciphertextSize: number): RangePlan {
    const size = this.plaintextSize(ciphertextSize);
    const { start, end } = checkRange(range, size);
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
    const out = await decryptChunks(this.#cipher, plan.firstChunk, sealed, plan.includesFinalChunk);
    const base = plan.firstChunk * CHUNK_SIZE;
    return out.subarray(plan.start - base, Math.min(plan.end - base, out.length));
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
  return new OpenedObject(await openPayload(prefix, options));
}

/** Bytes needed to open a header of length `headerLength`: the header plus the payload prefix. */
export function openPrefixLength(headerLength: number): number {
  return headerLength + PAYLOAD_PREFIX_LENGTH;
}

/**
 * Decrypts consecutive sealed chunks from `first`; with `final`, the last one must authenticate as the
 * final chunk (SPEC §6.3). Returns their plaintext only when every chunk authenticates.
 * @throws {SealstreamError} `CHUNK_AUTH_FAILED`, `TRUNCATED`, or `TRAILING_DATA` (SPEC §10) when the final one fails.
 */
export async function decryptChunks(
  cipher: PayloadCipher,
  first: number,
  sealed: Uint8Array,
  final: boolean,
): Promise<Uint8Array> {
  const out = new Uint8Array(openedLength(sealed.length, final));
  await new PayloadOpener(cipher, first).open(sealed, out, final);
  return out;
}

/**
 * Checks a plaintext range `[start, end)` against an object of `size` bytes: two integer offsets
 * (a caller's mistake otherwise), then non-empty and inside the object.
 * @throws {SealstreamError} `INVALID_ARGUMENT` for a range that is not `{ start, end }` with
 *   integer offsets; `RANGE_NOT_SATISFIABLE` for one that is empty, reversed or outside the object.
 */
export function checkRange(
  range: { start: number; end: number },
  size: number,
): { start: number; end: number } {
  if (range === null || typeof range !== 'object') {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `a range is { start, end } (end exclusive), got ${range === null ? 'null' : typeof range}`,
    );
  }
  const { start, end } = range;
  for (const [name, value] of [
    ['start', start],
    ['end', end],
  ] as const) {
    if (!Number.isSafeInteger(value)) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        value === undefined
          ? `the range has no ${name}: a range is { start, end } in bytes, end exclusive ({ start, end: size } reads to the end)`
          : `the range's ${name} must be an integer number of bytes, got ${typeof value === 'number' ? value : typeof value}`,
      );
    }
  }
  if (start < 0 || end <= start || end > size) {
    throw new SealstreamError(
      'RANGE_NOT_SATISFIABLE',
      `plaintext range [${start}, ${end}) is not satisfiable for an object of ${size} bytes`,
    );
  }
  return { start, end };
}
