/**
 * The chunk nonce (SPEC §6.3): the base nonce XOR the chunk counter as a 96-bit big-endian integer.
 * Self-contained on purpose: the worker-thread backend ships this function's source to its workers.
 * @module
 */

/** Nonce of chunk `counter` (0 <= counter < 2^38). Returns a new array. */
export function chunkNonce(baseNonce: Uint8Array, counter: number): Uint8Array {
  const n = baseNonce.slice();
  const high = Math.floor(counter / 4294967296);
  n[7] = (n[7] as number) ^ (high & 0xff);
  n[8] = (n[8] as number) ^ (counter >>> 24);
  n[9] = (n[9] as number) ^ ((counter >>> 16) & 0xff);
  n[10] = (n[10] as number) ^ ((counter >>> 8) & 0xff);
  n[11] = (n[11] as number) ^ (counter & 0xff);
  return n;
}
