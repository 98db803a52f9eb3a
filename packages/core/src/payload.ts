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

  /**
   * Built by `createSealer` / `createOpener` (a {@link PayloadCipher} cannot be made outside core).
   * @param first - The counter of the first chunk: random access starts mid-payload.
   */
  constructor(cipher: PayloadCipher, first = 0) {
    this.cipher = cipher;
    this.counter = first;
  }

  /** Chunks sealed or opened so far. */
  get chunks(): number {
    return this.counter;
  }

  /** Whether a call is in flight: calls take the next counters, so they go one at a time. */
  #busy = false;

  /**
   * Runs one call alone. Two calls in flight would both start at the same counter: for a sealer,
   * the same nonce twice under one key (which breaks AES-GCM's confidentiality and authenticity);
   * for an opener, chunks opened at the wrong position. The check runs before the first `await`,
   * so a second call made while the first is pending is refused at once.
   * @throws {SealstreamError} `INVALID_ARGUMENT` while another call is in flight.
   */
  protected async alone<T>(what: string, call: () => Promise<T>): Promise<T> {
    if (this.#busy) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `${what} was called while its previous call is still running: await each call before the next (each takes the next chunk counters)`,
      );
    }
    this.#busy = true;
    try {
      return await call();
    } finally {
      this.#busy = false;
    }
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
   * maybe empty) and the sealer refuses further calls. One call at a time: await each before the
   * next (a call made while another runs is refused, never sealed under a nonce already used).
   * @param out - At least {@link sealedLength}`(plain.length, final)` bytes; must not overlap `plain`.
   * @returns Bytes written to `out`.
   * @throws {SealstreamError} `INVALID_ARGUMENT` for a partial chunk without `final`, a call after the
   *   final one or while another runs, a short `out`, an `out` overlapping `plain`, or arguments of
   *   the wrong type.
   */
  seal(plain: Uint8Array, out: Uint8Array, final: boolean): Promise<number> {
    return this.alone('seal', async () => {
      checkCall(this.finished, plain, CHUNK_SIZE, final, out, (n) => sealedLength(n, final));
      const written = await this.cipher.seal(this.counter, plain, out, final);
      this.counter += final ? Math.floor(plain.length / CHUNK_SIZE) + 1 : plain.length / CHUNK_SIZE;
      this.finished = final;
      return written;
    });
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
   * final one. One call at a time: await each before the next.
   * @param out - At least {@link openedLength}`(sealed.length, final)` bytes; must not overlap `sealed`.
   * @returns Plaintext bytes written to `out`.
   * @throws {SealstreamError} `CHUNK_AUTH_FAILED` (the bytes of the chunks before the failing one are
   *   valid plaintext, but the call as a whole failed), `TRAILING_DATA` when the final chunk is
   *   followed by more bytes, `TRUNCATED` when the payload ends without a final chunk,
   *   `INVALID_ARGUMENT` for misuse (as for {@link PayloadSealer.seal}).
   */
  open(sealed: Uint8Array, out: Uint8Array, final: boolean): Promise<number> {
    return this.alone('open', () => this.#open(sealed, out, final));
  }

  async #open(sealed: Uint8Array, out: Uint8Array, final: boolean): Promise<number> {
    checkCall(this.finished, sealed, SEALED_CHUNK_SIZE, final, out, (n) => openedLength(n, final));
    const full = Math.floor(sealed.length / SEALED_CHUNK_SIZE);
    const rest = sealed.length - full * SEALED_CHUNK_SIZE;
    if (final && rest < TAG_LENGTH) {
      this.finished = true;
      throw await this.#cutShort(sealed, out, full, rest);
    }
    const count = final ? full + 1 : full;
    const { ok, bytes } = await this.cipher.open(this.counter, sealed, out, final);
    if (ok < count) {
      this.finished = true;
      if (final && ok === full) {
        throw await finalChunkError(
          this.cipher,
          this.counter + full,
          sealed.subarray(full * SEALED_CHUNK_SIZE),
        );
      }
      throw chunkFailed(this.counter + ok);
    }
    this.counter += count;
    this.finished = final;
    return bytes;
  }

  /**
   * The error for a payload that ends without a final chunk, after `full` whole sealed chunks and
   * `rest` (0 to 15) bytes: the whole chunks are authenticated first, as a stream would have done,
   * so a tampered one is reported as such; then the cut (SPEC §10, case 1).
   */
  async #cutShort(sealed: Uint8Array, out: Uint8Array, full: number, rest: number): Promise<SealstreamError> {
    // `out` is sized for a final chunk, 16 - rest bytes short of the last whole chunk's plaintext:
    // that one opens into a scratch buffer (this is the error path).
    const before = Math.max(0, full - 1);
    let { ok } = await this.cipher.open(
      this.counter,
      sealed.subarray(0, before * SEALED_CHUNK_SIZE),
      out,
      false,
    );
    if (ok === before && full > 0) {
      const last = sealed.subarray(before * SEALED_CHUNK_SIZE, full * SEALED_CHUNK_SIZE);
      ok += (await this.cipher.open(this.counter + before, last, new Uint8Array(CHUNK_SIZE), false)).ok;
    }
    return ok < full ? chunkFailed(this.counter + ok) : cutShort(this.counter + full, rest);
  }
}

/** The error for chunk `index`, not the final one, failing authentication. */
export function chunkFailed(index: number): SealstreamError {
  return new SealstreamError(
    'CHUNK_AUTH_FAILED',
    `chunk ${index} failed authentication: the object is corrupted or was tampered with (or its chunks reordered)`,
  );
}

/**
 * The error for a last sealed chunk `tail` (16 to 16399 bytes) at `counter` that does not authenticate
 * as the final chunk (SPEC §10): `TRAILING_DATA` when a strict prefix of it does (a valid object with
 * bytes appended), else `CHUNK_AUTH_FAILED`. At most 16383 trial decryptions, on this error path only.
 */
export async function finalChunkError(
  cipher: PayloadCipher,
  counter: number,
  tail: Uint8Array,
): Promise<SealstreamError> {
  const scratch = new Uint8Array(CHUNK_SIZE);
  for (let length = TAG_LENGTH; length < tail.length; length++) {
    if ((await cipher.open(counter, tail.subarray(0, length), scratch, true)).ok === 1) {
      return new SealstreamError(
        'TRAILING_DATA',
        'unexpected data after the end of the encrypted object: it was extended or concatenated with something else',
      );
    }
  }
  return new SealstreamError(
    'CHUNK_AUTH_FAILED',
    `the final chunk (${counter}) failed authentication: the object was truncated mid-chunk, corrupted or tampered with`,
  );
}

/**
 * The error for an input that ends without a valid final chunk (SPEC §10, case 1): after `full`
 * whole sealed chunks and `rest` (0 to 15) more bytes.
 */
export function cutShort(full: number, rest: number): SealstreamError {
  return new SealstreamError(
    'TRUNCATED',
    rest > 0
      ? 'the input ends inside a chunk tag: it was truncated'
      : full === 0
        ? 'the input ends right after the header, with no chunk: it was truncated'
        : `the input ends after chunk ${full - 1} without a final chunk: it was truncated`,
  );
}

/**
 * The caller's side of a sealer or opener call: bytes in and out that do not overlap, a boolean
 * `final`, not after the end, whole units unless final, room enough (`need` of the input's length).
 */
function checkCall(
  finished: boolean,
  input: Uint8Array,
  unit: number,
  final: boolean,
  out: Uint8Array,
  need: (length: number) => number,
) {
  checkBuffers(input, out);
  if (typeof final !== 'boolean') {
    throw new SealstreamError('INVALID_ARGUMENT', `final must be true or false, got ${typeof final}`);
  }
  if (finished) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      'the payload is already finished: its final call was made, or an earlier call failed (an opener stops at the first chunk that fails)',
    );
  }
  if (!final && input.length % unit !== 0) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `only the final call may take a partial chunk: ${input.length} bytes is not a multiple of ${unit}`,
    );
  }
  if (out.length < need(input.length)) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `the output holds ${out.length} bytes, ${need(input.length)} are needed`,
    );
  }
}

/**
 * Checks a caller's input and output buffers: both `Uint8Array`s, and not overlapping. A backend
 * that writes as it reads would otherwise seal bytes it has already overwritten (node:crypto and
 * noble do: the object then opens, authenticated, to other bytes than the caller's) or refuse
 * with an error of its own.
 * @throws {SealstreamError} `INVALID_ARGUMENT`.
 */
export function checkBuffers(input: Uint8Array, out: Uint8Array): void {
  if (!(input instanceof Uint8Array) || !(out instanceof Uint8Array)) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `the input and the output must be Uint8Arrays, got ${describe(input)} and ${describe(out)}`,
    );
  }
  const apart =
    input.buffer !== out.buffer ||
    input.byteLength === 0 ||
    out.byteLength === 0 ||
    input.byteOffset + input.byteLength <= out.byteOffset ||
    out.byteOffset + out.byteLength <= input.byteOffset;
  if (!apart) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      'the output overlaps the input: pass separate buffers (or non-overlapping parts of one)',
    );
  }
}

function describe(value: unknown): string {
  return value === null
    ? 'null'
    : typeof value === 'object'
      ? (value.constructor?.name ?? 'object')
      : typeof value;
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
