/**
 * What the page and a sealing Worker say to each other, and the one function both sides run on a
 * run of chunks: so that a Worker and the page-thread fallback produce the same bytes by the same code.
 * @module
 */
import type { GcmParts, WebCryptoKey } from '../aead/webcrypto.ts';
import { NONCE_LENGTH } from '../nonce.ts';
import { CHUNK_SIZE } from '../sizes.ts';

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
   * A run is done: `parts` (transferred) are its chunks' outputs, one buffer each, `ok` how many
   * chunks sealed or authenticated (fewer than the run's only when opening fails), and `input` the
   * job's input buffer handed back for reuse.
   */
  | { kind: 'done'; job: number; parts: ArrayBuffer[]; ok: number; input: ArrayBuffer }
  /** A run could not be processed at all (an unknown key, a malformed run). */
  | { kind: 'failed'; job: number; message: string };

/**
 * A processed run: its chunks' outputs (sealed, or opened plaintext) and how many came through. A
 * run whose opening failed (`ok` below its count) has no parts: the stream releases nothing of it.
 */
export interface RunResult {
  parts: ArrayBuffer[];
  ok: number;
}

/**
 * Seals or opens one run of 16 KiB chunks (layout of aead/runs.ts) with the WebCrypto cipher,
 * keeping each chunk's output as crypto.subtle returns it. Opening stops at the first chunk that
 * fails and reports how many authenticated.
 *
 * One buffer per chunk, not the run gathered into one: measured in Chromium (256 MiB, 2 Workers),
 * gathering in the Worker took 0.18 CPU-s off the page's thread but added 0.3 to the Workers
 * (10-13% more CPU in all, which on 2 cores is what bounds the wall clock) and ~200 MiB of peak
 * renderer memory (each Worker's collector keeps its own spent results).
 */
export async function processRun(
  cipher: GcmParts,
  direction: Direction,
  nonces: Uint8Array,
  input: Uint8Array,
): Promise<RunResult> {
  if (direction === 'seal') {
    const parts = await cipher.seal(nonces, input, CHUNK_SIZE);
    return { parts, ok: parts.length };
  }
  const opened = await cipher.open(nonces, input, CHUNK_SIZE);
  // nothing of a run that failed leaves the Worker, not even the chunks before the failed one
  return opened.ok === nonces.length / NONCE_LENGTH ? opened : { parts: [], ok: opened.ok };
}
