/**
 * The chunk nonce (SPEC §6.3): the base nonce XOR the chunk counter as a 96-bit big-endian integer.
 * @module
 */

/** Nonce of chunk `counter` (0 <= counter < 2^38). Returns a new array. */
export function chunkNonce(baseNonce: Uint8Array, counter: number): Uint8Array {
  const n = new Uint8Array(baseNonce); // a copy, also when given a Node Buffer (whose slice() is a view)
  const high = Math.floor(counter / 4294967296);
  n[7] = (n[7] as number) ^ (high & 0xff);
  n[8] = (n[8] as number) ^ (counter >>> 24);
  n[9] = (n[9] as number) ^ ((counter >>> 16) & 0xff);
  n[10] = (n[10] as number) ^ ((counter >>> 8) & 0xff);
  n[11] = (n[11] as number) ^ (counter & 0xff);
  return n;
}
