/**
 * What the page and a sealing Worker say to each other, and the one function both sides run on a
 * run of chunks: so that a Worker and the page-thread fallback produce the same bytes by the same code.
 * @module
 */
import type { ChunkCipher } from '../aead/backend.ts';
import type { WebCryptoKey } from '../aead/webcrypto.ts';
import { NONCE_LENGTH } from '../nonce.ts';
import { CHUNK_SIZE, TAG_LENGTH } from '../sizes.ts';

/** Which way a run goes. */
export type Direction = 'seal' | 'open';

/** Messages to a sealing Worker. */
export type ToWorker =
  /** A payload key (a non-extractable CryptoKey: the raw bytes never leave the page) under an id. */
  | { kind: 'key'; keyId: number; key: WebCryptoKey }
  /** The payload of that key is done. */
  | { kind: 'forget'; keyId: number }
  /**
   * A run of chunks: `input` (transferred) holds, from `offset`, `length` bytes of whole chunks but the last, one
   * nonce each in `nonces`, computed by the page exactly as the page-thread path computes them.
   */
  | {
      kind: 'run';
      job: number;
      keyId: number;
      direction: Direction;
      nonces: Uint8Array;
      input: ArrayBuffer;
      offset: number;
      length: number;
    };

/** Messages from a sealing Worker. */
export type FromWorker =
  /** The Worker's script ran: it takes jobs. */
  | { kind: 'ready' }
  /**
   * A run is done: `out` (transferred) is its output, `ok` how many chunks sealed or authenticated
   * (fewer than the run's only when opening fails), and `input` the job's input buffer handed back
   * for reuse.
   */
  | { kind: 'done'; job: number; out: ArrayBuffer; ok: number; input: ArrayBuffer }
  /** A run could not be processed at all (an unknown key, a malformed run). */
  | { kind: 'failed'; job: number; message: string };

/** A processed run: its output (sealed, or opened plaintext) and how many chunks came through. */
export interface RunResult {
  out: Uint8Array<ArrayBuffer>;
  ok: number;
}

/**
 * Seals or opens one run of 16 KiB chunks (layout of aead/runs.ts) into a fresh buffer of exactly
 * its output size, with the WebCrypto chunk cipher. Opening stops at the first chunk that fails
 * (zeroed, nothing after it written) and reports how many authenticated.
 */
export async function processRun(
  cipher: ChunkCipher,
  direction: Direction,
  nonces: Uint8Array,
  input: Uint8Array,
): Promise<RunResult> {
  const count = nonces.length / NONCE_LENGTH;
  if (direction === 'seal') {
    const out = new Uint8Array(input.length + count * TAG_LENGTH);
    await cipher.sealRun(nonces, input, out, CHUNK_SIZE);
    return { out, ok: count };
  }
  const out = new Uint8Array(input.length - count * TAG_LENGTH);
  return { out, ok: await cipher.openRun(nonces, input, out, CHUNK_SIZE) };
}
