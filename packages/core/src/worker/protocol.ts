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
   * A run is done: `output` (transferred) holds its chunks' outputs back to back, `ok` how many
   * chunks sealed or authenticated (fewer than the run's only when opening fails, and then `output`
   * is empty), and `input` the job's input buffer handed back for reuse.
   */
  | { kind: 'done'; job: number; output: ArrayBuffer; ok: number; input: ArrayBuffer }
  /** A run could not be processed at all (an unknown key, a malformed run). */
  | { kind: 'failed'; job: number; message: string };

/**
 * A processed run: its chunks' outputs (sealed, or opened plaintext) in one buffer, and how many
 * chunks came through. A run whose opening failed (`ok` below its count) has an empty output: the
 * stream releases nothing of it.
 */
export interface RunResult {
  output: ArrayBuffer;
  ok: number;
}

/**
 * Seals or opens one run of 16 KiB chunks (layout of aead/runs.ts) with the WebCrypto chunk cipher,
 * into one fresh buffer for the whole run. One buffer per run, not one per chunk as crypto.subtle
 * returns them: measured in Chromium, each transferred buffer costs the page about 10 us to receive
 * and each enqueued one about 5 us more, so 64 per run kept the page's thread (which also reads the
 * source and feeds every Worker) busier than the Workers; the gathering copy is the Worker's.
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
    return { output: out.buffer, ok: count };
  }
  const out = new Uint8Array(Math.max(0, input.length - count * TAG_LENGTH));
  const ok = await cipher.openRun(nonces, input, out, CHUNK_SIZE);
  // nothing of a run that failed leaves the Worker, not even the chunks before the failed one
  return { output: ok === count ? out.buffer : new ArrayBuffer(0), ok };
}
