/**
 * Sealing an object from the middle: any chunk of a known-size plaintext can be sealed knowing only
 * the payload keys, so an interrupted upload continues without re-sealing (or re-sending) what the
 * store already holds. The bytes are those an uninterrupted seal gives (SPEC §6.3, §8): same
 * header, same nonces, the final flag set on the chunk that ends the plaintext (empty when the size
 * is a multiple of the chunk size).
 * @module
 */
import { begin, type EncryptOptions } from './encrypt.ts';
import { SealstreamError } from './errors.ts';
import { type DecryptOptions, openPayload, openPrefixLength } from './open.ts';
import { checkBuffers, type PayloadCipher } from './payload.ts';
import {
  CHUNK_SIZE,
  chunkCount,
  ciphertextSize,
  PAYLOAD_PREFIX_LENGTH,
  SEALED_CHUNK_SIZE,
  TAG_LENGTH,
} from './sizes.ts';

/**
 * Reads plaintext: fills `into` with the bytes at `[offset, offset + into.length)`, all of them, and
 * resolves with how many it wrote (or with nothing, taken as all). A reader that can come up short
 * (a file that shrank since its size was taken) must say so with its count: bytes it did not write
 * would otherwise be sealed, authenticated, as if they were the plaintext.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: readers written before the count returned void, and still may
export type PlaintextReader = (offset: number, into: Uint8Array) => Promise<number | void>;

/** Options of {@link resumeSealing}: the keys that open the header, as for reading, and the plaintext size. */
export interface ResumeSealingOptions extends DecryptOptions {
  /** Size in bytes of the whole plaintext being sealed. */
  size: number;
}

/** Chunks sealed per call in {@link ResumableSealing.sealRange}: bounds its scratch memory (about 1 MiB). */
const BATCH_CHUNKS = 64;

/**
 * The sealing of one object of known size, chunk by chunk in any order: its first bytes (header,
 * salt, commitment), then any chunk or any byte range of the sealed object, re-derived from the
 * plaintext alone. Built by {@link createResumableSealing} (a new object) or {@link resumeSealing}
 * (an object whose header exists).
 */
export class ResumableSealing {
  /** The object's first bytes: header, salt and commitment (SPEC §4, §6.1, §6.2). */
  readonly prefix: Uint8Array;
  /** Plaintext size. */
  readonly size: number;
  /** Size of the whole sealed object. */
  readonly sealedSize: number;
  readonly #cipher: PayloadCipher;
  /** Index of the final chunk (SPEC §6.3): shorter than a chunk, maybe empty. */
  readonly #finalChunk: number;

  /** @internal Built by {@link createResumableSealing} or {@link resumeSealing}. */
  constructor(prefix: Uint8Array, size: number, cipher: PayloadCipher) {
    this.prefix = prefix;
    this.size = size;
    this.sealedSize = ciphertextSize(size, prefix.length - PAYLOAD_PREFIX_LENGTH);
    this.#cipher = cipher;
    this.#finalChunk = chunkCount(size) - 1;
  }

  /**
   * Seals chunks `first`, `first + 1`, ... of the plaintext. `plain` holds whole chunks, except when
   * it reaches the end of the plaintext: then it holds exactly the rest, and its last chunk is sealed
   * as the final one (an empty final chunk when the size is a multiple of 16384).
   * @param out - At least `plain.length + 16 x chunks` bytes.
   * @returns Bytes written to `out`.
   * @throws {SealstreamError} `INVALID_ARGUMENT` when `plain` is neither whole chunks inside the
   *   plaintext nor exactly its end, `out` is short or overlaps `plain`.
   */
  async sealChunks(first: number, plain: Uint8Array, out: Uint8Array): Promise<number> {
    if (!Number.isSafeInteger(first) || first < 0 || first > this.#finalChunk) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `chunk ${first} is outside a plaintext of ${this.size} bytes (chunks 0 to ${this.#finalChunk})`,
      );
    }
    checkBuffers(plain, out);
    const start = first * CHUNK_SIZE;
    const final = start + plain.length === this.size;
    if (!final && (plain.length % CHUNK_SIZE !== 0 || start + plain.length > this.size)) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `${plain.length} bytes from chunk ${first} are neither whole chunks inside the plaintext nor its end (${this.size} bytes)`,
      );
    }
    const chunks = final ? this.#finalChunk - first + 1 : plain.length / CHUNK_SIZE;
    const need = plain.length + chunks * TAG_LENGTH;
    if (out.length < need) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `the output holds ${out.length} bytes, ${need} are needed`,
      );
    }
    return await this.#cipher.seal(first, plain, out, final);
  }

  /**
   * The plaintext that the sealed object's bytes `[start, end)` are sealed from: the chunks they
   * overlap (empty for a range inside the prefix). What {@link sealRange} reads.
   */
  plaintextRange(start: number, end: number): { start: number; end: number } {
    const p = this.prefix.length;
    if (end <= p || end <= start) return { start: 0, end: 0 };
    const first = Math.floor((Math.max(start, p) - p) / SEALED_CHUNK_SIZE);
    const last = Math.floor((end - p - 1) / SEALED_CHUNK_SIZE);
    return { start: first * CHUNK_SIZE, end: Math.min(this.size, (last + 1) * CHUNK_SIZE) };
  }

  /**
   * Writes the sealed object's bytes `[start, end)` into `out` (prefix included where the range
   * covers it), reading only the plaintext of the chunks the range overlaps: a part of a multipart
   * upload regenerated from the file alone. Scratch memory stays about 1 MiB whatever the range.
   * @param read - Reads plaintext; called with increasing offsets, at most 1 MiB at a time.
   * @throws {SealstreamError} `INVALID_ARGUMENT` for a range outside the sealed object or a short `out`;
   *   `TRUNCATED` when `read` reports fewer (or more) bytes than asked for.
   */
  async sealRange(start: number, end: number, out: Uint8Array, read: PlaintextReader): Promise<void> {
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start < 0 ||
      end < start ||
      end > this.sealedSize
    ) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `sealed range [${start}, ${end}) is outside an object of ${this.sealedSize} bytes`,
      );
    }
    if (out.length < end - start) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `the output holds ${out.length} bytes, ${end - start} are needed`,
      );
    }
    const p = this.prefix.length;
    if (start < p) out.set(this.prefix.subarray(start, Math.min(end, p)), 0);
    if (end <= p) return;
    // payload offsets of the range, and the chunks they overlap (SPEC §8)
    const from = Math.max(start, p) - p;
    const to = end - p;
    const last = Math.floor((to - 1) / SEALED_CHUNK_SIZE);
    const plain = new Uint8Array(Math.min(BATCH_CHUNKS, last + 1) * CHUNK_SIZE);
    // only batches cut by the range's ends (or ending the plaintext) go through scratch; the others
    // are sealed straight into `out`
    let scratch: Uint8Array | undefined;
    for (let chunk = Math.floor(from / SEALED_CHUNK_SIZE); chunk <= last; chunk += BATCH_CHUNKS) {
      const count = Math.min(BATCH_CHUNKS, last - chunk + 1);
      const plainStart = chunk * CHUNK_SIZE;
      const batch = plain.subarray(0, Math.min(count * CHUNK_SIZE, this.size - plainStart));
      const got = await read(plainStart, batch);
      if (got !== undefined && got !== batch.length)
        throw shortPlaintext(plainStart, batch.length, got, this.size);
      const batchStart = chunk * SEALED_CHUNK_SIZE;
      const whole = batchStart >= from && batchStart + count * SEALED_CHUNK_SIZE <= to;
      if (whole && plainStart + batch.length < this.size) {
        await this.sealChunks(chunk, batch, out.subarray(batchStart + p - start));
        continue;
      }
      // a batch that ends the plaintext on a chunk boundary seals the empty final chunk too
      scratch ??= new Uint8Array(plain.length + (BATCH_CHUNKS + 1) * TAG_LENGTH);
      const written = await this.sealChunks(chunk, batch, scratch);
      const cutFrom = Math.max(from, batchStart);
      const cutTo = Math.min(to, batchStart + written);
      out.set(scratch.subarray(cutFrom - batchStart, cutTo - batchStart), cutFrom + p - start);
    }
  }
}

/** The error for a plaintext reader that wrote `got` bytes of the `wanted` at `offset`. */
function shortPlaintext(offset: number, wanted: number, got: unknown, size: number): SealstreamError {
  return new SealstreamError(
    'TRUNCATED',
    `the plaintext reader wrote ${typeof got === 'number' ? got : typeof got} bytes at ${offset} where ${wanted} were asked for: the plaintext is not the ${size} bytes it was said to be (a file that shrank or changed); nothing was sealed from it`,
  );
}

/**
 * Starts a new object of `size` bytes that can be sealed in any order (and later continued with
 * {@link resumeSealing}): the same header and payload keys as {@link createSealer}.
 * @throws {SealstreamError} `INVALID_ARGUMENT`, `INVALID_KEY` for bad options or size.
 * @example
 * const sealing = await createResumableSealing({ recipients: [key] }, file.size);
 * const part = new Uint8Array(8 << 20);
 * await sealing.sealRange(0, part.length, part, readFileAt);
 */
export async function createResumableSealing(
  options: EncryptOptions,
  size: number,
): Promise<ResumableSealing> {
  chunkCount(size);
  const { prefix, cipher } = await begin(options);
  return new ResumableSealing(prefix, size, cipher);
}

/**
 * Continues sealing an object whose first bytes exist (e.g. stored by an interrupted upload): opens
 * them with the caller's keys exactly as a reader does (unwrap, key commitment, identity), so only
 * someone who could read the object can add to it, and nothing secret needs to be kept anywhere
 * but in the header.
 * @param prefix - The object's header, salt and commitment (its first `headerLength + 56` bytes;
 *   more is ignored).
 * @throws {SealstreamError} `NO_MATCHING_KEY` when no key opens the header, `IDENTITY_MISMATCH`,
 *   `COMMITMENT_MISMATCH`, header errors, `TRUNCATED`, `INVALID_ARGUMENT`.
 * @example
 * const sealing = await resumeSealing(journal.header, { keys: [key], size: file.size });
 */
export async function resumeSealing(
  prefix: Uint8Array,
  options: ResumeSealingOptions,
): Promise<ResumableSealing> {
  chunkCount(options?.size);
  const opened = await openPayload(prefix, options);
  const own = new Uint8Array(prefix.subarray(0, openPrefixLength(opened.info.headerLength)));
  return new ResumableSealing(own, options.size, opened.cipher);
}
