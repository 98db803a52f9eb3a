/**
 * `encryptStream` / `decryptStream` on the WebCrypto backend: every whole chunk of a write is handed
 * to `crypto.subtle` as soon as it is complete, and the transform returns while up to
 * {@link SUBTLE_WINDOW} chunks are still being sealed (or opened), so the next write arrives while
 * subtle works. A run-at-a-time stream (seal 64 chunks, await them all, enqueue, then receive the
 * next write) leaves subtle idle between runs: measured in Chromium, this path does 1.10-1.29x the
 * MB per CPU-second of that one (README of the core). However large a write, no more than the
 * window is in flight.
 *
 * Results are taken in order, a group of {@link SUBTLE_GROUP} chunks at a time, and enqueued as
 * subtle made them (one buffer per chunk, nothing copied). The bytes are the page-thread path's:
 * nonces come from the same counter, and the final chunk is the one `flush` seals. Decryption
 * releases a group only once every chunk in it authenticated, and opens the final chunk with the
 * {@link PayloadOpener}, whose errors (truncation, trailing data) are the stream's.
 *
 * This relies on `crypto.subtle` copying its input when called (WebCrypto: "get a copy of the bytes
 * held by the data parameter"), so the caller's buffer and the carried partial chunk are free again
 * as soon as the call returns.
 * @module
 */
import { resolveBackend } from './aead/backend.ts';
import {
  capturingWebcryptoBackend,
  subtleBytes,
  type WebCryptoKey,
  webcryptoBackend,
} from './aead/webcrypto.ts';
import { allocUninitialized } from './alloc.ts';
import type { DecryptStreamOptions } from './decrypt.ts';
import { begin, type EncryptOptions } from './encrypt.ts';
import { SealstreamError } from './errors.ts';
import { chunkNonces, NONCE_LENGTH } from './nonce.ts';
import { prepareOpen } from './open.ts';
import { chunkFailed, openedLength, type PayloadCipher, PayloadOpener } from './payload.ts';
import { PayloadHead } from './payload-head.ts';
import { CHUNK_SIZE, MAX_CHUNKS, SEALED_CHUNK_SIZE } from './sizes.ts';
import { emitter, untilGone } from './stream-output.ts';

/** Most chunks handed to subtle and not yet released (2 MiB): bounds the memory held in flight. */
export const SUBTLE_WINDOW = 128;
/** Chunks released together: decryption releases nothing of a group before all of it authenticated. */
export const SUBTLE_GROUP = 64;

/**
 * Whether a stream with these options takes this path: its backend is WebCrypto's own (by name, or
 * the automatic choice here: a browser; Node's automatic choice is not WebCrypto). Asked after the
 * Workers (`workers` with Workers at hand), so a `workers` option that cannot be had lands here too.
 * A backend object of the caller's, even one built on WebCrypto, keeps the generic path.
 */
export function wantsSubtleStream(options: { backend?: EncryptOptions['backend'] }): boolean {
  try {
    return resolveBackend(options.backend) === webcryptoBackend();
  } catch {
    return false; // the generic stream reports why the backend cannot run
  }
}

/** The ordered window of chunks in flight: counters, nonces, and results taken oldest first. */
class InFlight {
  readonly #key: WebCryptoKey;
  /** The chunk nonce of counter 0, which is the base nonce (SPEC §6.3): every other one derives from it. */
  readonly #baseNonce: Uint8Array;
  /**
   * The one algorithm object of every call, its `iv` rewritten before each: subtle reads (copies)
   * its parameters when called. A fresh 12-byte array per call (an ArrayBuffer allocation) cost
   * bare 16 KiB calls in Chromium 0.71 CPU-s per 256 MiB against 0.62 with one reused; in this
   * stream, where the source and the enqueues weigh too, the gain measured 0-6%.
   */
  readonly #algorithm = { name: 'AES-GCM', iv: new Uint8Array(NONCE_LENGTH) as Uint8Array<ArrayBuffer> };
  /** Nonces of the group of {@link SUBTLE_GROUP} counters that the next chunk is in. */
  #nonces: Uint8Array = new Uint8Array(0);
  /** Unreleased results, oldest first: nothing is kept once released (a settled promise holds its buffer). */
  readonly #results: Promise<ArrayBuffer | undefined>[] = [];
  #counter = 0;

  constructor(key: WebCryptoKey, cipher: PayloadCipher) {
    this.#key = key;
    this.#baseNonce = cipher.nonce(0);
  }

  /** Chunks issued so far: the counter of the next one. */
  get counter(): number {
    return this.#counter;
  }

  get #pending(): number {
    return this.#results.length;
  }

  /** Hands one chunk to subtle under the next counter's nonce; a failed open settles as undefined. */
  issue(direction: 'seal' | 'open', input: Uint8Array): void {
    if (this.#counter >= MAX_CHUNKS) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        'the plaintext exceeds the format limit of 2^38 chunks (4 PiB)',
      );
    }
    this.#setNonce(this.#counter++);
    const algorithm = this.#algorithm;
    const data = subtleBytes(input);
    this.#results.push(
      direction === 'seal'
        ? globalThis.crypto.subtle.encrypt(algorithm, this.#key, data)
        : globalThis.crypto.subtle.decrypt(algorithm, this.#key, data).catch(() => undefined),
    );
  }

  /** Writes the nonce of `counter` into the shared `iv`, computing its group's nonces when it starts one. */
  #setNonce(counter: number): void {
    const at = (counter % SUBTLE_GROUP) * NONCE_LENGTH;
    if (at === 0) this.#nonces = chunkNonces(this.#baseNonce, counter, SUBTLE_GROUP);
    const iv = this.#algorithm.iv;
    for (let i = 0; i < NONCE_LENGTH; i++) iv[i] = this.#nonces[at + i]!;
  }

  /**
   * Hands one chunk to subtle ({@link InFlight.issue}) and, when that fills the window, releases
   * what it must first: however large a write, at most {@link SUBTLE_WINDOW} chunks are in flight.
   * @returns A promise only when it had to wait.
   */
  add(
    direction: 'seal' | 'open',
    input: Uint8Array,
    emit: (out: Uint8Array) => void,
  ): Promise<void> | undefined {
    this.issue(direction, input);
    return this.#pending >= SUBTLE_WINDOW ? this.release(emit) : undefined;
  }

  /** Releases groups, oldest first, while the window is full (or, with `all`, until none is left). */
  async release(emit: (out: Uint8Array) => void, all = false): Promise<void> {
    while (this.#pending >= (all ? 1 : SUBTLE_WINDOW)) {
      const first = this.#counter - this.#pending;
      const n = Math.min(SUBTLE_GROUP, this.#pending);
      const taken = await Promise.all(this.#results.splice(0, n));
      const failed = taken.indexOf(undefined);
      if (failed >= 0) throw chunkFailed(first + failed);
      // subtle's own buffers, one per chunk: gathering a group into one fresh buffer (a copy, and
      // an allocation just past 1 MiB) cost Chromium more than the 64 enqueues it saves
      for (const part of taken as ArrayBuffer[]) emit(new Uint8Array(part));
    }
  }

  /** Stops: results still in flight are dropped (their failures included). */
  drop(): void {
    for (const result of this.#results) result.catch(() => {});
    this.#results.length = 0;
  }
}

/**
 * Whole units of the writes, in order, as views: of the write itself when a unit lies inside it, of
 * one carried buffer when a unit spans two writes. A view is only valid during the call of `each`
 * (subtle copies its input when called, so that is all it needs).
 */
class Units {
  readonly #carry: Uint8Array;
  #carried = 0;

  constructor(unit: number) {
    this.#carry = new Uint8Array(unit);
  }

  /**
   * Calls `each` on every unit that `chunk` completes, in order, waiting for it when it returns a
   * promise; keeps the rest.
   */
  async take(chunk: Uint8Array, each: (unit: Uint8Array) => Promise<void> | undefined): Promise<void> {
    const unit = this.#carry.length;
    let at = 0;
    if (this.#carried > 0) {
      at = Math.min(chunk.length, unit - this.#carried);
      this.#carry.set(chunk.subarray(0, at), this.#carried);
      this.#carried += at;
      if (this.#carried < unit) return;
      this.#carried = 0;
      await each(this.#carry);
    }
    for (; at + unit <= chunk.length; at += unit) {
      const waiting = each(chunk.subarray(at, at + unit));
      if (waiting) await waiting;
    }
    this.#carry.set(chunk.subarray(at), 0);
    this.#carried = chunk.length - at;
  }

  /** The partial unit left at the end. */
  get rest(): Uint8Array {
    return this.#carry.subarray(0, this.#carried);
  }
}

function checkChunk(chunk: unknown, name: string): asserts chunk is Uint8Array {
  if (!(chunk instanceof Uint8Array)) {
    throw new SealstreamError('INVALID_ARGUMENT', `${name} expects Uint8Array chunks, got ${typeof chunk}`);
  }
}

/** {@link encryptStream} on WebCrypto, pipelined. */
export function encryptStreamOnSubtle(options: EncryptOptions): TransformStream<Uint8Array, Uint8Array> {
  const capture = capturingWebcryptoBackend();
  const units = new Units(CHUNK_SIZE);
  let flight: InFlight | undefined;
  return new TransformStream<Uint8Array, Uint8Array>({
    async start(controller) {
      const { prefix, cipher } = await begin({ ...options, backend: capture.backend });
      flight = new InFlight(capture.key(), cipher);
      controller.enqueue(prefix);
    },
    async transform(chunk, controller) {
      checkChunk(chunk, 'encryptStream');
      const f = flight!;
      const emit = emitter(controller);
      await untilGone(() => guard(f, () => units.take(chunk, (plain) => f.add('seal', plain, emit))));
    },
    async flush(controller) {
      // the final chunk: what is left, shorter than a chunk (maybe empty)
      const f = flight!;
      f.issue('seal', units.rest);
      await untilGone(() => guard(f, () => f.release(emitter(controller), true)));
    },
  });
}

/** {@link decryptStream} on WebCrypto, pipelined. */
export function decryptStreamOnSubtle(
  options: DecryptStreamOptions,
): TransformStream<Uint8Array, Uint8Array> {
  const capture = capturingWebcryptoBackend();
  let head: PayloadHead;
  // whole sealed chunks are never the final one (it is always shorter): they are opened as soon as
  // they are complete, and only a partial one waits for the next write or for flush
  const units = new Units(SEALED_CHUNK_SIZE);
  let flight: InFlight | undefined;

  return new TransformStream<Uint8Array, Uint8Array>({
    async start() {
      // caller errors before any input is read (SPEC §9)
      head = new PayloadHead(prepareOpen({ ...options, backend: capture.backend }));
    },
    async transform(chunk, controller) {
      checkChunk(chunk, 'decryptStream');
      const at = flight ? 0 : await head.take(chunk);
      if (!flight) {
        const opened = head.opened;
        if (!opened) return;
        flight = new InFlight(capture.key(), opened.cipher);
        options.onOpen?.({ header: opened.info, keyId: opened.keyId });
      }
      const f = flight;
      const emit = emitter(controller);
      await untilGone(() =>
        guard(f, () => units.take(chunk.subarray(at), (sealed) => f.add('open', sealed, emit))),
      );
    },
    async flush(controller) {
      const { cipher } = head.finish();
      const f = flight!; // made by the write that completed the header
      const emit = emitter(controller);
      await untilGone(() =>
        guard(f, async () => {
          await f.release(emit, true);
          const last = units.rest;
          const out = allocUninitialized(openedLength(last.length, true));
          const bytes = await new PayloadOpener(cipher, f.counter).open(last, out, true);
          if (bytes > 0) emit(out);
        }),
      );
    },
  });
}

/** Runs `step`; on a failure, drops what is still in flight before rethrowing. */
async function guard(flight: InFlight, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    flight.drop();
    throw err;
  }
}
