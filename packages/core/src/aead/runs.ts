/**
 * Runs of chunks: the batch half of the backend contract ({@link ChunkCipher.sealRun},
 * {@link ChunkCipher.openRun}) and its layout, checked in one place.
 *
 * A run of `n` chunks (one 12-byte nonce each) lays chunk `i` at `i * chunkSize` of the plaintext and
 * at `i * (chunkSize + 16)` of the sealed bytes. Every chunk but the last is whole; the last holds
 * whatever remains (0 to `chunkSize` bytes of plaintext, 16 to `chunkSize + 16` sealed).
 * @module
 */
import { NONCE_LENGTH } from '../nonce.ts';
import { TAG_LENGTH } from '../sizes.ts';
import type { ChunkCipher } from './backend.ts';

/** Where chunk `i` of a run is, and how long it is. */
export interface RunLayout {
  count: number;
  /** Length of the last chunk: plaintext for a seal, sealed bytes for an open. */
  last: number;
}

/** Checks a run to seal and returns its layout; throws a RangeError on a malformed run. */
export function sealLayout(
  nonces: Uint8Array,
  plain: Uint8Array,
  out: Uint8Array,
  chunkSize: number,
): RunLayout {
  const count = runCount(nonces);
  const last = plain.length - (count - 1) * chunkSize;
  if (last < 0 || last > chunkSize) {
    throw new RangeError(`a run of ${count} chunks of ${chunkSize} bytes cannot hold ${plain.length} bytes`);
  }
  if (out.length < plain.length + count * TAG_LENGTH) {
    throw new RangeError(`output of ${out.length} bytes is too small for ${count} sealed chunks`);
  }
  return { count, last };
}

/** Checks a run to open and returns its layout; throws a RangeError on a malformed run. */
export function openLayout(
  nonces: Uint8Array,
  sealed: Uint8Array,
  out: Uint8Array,
  chunkSize: number,
): RunLayout {
  const count = runCount(nonces);
  const last = sealed.length - (count - 1) * (chunkSize + TAG_LENGTH);
  if (last < TAG_LENGTH || last > chunkSize + TAG_LENGTH) {
    throw new RangeError(
      `a run of ${count} sealed chunks of ${chunkSize} bytes cannot be ${sealed.length} bytes long`,
    );
  }
  if (out.length < sealed.length - count * TAG_LENGTH) {
    throw new RangeError(`output of ${out.length} bytes is too small for ${count} opened chunks`);
  }
  return { count, last };
}

function runCount(nonces: Uint8Array): number {
  if (nonces.length === 0 || nonces.length % NONCE_LENGTH !== 0) {
    throw new RangeError(`nonces: expected a positive multiple of 12 bytes, got ${nonces.length}`);
  }
  return nonces.length / NONCE_LENGTH;
}

/** The views of chunk `i` of a run. */
export function chunkViews(
  i: number,
  layout: RunLayout,
  chunkSize: number,
  direction: 'seal' | 'open',
  input: Uint8Array,
  out: Uint8Array,
  nonces: Uint8Array,
): { nonce: Uint8Array; input: Uint8Array; out: Uint8Array } {
  const sealedSize = chunkSize + TAG_LENGTH;
  const [inStride, outStride] = direction === 'seal' ? [chunkSize, sealedSize] : [sealedSize, chunkSize];
  const inLength = i === layout.count - 1 ? layout.last : inStride;
  const outLength = direction === 'seal' ? inLength + TAG_LENGTH : inLength - TAG_LENGTH;
  return {
    nonce: nonces.subarray(i * NONCE_LENGTH, (i + 1) * NONCE_LENGTH),
    input: input.subarray(i * inStride, i * inStride + inLength),
    out: out.subarray(i * outStride, i * outStride + outLength),
  };
}

/**
 * Steps through the chunks of a checked run in order, one synchronous call each, and stops at the
 * first chunk that `step` refuses, zeroing that chunk's output (no unauthenticated plaintext stays).
 * @returns How many chunks went through.
 */
function eachChunk(
  direction: 'seal' | 'open',
  layout: RunLayout,
  chunkSize: number,
  input: Uint8Array,
  out: Uint8Array,
  nonces: Uint8Array,
  step: (nonce: Uint8Array, input: Uint8Array, out: Uint8Array) => boolean,
): number {
  for (let i = 0; i < layout.count; i++) {
    const v = chunkViews(i, layout, chunkSize, direction, input, out, nonces);
    if (!step(v.nonce, v.input, v.out)) {
      v.out.fill(0);
      return i;
    }
  }
  return layout.count;
}

/** `sealRun` for a backend that seals synchronously one chunk at a time. */
export function sealEach(
  seal: (nonce: Uint8Array, plaintext: Uint8Array, out: Uint8Array) => void,
): ChunkCipher['sealRun'] {
  const step = (nonce: Uint8Array, plaintext: Uint8Array, out: Uint8Array) => {
    seal(nonce, plaintext, out);
    return true;
  };
  return (nonces, plain, out, chunkSize) => {
    const layout = sealLayout(nonces, plain, out, chunkSize);
    eachChunk('seal', layout, chunkSize, plain, out, nonces, step);
    return plain.length + layout.count * TAG_LENGTH;
  };
}

/** `openRun` for a backend that opens synchronously one chunk at a time. */
export function openEach(
  open: (nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array) => boolean,
): ChunkCipher['openRun'] {
  return (nonces, sealed, out, chunkSize) =>
    eachChunk('open', openLayout(nonces, sealed, out, chunkSize), chunkSize, sealed, out, nonces, open);
}
