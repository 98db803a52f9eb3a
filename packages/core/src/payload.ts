/**
 * The payload chunk engine (SPEC §6.3): seals and opens runs of consecutive chunks, each run in one
 * call to the backend ({@link ChunkCipher.sealRun}, {@link ChunkCipher.openRun}) and straight into
 * the caller's buffers.
 * @module
 */
import type { ChunkCipher, CipherBackend } from './aead/backend.ts';
import { SealstreamError } from './errors.ts';
import type { PayloadKeys } from './kdf.ts';
import { chunkNonce, chunkNonces } from './nonce.ts';
import { CHUNK_SIZE, MAX_CHUNKS, SEALED_CHUNK_SIZE, TAG_LENGTH } from './sizes.ts';

/** AES-256-GCM over the chunks of one payload. */
export class PayloadCipher {
  readonly #cipher: ChunkCipher;
  readonly #baseNonce: Uint8Array;

  private constructor(cipher: ChunkCipher, baseNonce: Uint8Array) {
    this.#cipher = cipher;
    this.#baseNonce = baseNonce;
  }

  static async create(backend: CipherBackend, keys: PayloadKeys): Promise<PayloadCipher> {
    return new PayloadCipher(await backend.gcm(keys.key), keys.baseNonce);
  }

  /** Nonce of chunk `counter` (SPEC §6.3). */
  nonce(counter: number): Uint8Array {
    return chunkNonce(this.#baseNonce, counter);
  }

  /**
   * Seals chunks `first`, `first + 1`, ... from `plain` into `out`. Without `final`, `plain` is whole
   * chunks; with it, the last chunk (shorter than 16384, maybe empty) is the final one.
   * @returns Bytes written to `out`.
   */
  async seal(first: number, plain: Uint8Array, out: Uint8Array, final: boolean): Promise<number> {
    const count = final ? Math.floor(plain.length / CHUNK_SIZE) + 1 : plain.length / CHUNK_SIZE;
    if (!Number.isInteger(count)) {
      throw new SealstreamError('INTERNAL', `seal: ${plain.length} bytes are not whole chunks`);
    }
    if (count === 0) return 0;
    checkCounter(first + count);
    return await this.#cipher.sealRun(chunkNonces(this.#baseNonce, first, count), plain, out, CHUNK_SIZE);
  }

  /**
   * Opens chunks `first`, `first + 1`, ... from `sealed` into `out`. Without `final`, `sealed` is
   * whole sealed chunks; with it, its last chunk (16 to 16399 bytes) must authenticate as the final one.
   * The output of the chunk that fails is zeroed, and nothing after it is written.
   * @returns How many chunks authenticated before the first failure (all of them on success), and
   *   the plaintext bytes that those chunks fill at the start of `out`.
   */
  async open(
    first: number,
    sealed: Uint8Array,
    out: Uint8Array,
    final: boolean,
  ): Promise<{ ok: number; bytes: number }> {
    const count = final
      ? Math.floor(sealed.length / SEALED_CHUNK_SIZE) + 1
      : sealed.length / SEALED_CHUNK_SIZE;
    if (!Number.isInteger(count)) {
      throw new SealstreamError('INTERNAL', `open: ${sealed.length} bytes are not whole sealed chunks`);
    }
    checkCounter(first + count);
    // A final chunk too short to hold a tag cannot authenticate: open only the whole chunks before it.
    const lastTooShort = final && sealed.length % SEALED_CHUNK_SIZE < TAG_LENGTH;
    const opened = lastTooShort ? count - 1 : count;
    const ok =
      opened === 0
        ? 0
        : await this.#cipher.openRun(
            chunkNonces(this.#baseNonce, first, opened),
            sealed.subarray(0, lastTooShort ? opened * SEALED_CHUNK_SIZE : sealed.length),
            out,
            CHUNK_SIZE,
          );
    return ok < count ? { ok, bytes: ok * CHUNK_SIZE } : { ok, bytes: sealed.length - count * TAG_LENGTH };
  }
}

function checkCounter(next: number): void {
  if (next > MAX_CHUNKS) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      'the plaintext exceeds the format limit of 2^38 chunks (4 PiB)',
    );
  }
}

/** What a sealer and an opener share: the payload's cipher, the next chunk's counter, and whether the final chunk is done. */
abstract class PayloadRun {
  protected readonly cipher: PayloadCipher;
  protected counter = 0;
  protected finished = false;

  /** @internal */
  constructor(cipher: PayloadCipher) {
    this.cipher = cipher;
  }

  /** Chunks sealed or opened so far. */
  get chunks(): number {
    return this.counter;
  }
}

/**
 * Seals one payload's chunks in order, into buffers the caller owns and may reuse: the building
 * block of a tight loop (read into a buffer, seal into another, write, repeat) with no allocation per
 * chunk. {@link encryptStream} runs on it too.
 * @example
 * const { prefix, sealer } = await createSealer({ recipients: [key] });
 * write(prefix);
 * const out = new Uint8Array(sealedLength(plain.length, true));
 * write(out.subarray(0, await sealer.seal(plain, out, true)));
 */
export class PayloadSealer extends PayloadRun {
  /**
   * Seals the next chunks. Without `final`, `plain` must be whole chunks (a multiple of 16384
   * bytes); with it, it ends the payload (its last chunk is the final one, shorter than 16384 bytes,
   * maybe empty) and the sealer refuses further calls.
   * @param out - At least {@link sealedLength}`(plain.length, final)` bytes; must not overlap `plain`.
   * @returns Bytes written to `out`.
   * @throws {SealstreamError} `INVALID_ARGUMENT` for a partial chunk without `final`, a call after the
   *   final one, or a short `out`.
   */
  async seal(plain: Uint8Array, out: Uint8Array, final: boolean): Promise<number> {
    if (this.finished) throw new SealstreamError('INVALID_ARGUMENT', 'the payload is already finished');
    if (!final && plain.length % CHUNK_SIZE !== 0) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `only the final call may seal a partial chunk: ${plain.length} bytes is not a multiple of ${CHUNK_SIZE}`,
      );
    }
    const need = sealedLength(plain.length, final);
    if (out.length < need) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `the output holds ${out.length} bytes, ${need} are needed`,
      );
    }
    const written = await this.cipher.seal(this.counter, plain, out, final);
    this.counter += final ? Math.floor(plain.length / CHUNK_SIZE) + 1 : plain.length / CHUNK_SIZE;
    this.finished = final;
    return written;
  }
}

/**
 * Opens one payload's chunks in order, into buffers the caller owns and may reuse. Nothing
 * unauthenticated is left in the output: a chunk that fails is zeroed and the call throws.
 * {@link decryptStream} runs on it too.
 */
export class PayloadOpener extends PayloadRun {
  /**
   * Opens the next chunks. Without `final`, `sealed` must be whole sealed chunks (a multiple of 16400
   * bytes); with it, it ends the payload: its last chunk (16 to 16399 bytes) must authenticate as the
   * final one.
   * @param out - At least {@link openedLength}`(sealed.length, final)` bytes; must not overlap `sealed`.
   * @returns Plaintext bytes written to `out`.
   * @throws {SealstreamError} `CHUNK_AUTH_FAILED` (the bytes of the chunks before the failing one are
   *   valid plaintext, but the call as a whole failed), `TRAILING_DATA` when the final chunk is
   *   followed by more bytes, `TRUNCATED` when the payload ends without a final chunk,
   *   `INVALID_ARGUMENT` for misuse.
   */
  async open(sealed: Uint8Array, out: Uint8Array, final: boolean): Promise<number> {
    checkCall(
      this.finished,
      sealed.length,
      SEALED_CHUNK_SIZE,
      final,
      out.length,
      openedLength(sealed.length, final),
    );
    if (final && sealed.length % SEALED_CHUNK_SIZE === 0) {
      throw new SealstreamError(
        'TRUNCATED',
        this.counter + sealed.length / SEALED_CHUNK_SIZE === 0
          ? 'the payload has no chunks: it was truncated'
          : `the input ends after chunk ${this.counter + sealed.length / SEALED_CHUNK_SIZE - 1} without a final chunk: it was truncated`,
      );
    }
    if (final && sealed.length % SEALED_CHUNK_SIZE < TAG_LENGTH) {
      throw new SealstreamError('TRUNCATED', 'the input ends inside a chunk tag: it was truncated');
    }
    const count = final
      ? Math.floor(sealed.length / SEALED_CHUNK_SIZE) + 1
      : sealed.length / SEALED_CHUNK_SIZE;
    const { ok, bytes } = await this.cipher.open(this.counter, sealed, out, final);
    if (ok < count) {
      const failed = this.counter + ok;
      this.finished = true;
      if (final && ok === count - 1) {
        const last = sealed.subarray((count - 1) * SEALED_CHUNK_SIZE);
        if (await this.#hasTrailingData(failed, last)) {
          throw new SealstreamError(
            'TRAILING_DATA',
            'unexpected data after the end of the encrypted object: it was extended or concatenated with something else',
          );
        }
        throw new SealstreamError(
          'CHUNK_AUTH_FAILED',
          `the final chunk (${failed}) failed authentication: the object was truncated mid-chunk, corrupted or tampered with`,
        );
      }
      throw new SealstreamError(
        'CHUNK_AUTH_FAILED',
        `chunk ${failed} failed authentication: the object is corrupted or was tampered with (or its chunks reordered)`,
      );
    }
    this.counter += count;
    this.finished = final;
    return bytes;
  }

  /**
   * True when a strict prefix of `tail` is a valid final chunk at `counter`: the object was valid and
   * more bytes were appended (SPEC §10). Runs only on the error path.
   */
  async #hasTrailingData(counter: number, tail: Uint8Array): Promise<boolean> {
    const scratch = new Uint8Array(CHUNK_SIZE);
    for (let length = TAG_LENGTH; length < tail.length; length++) {
      if ((await this.cipher.open(counter, tail.subarray(0, length), scratch, true)).ok === 1) return true;
    }
    return false;
  }
}

/** The caller's side of a sealer or opener call: not after the end, whole units unless final, room enough. */
function checkCall(
  finished: boolean,
  length: number,
  unit: number,
  final: boolean,
  room: number,
  need: number,
) {
  if (finished) throw new SealstreamError('INVALID_ARGUMENT', 'the payload is already finished');
  if (!final && length % unit !== 0) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `only the final call may take a partial chunk: ${length} bytes is not a multiple of ${unit}`,
    );
  }
  if (room < need) {
    throw new SealstreamError('INVALID_ARGUMENT', `the output holds ${room} bytes, ${need} are needed`);
  }
}

/** Sealed bytes of `plainLength` bytes of plaintext: whole chunks, or the rest of a payload with `final`. */
export function sealedLength(plainLength: number, final: boolean): number {
  const chunks = final ? Math.floor(plainLength / CHUNK_SIZE) + 1 : Math.ceil(plainLength / CHUNK_SIZE);
  return plainLength + chunks * TAG_LENGTH;
}

/** Plaintext bytes that `sealedLength` bytes of sealed chunks open to (the inverse of {@link sealedLength}). */
export function openedLength(sealedLength: number, final: boolean): number {
  const chunks = final
    ? Math.floor(sealedLength / SEALED_CHUNK_SIZE) + 1
    : Math.ceil(sealedLength / SEALED_CHUNK_SIZE);
  return Math.max(0, sealedLength - chunks * TAG_LENGTH);
}
