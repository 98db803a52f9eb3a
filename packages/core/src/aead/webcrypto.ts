/** WebCrypto backend: browsers, Deno, Bun, workers, and Node. @module */

import { SealstreamError } from '../errors.ts';
import { NONCE_LENGTH } from '../nonce.ts';
import { TAG_LENGTH } from '../sizes.ts';
import type { ChunkCipher, CipherBackend } from './backend.ts';
import { chunkViews, openLayout, type RunLayout, sealLayout } from './runs.ts';
import { takeInOrder, WEBCRYPTO_WINDOW } from './webcrypto-window.ts';

const GCM = 'AES-GCM';
const KW = 'AES-KW';
const EMPTY = new Uint8Array(0);

let instance: CipherBackend | undefined;

// WebCrypto's types want ArrayBuffer-backed views; ours may be views of any buffer.
type Bytes = Uint8Array<ArrayBuffer>;
const b = (bytes: Uint8Array) => subtleBytes(bytes);

/**
 * Bytes as WebCrypto takes them. WebCrypto refuses a view on a `SharedArrayBuffer` (a TypeError,
 * "a view on a SharedArrayBuffer, which is not allowed"), which every other backend seals as any
 * bytes: such a view is copied (`slice` makes an ordinary buffer), any other passed as it is.
 */
export function subtleBytes(bytes: Uint8Array): Bytes {
  const shared = typeof SharedArrayBuffer !== 'undefined' && bytes.buffer instanceof SharedArrayBuffer;
  return (shared ? bytes.slice() : bytes) as Bytes;
}

/** A run of chunks and which way it goes, as {@link chunkViews} takes it. */
interface Run {
  layout: RunLayout;
  chunkSize: number;
  direction: 'seal' | 'open';
  input: Uint8Array;
  out: Uint8Array;
  nonces: Uint8Array;
}

/**
 * Calls `call` on every chunk of `run` (up to {@link WEBCRYPTO_WINDOW} unsettled) and hands each
 * result with the chunk's output view to `place`, in order, until `place` returns false. One
 * algorithm object and one IV buffer serve the whole run: encrypt() and decrypt() copy their
 * parameters and their input before returning, so both (and the caller's buffers) are free again
 * at once.
 * @returns How many chunks were placed.
 */
function eachChunk<T>(
  run: Run,
  call: (algorithm: { name: string; iv: Bytes }, input: Bytes) => Promise<T>,
  place: (out: Uint8Array, result: T) => boolean,
): Promise<number> {
  const algorithm = { name: GCM, iv: new Uint8Array(NONCE_LENGTH) as Bytes };
  const views = (i: number) =>
    chunkViews(i, run.layout, run.chunkSize, run.direction, run.input, run.out, run.nonces);
  return takeInOrder(
    run.layout.count,
    WEBCRYPTO_WINDOW,
    (i) => {
      const v = views(i);
      algorithm.iv.set(v.nonce);
      return call(algorithm, b(v.input));
    },
    (i, result) => place(views(i).out, result),
  );
}

/** A WebCrypto key object (`CryptoKey`), named so without the DOM library's types. */
export type WebCryptoKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>;

/** Imports a 32-byte AES-256-GCM key for {@link gcmCipher}: not extractable, so it can only be used (or sent to a Worker). */
export function importGcmKey(key: Uint8Array): Promise<WebCryptoKey> {
  return globalThis.crypto.subtle.importKey('raw', b(key), GCM, false, ['encrypt', 'decrypt']);
}

/**
 * The WebCrypto chunk cipher over an imported key: what the backend's `gcm` returns, and what the
 * sealing Workers (core/src/worker) run, so that both sides produce the same bytes by the same code.
 */
export function gcmCipher(k: WebCryptoKey): ChunkCipher {
  const subtle = globalThis.crypto.subtle;
  const params = (nonce: Uint8Array, aad?: Uint8Array) => ({
    name: GCM,
    iv: b(nonce),
    additionalData: b(aad ?? EMPTY),
  });
  const open = async (nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array) => {
    try {
      return new Uint8Array(await subtle.decrypt(params(nonce, aad), k, b(sealed)));
    } catch {
      return undefined;
    }
  };
  return {
    async seal(nonce, plaintext, out, aad) {
      out.set(new Uint8Array(await subtle.encrypt(params(nonce, aad), k, b(plaintext))), 0);
    },
    async open(nonce, sealed, out, aad) {
      const plain = await open(nonce, sealed, aad);
      if (plain) out.set(plain, 0);
      return plain !== undefined;
    },
    // The chunks of a run are issued back to back, up to WEBCRYPTO_WINDOW unsettled at a time, and
    // each result is copied into place as its turn comes: the renderer pays its per-call cost (about
    // 30 us of CPU per 16 KiB call in Chromium) while earlier results come in.
    async sealRun(nonces, plain, out, chunkSize) {
      const layout = sealLayout(nonces, plain, out, chunkSize);
      await eachChunk(
        { layout, chunkSize, direction: 'seal', input: plain, out, nonces },
        (algorithm, input) => subtle.encrypt(algorithm, k, input),
        (dest, sealed) => {
          dest.set(new Uint8Array(sealed));
          return true;
        },
      );
      return plain.length + layout.count * TAG_LENGTH;
    },
    // Taken in order: a chunk's plaintext is written only once it and every chunk before it have
    // authenticated; the first that fails is zeroed and nothing after it is written.
    async openRun(nonces, sealed, out, chunkSize) {
      const layout = openLayout(nonces, sealed, out, chunkSize);
      return eachChunk(
        { layout, chunkSize, direction: 'open', input: sealed, out, nonces },
        (algorithm, input) => subtle.decrypt(algorithm, k, input).catch(() => undefined),
        (dest, plain) => {
          if (!plain) {
            dest.fill(0);
            return false;
          }
          dest.set(new Uint8Array(plain));
          return true;
        },
      );
    },
  };
}

/** Where each chunk of a run whose outputs are kept as they come is: {@link chunkViews} without an output. */
function partsLayout(
  direction: 'seal' | 'open',
  nonces: Uint8Array,
  input: Uint8Array,
  chunkSize: number,
): RunLayout {
  const count = nonces.length / NONCE_LENGTH;
  const stride = direction === 'seal' ? chunkSize : chunkSize + TAG_LENGTH;
  const last = input.length - (count - 1) * stride;
  const shortest = direction === 'seal' ? 0 : TAG_LENGTH;
  if (!Number.isInteger(count) || count === 0 || last < shortest || last > stride) {
    throw new RangeError(
      `a run of ${nonces.length / NONCE_LENGTH} chunks cannot be ${input.length} bytes long`,
    );
  }
  return { count, last };
}

/**
 * Runs of chunks whose outputs are kept as crypto.subtle returns them, one buffer per chunk, with no
 * output buffer to allocate and nothing copied: what the sealing Workers hand back (transferred)
 * and a Worker-backed stream enqueues as they are.
 */
export interface GcmParts {
  /** Seals a run (layout of aead/runs.ts); one sealed chunk per buffer. */
  seal(nonces: Uint8Array, plain: Uint8Array, chunkSize: number): Promise<ArrayBuffer[]>;
  /**
   * Opens a run; stops at the first chunk that fails. `parts` holds the plaintext of the chunks
   * before it (`ok` of them): every chunk of the run when all authenticated.
   */
  open(
    nonces: Uint8Array,
    sealed: Uint8Array,
    chunkSize: number,
  ): Promise<{ ok: number; parts: ArrayBuffer[] }>;
}

/** {@link GcmParts} over an imported key. */
export function gcmParts(k: WebCryptoKey): GcmParts {
  const subtle = globalThis.crypto.subtle;
  const run = (
    direction: 'seal' | 'open',
    nonces: Uint8Array,
    input: Uint8Array,
    chunkSize: number,
  ): Run => ({
    layout: partsLayout(direction, nonces, input, chunkSize),
    chunkSize,
    direction,
    input,
    out: EMPTY,
    nonces,
  });
  return {
    async seal(nonces, plain, chunkSize) {
      const parts: ArrayBuffer[] = [];
      await eachChunk(
        run('seal', nonces, plain, chunkSize),
        (algorithm, input) => subtle.encrypt(algorithm, k, input),
        (_, sealed) => parts.push(sealed) > 0,
      );
      return parts;
    },
    async open(nonces, sealed, chunkSize) {
      const parts: ArrayBuffer[] = [];
      const ok = await eachChunk(
        run('open', nonces, sealed, chunkSize),
        (algorithm, input) => subtle.decrypt(algorithm, k, input).catch(() => undefined),
        (_, plain) => plain !== undefined && parts.push(plain) > 0,
      );
      return { ok, parts };
    },
  };
}

/** The WebCrypto backend. */
export function webcryptoBackend(): CipherBackend {
  if (instance) return instance;
  const subtle = globalThis.crypto.subtle;
  instance = {
    name: 'webcrypto',
    async gcm(key: Uint8Array): Promise<ChunkCipher> {
      return gcmCipher(await importGcmKey(key));
    },
    async wrapKey(kek, key) {
      const wrapping = await subtle.importKey('raw', b(kek), KW, false, ['wrapKey']);
      // The data key is handled as an extractable HMAC key: any algorithm that accepts 32 raw bytes works.
      const data = await subtle.importKey('raw', b(key), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
      return new Uint8Array(await subtle.wrapKey('raw', data, wrapping, KW));
    },
    async unwrapKey(kek, wrapped) {
      const wrapping = await subtle.importKey('raw', b(kek), KW, false, ['unwrapKey']);
      try {
        const data = await subtle.unwrapKey(
          'raw',
          b(wrapped),
          wrapping,
          KW,
          { name: 'HMAC', hash: 'SHA-256' },
          true,
          ['sign'],
        );
        return new Uint8Array(await subtle.exportKey('raw', data));
      } catch {
        return undefined;
      }
    },
  };
  return instance;
}

/**
 * The WebCrypto backend, keeping the payload key it is given as a non-extractable
 * {@link WebCryptoKey}, for a stream that calls `crypto.subtle` itself (in the page or in Workers).
 * The payload cipher is the last (and the only per-chunk) key a stream's setup imports.
 */
export function capturingWebcryptoBackend(): { backend: CipherBackend; key(): WebCryptoKey } {
  let captured: WebCryptoKey | undefined;
  const backend: CipherBackend = {
    ...webcryptoBackend(),
    async gcm(raw) {
      captured = await importGcmKey(raw);
      return gcmCipher(captured);
    },
  };
  return {
    backend,
    key() {
      if (!captured) throw new SealstreamError('INTERNAL', 'the payload key was not set up');
      return captured;
    },
  };
}
