/**
 * The chunk nonce (SPEC §6.3): the base nonce XOR the chunk counter as a 96-bit big-endian integer.
 * @module
 */

/** Bytes of a chunk nonce. */
export const NONCE_LENGTH = 12;

/** Nonce of chunk `counter` (0 <= counter < 2^38). Returns a new array. */
export function chunkNonce(baseNonce: Uint8Array, counter: number): Uint8Array {
  return chunkNonces(baseNonce, counter, 1);
}

/** Nonces of chunks `first` to `first + count - 1`, 12 bytes each, one after the other. */
export function chunkNonces(baseNonce: Uint8Array, first: number, count: number): Uint8Array {
  const out = new Uint8Array(count * NONCE_LENGTH);
  const base = baseNonce.subarray(0, NONCE_LENGTH);
  for (let i = 0; i < count; i++) {
    const at = i * NONCE_LENGTH;
    const counter = first + i;
    out.set(base, at);
    const high = Math.floor(counter / 4294967296);
    out[at + 7] = (out[at + 7] as number) ^ (high & 0xff);
    out[at + 8] = (out[at + 8] as number) ^ (counter >>> 24);
    out[at + 9] = (out[at + 9] as number) ^ ((counter >>> 16) & 0xff);
    out[at + 10] = (out[at + 10] as number) ^ ((counter >>> 8) & 0xff);
    out[at + 11] = (out[at + 11] as number) ^ (counter & 0xff);
  }
  return out;
}
