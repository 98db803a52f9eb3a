/**
 * The payload chunk engine (SPEC §6.3): seals and opens runs of consecutive chunks.
 * @module
 */
import type { ChunkCipher, CipherBackend } from './aead/backend.ts';
import { SealstreamError } from './errors.ts';
import type { PayloadKeys } from './kdf.ts';
import { chunkNonce } from './nonce.ts';
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
    checkCounter(first + count);
    let pending: Promise<void>[] | undefined;
    for (let i = 0; i < count; i++) {
      const start = i * CHUNK_SIZE;
      const end = Math.min(start + CHUNK_SIZE, plain.length);
      const at = i * SEALED_CHUNK_SIZE;
      const r = this.#cipher.seal(
        this.nonce(first + i),
        plain.subarray(start, end),
        out.subarray(at, at + end - start + TAG_LENGTH),
      );
      if (r) (pending ??= []).push(r);
    }
    if (pending) await Promise.all(pending);
    return plain.length + count * TAG_LENGTH;
  }

  /**
   * Opens chunks `first`, `first + 1`, ... from `sealed` into `out`. Without `final`, `sealed` is
   * whole sealed chunks; with it, its last chunk (16 to 16399 bytes) must authenticate as the final one.
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
    checkCounter(first + count);
    const results: (boolean | Promise<boolean>)[] = new Array(count);
    let async = false;
    for (let i = 0; i < count; i++) {
      const at = i * SEALED_CHUNK_SIZE;
      const end = Math.min(at + SEALED_CHUNK_SIZE, sealed.length);
      const r = this.#cipher.open(
        this.nonce(first + i),
        sealed.subarray(at, end),
        out.subarray(i * CHUNK_SIZE, i * CHUNK_SIZE + end - at - TAG_LENGTH),
      );
      results[i] = r;
      if (r !== true && r !== false) async = true;
      else if (!r) return { ok: i, bytes: i * CHUNK_SIZE };
    }
    const settled = async ? await Promise.all(results) : (results as boolean[]);
    const ok = settled.indexOf(false);
    if (ok >= 0) return { ok, bytes: ok * CHUNK_SIZE };
    return { ok: count, bytes: sealed.length - count * TAG_LENGTH };
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
