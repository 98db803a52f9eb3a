/**
 * Decryption: `decryptStream()` and `decrypt()` (SPEC §5.3, §6).
 * @module
 */
import { readU32 } from './bytes.ts';
import { SealstreamError } from './errors.ts';
import type { HeaderInfo } from './header.ts';
import { HEADER_PRELUDE_LENGTH, parseHeader, readHeaderLength } from './header.ts';
import {
  chunkFailed,
  cutShort,
  type DecryptOptions,
  decryptChunks,
  finalChunkError,
  type OpenedPayload,
  openPayload,
  openPrefixLength,
  type PreparedOpen,
  prepareOpen,
} from './open.ts';
import type { PayloadCipher } from './payload.ts';
import { CHUNK_SIZE, SEALED_CHUNK_SIZE, TAG_LENGTH } from './sizes.ts';

/** Options of {@link decryptStream}. */
export interface DecryptStreamOptions extends DecryptOptions {
  /** Called once the header is opened, before any plaintext: which key opened it and what the header says. */
  onOpen?: (opened: { header: HeaderInfo; keyId: string | undefined }) => void;
}

const BATCH_CHUNKS = 64;
const EMIT_THRESHOLD = 16 * CHUNK_SIZE;

/**
 * A TransformStream that decrypts a sealstream v1 object. Each chunk is authenticated before any of
 * its plaintext is released; the stream errors (never ends cleanly) on truncation, tampering,
 * trailing data or a wrong key. Memory stays bounded whatever the size.
 * @example
 * const plain = sealedStream.pipeThrough(decryptStream({ keys: [key] }));
 * @throws {SealstreamError} through the stream: header errors, `NO_MATCHING_KEY`,
 *   `COMMITMENT_MISMATCH`, `IDENTITY_MISMATCH`, `CHUNK_AUTH_FAILED`, `TRUNCATED`, `TRAILING_DATA`.
 */
export function decryptStream(options: DecryptStreamOptions): TransformStream<Uint8Array, Uint8Array> {
  // Header bytes until opened, in a buffer that doubles: linear even when fed a byte at a time.
  let headBuffer = new Uint8Array(1024);
  let headLength = 0;
  const head = () => headBuffer.subarray(0, headLength);
  // Caller errors (keys, identity, limits) are reported before any input is read (SPEC §9).
  let prepared: PreparedOpen | undefined;
  let invalid: unknown;
  try {
    prepared = prepareOpen(options);
  } catch (err) {
    invalid = err;
  }
  let opened: OpenedPayload | undefined;
  let cipher: PayloadCipher;
  const pending = new Uint8Array(SEALED_CHUNK_SIZE); // a partial sealed chunk carried between writes
  let pendingLength = 0;
  let counter = 0;
  let batch = new Uint8Array(BATCH_CHUNKS * CHUNK_SIZE);
  let batchLength = 0;

  const emit = (controller: TransformStreamDefaultController<Uint8Array>) => {
    if (batchLength === 0) return;
    controller.enqueue(batch.subarray(0, batchLength));
    batch = new Uint8Array(BATCH_CHUNKS * CHUNK_SIZE);
    batchLength = 0;
  };
  // Opens whole sealed chunks (a multiple of SEALED_CHUNK_SIZE); none of them can be the final one.
  const openWhole = async (sealed: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>) => {
    let offset = 0;
    while (offset < sealed.length) {
      const room = BATCH_CHUNKS - batchLength / CHUNK_SIZE;
      const n = Math.min(room, (sealed.length - offset) / SEALED_CHUNK_SIZE);
      const part = sealed.subarray(offset, offset + n * SEALED_CHUNK_SIZE);
      const { ok } = await cipher.open(counter, part, batch.subarray(batchLength), false);
      if (ok < n) throw chunkFailed(counter + ok);
      batchLength += n * CHUNK_SIZE;
      counter += n;
      offset += part.length;
      if (batchLength === batch.length) emit(controller);
    }
  };
  const openHead = async (): Promise<boolean> => {
    const h = readHeaderLength(head());
    if (h === undefined || headLength < openPrefixLength(h)) return false;
    opened = await openPayload(head(), prepared!);
    cipher = opened.cipher;
    options.onOpen?.({ header: opened.info, keyId: opened.keyId });
    headBuffer = new Uint8Array(0);
    return true;
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    // async: a synchronous throw here would escape from the TransformStream constructor.
    async start() {
      if (invalid !== undefined) throw invalid;
    },
    async transform(chunk, controller) {
      if (!(chunk instanceof Uint8Array)) {
        throw new SealstreamError(
          'INVALID_ARGUMENT',
          `decryptStream expects Uint8Array chunks, got ${typeof chunk}`,
        );
      }
      if (!opened) {
        // Only header bytes are copied, never more than the header needs (SPEC §4.1 bounds it):
        // the rest of a large write goes to the payload path as it is.
        let taken = 0;
        while (!opened && taken < chunk.length) {
          const n = Math.min(chunk.length - taken, headBytesWanted(head()) - headLength);
          if (headLength + n > headBuffer.length) {
            const grown = new Uint8Array(Math.max(2 * headBuffer.length, headLength + n));
            grown.set(head());
            headBuffer = grown;
          }
          headBuffer.set(chunk.subarray(taken, taken + n), headLength);
          headLength += n;
          taken += n;
          await openHead();
        }
        if (!opened) return;
        chunk = chunk.subarray(taken);
      }
      let offset = 0;
      if (pendingLength > 0) {
        offset = Math.min(SEALED_CHUNK_SIZE - pendingLength, chunk.length);
        pending.set(chunk.subarray(0, offset), pendingLength);
        pendingLength += offset;
        if (pendingLength < SEALED_CHUNK_SIZE) return;
        await openWhole(pending, controller);
        pendingLength = 0;
      }
      const whole = Math.floor((chunk.length - offset) / SEALED_CHUNK_SIZE) * SEALED_CHUNK_SIZE;
      if (whole > 0) await openWhole(chunk.subarray(offset, offset + whole), controller);
      offset += whole;
      pending.set(chunk.subarray(offset), 0);
      pendingLength = chunk.length - offset;
      if (batchLength >= EMIT_THRESHOLD) emit(controller);
    },
    async flush(controller) {
      if (!opened) {
        if (headLength === 0)
          throw new SealstreamError('TRUNCATED', 'the input is empty: no sealstream header');
        if (!(await openHead())) {
          // A whole header is parsed before its truncation is reported: its errors win (SPEC §9).
          const h = readHeaderLength(head());
          if (h !== undefined && headLength >= h) parseHeader(head());
          throw new SealstreamError(
            'TRUNCATED',
            'the input ends inside the sealstream header: it was truncated',
          );
        }
      }
      if (pendingLength < TAG_LENGTH) throw cutShort(counter, pendingLength);
      if (batch.length - batchLength < CHUNK_SIZE) emit(controller);
      const last = pending.subarray(0, pendingLength);
      const { ok, bytes } = await cipher.open(counter, last, batch.subarray(batchLength), true);
      if (ok !== 1) throw await finalChunkError(cipher, counter, last);
      batchLength += bytes;
      emit(controller);
    },
  });
}

/**
 * How many leading bytes the reader needs before it can open the header, given the bytes so far:
 * the fixed prelude first, then through the recipients length, then the header and payload prefix.
 */
function headBytesWanted(prefix: Uint8Array): number {
  const h = readHeaderLength(prefix);
  if (h !== undefined) return openPrefixLength(h);
  if (prefix.length < HEADER_PRELUDE_LENGTH) return HEADER_PRELUDE_LENGTH;
  return HEADER_PRELUDE_LENGTH + readU32(prefix, HEADER_PRELUDE_LENGTH - 4) + 4;
}

/**
 * Decrypts a whole sealstream object in memory. Nothing is returned unless every chunk authenticates.
 * For anything large, use {@link decryptStream}.
 * @example
 * const plain = await decrypt(sealed, { keys: [key] });
 */
export async function decrypt(sealed: Uint8Array, options: DecryptOptions): Promise<Uint8Array> {
  if (!(sealed instanceof Uint8Array)) {
    throw new SealstreamError('INVALID_ARGUMENT', `decrypt expects a Uint8Array, got ${typeof sealed}`);
  }
  // Opened once, from the bytes as they are (nothing is copied), then every chunk is decrypted
  // straight into one buffer of the plaintext's size.
  const prepared = prepareOpen(options);
  if (sealed.length === 0) throw new SealstreamError('TRUNCATED', 'the input is empty: no sealstream header');
  const opened = await openPayload(sealed, prepared);
  const payload = sealed.subarray(openPrefixLength(opened.info.headerLength));
  const full = Math.floor(payload.length / SEALED_CHUNK_SIZE);
  const rest = payload.length - full * SEALED_CHUNK_SIZE;
  if (rest >= TAG_LENGTH) return decryptChunks(opened.cipher, 0, payload, true);
  // No valid final chunk: as the stream would, authenticate the whole chunks first, then report the cut.
  const scratch = new Uint8Array(BATCH_CHUNKS * CHUNK_SIZE);
  for (let k = 0; k < full; k += BATCH_CHUNKS) {
    const n = Math.min(BATCH_CHUNKS, full - k);
    const { ok } = await opened.cipher.open(
      k,
      payload.subarray(k * SEALED_CHUNK_SIZE, (k + n) * SEALED_CHUNK_SIZE),
      scratch,
      false,
    );
    if (ok < n) throw chunkFailed(k + ok);
  }
  throw cutShort(full, rest);
}
