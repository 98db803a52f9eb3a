/**
 * Decryption: `decryptStream()` and `decrypt()` (SPEC §5.3, §6).
 * @module
 */
import { allocUninitialized } from './alloc.ts';
import { readU32 } from './bytes.ts';
import { ChunkRuns } from './chunk-runs.ts';
import { SealstreamError } from './errors.ts';
import type { HeaderInfo } from './header.ts';
import { HEADER_PRELUDE_LENGTH, parseHeader, readHeaderLength } from './header.ts';
import {
  type DecryptOptions,
  OpenedObject,
  type OpenedPayload,
  openPayload,
  openPrefixLength,
  type PreparedOpen,
  prepareOpen,
} from './open.ts';
import { openedLength, PayloadOpener } from './payload.ts';
import { runStream } from './run-stream.ts';
import { CHUNK_SIZE, SEALED_CHUNK_SIZE } from './sizes.ts';
import { untilGone } from './stream-output.ts';
import { decryptStreamOnSubtle, wantsSubtleStream } from './subtle-streams.ts';
import { decryptStreamInWorkers, type WorkersOption, wantsWorkers } from './worker/streams.ts';

/** Options of {@link decryptStream}. */
export interface DecryptStreamOptions extends DecryptOptions {
  /** Called once the header is opened, before any plaintext: which key opened it and what the header says. */
  onOpen?: (opened: { header: HeaderInfo; keyId: string | undefined }) => void;
  /** Open the chunks in Web Workers (browsers, WebCrypto): a count, `'auto'`, or a shared `createWorkerPool()`. */
  workers?: WorkersOption;
}

/** Most chunks opened into one output buffer: large enqueues keep stream overhead off the hot path. */
const BATCH_CHUNKS = 64;

/**
 * Opens an object for a caller that drives the chunks itself (a tight file loop with reused buffers):
 * the header is checked as {@link openHeader} does, and the payload is opened in order with the
 * returned {@link PayloadOpener}, starting at `payloadStart`. {@link decryptStream} is the same thing
 * as a stream.
 * @param prefix - The start of the object: at least the header and the 56-byte payload prefix
 *   ({@link openPrefixLength} of {@link readHeaderLength}).
 * @throws {SealstreamError} as {@link openHeader}.
 */
export async function createOpener(
  prefix: Uint8Array,
  options: DecryptOptions,
): Promise<{ opened: OpenedObject; payloadStart: number; opener: PayloadOpener }> {
  const payload = await openPayload(prefix, options);
  return {
    opened: new OpenedObject(payload),
    payloadStart: openPrefixLength(payload.info.headerLength),
    opener: new PayloadOpener(payload.cipher),
  };
}

/**
 * Reads into `into` from the current position of some input; resolves with the bytes read, fewer
 * than `into.length` only at the end of the input (0 there).
 */
export type ReadFull = (into: Uint8Array) => Promise<number>;

/**
 * {@link createOpener} for a caller that reads its input in order (a file loop): reads exactly the
 * header and the payload prefix through `read`, no byte more, so the payload's sealed chunks that
 * follow can be read in whole runs. An input that ends early fails as {@link decryptStream} fails.
 * @throws {SealstreamError} as {@link createOpener}; `TRUNCATED` when the input ends inside the header.
 */
export async function createOpenerFromReader(
  read: ReadFull,
  options: DecryptOptions,
): Promise<{ opened: OpenedObject; opener: PayloadOpener }> {
  const prepared = prepareOpen(options);
  let head = new Uint8Array(1024);
  let length = 0;
  for (;;) {
    const wanted = headBytesWanted(head.subarray(0, length));
    if (length === wanted) break;
    if (wanted > head.length) {
      const grown = new Uint8Array(Math.max(2 * head.length, wanted));
      grown.set(head.subarray(0, length));
      head = grown;
    }
    const into = head.subarray(length, wanted);
    const n = await read(into);
    // a count that is not one (or more than there was room for) would be read as header bytes
    // that were never written, or loop for ever on NaN
    if (!Number.isInteger(n) || n < 0 || n > into.length) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `the read function answered ${typeof n === 'number' ? n : typeof n} for a buffer of ${into.length} bytes: it must resolve with the bytes it wrote, 0 to ${into.length}`,
      );
    }
    length += n;
    if (length < wanted) throw headerCut(head.subarray(0, length));
  }
  const payload = await openPayload(head.subarray(0, length), prepared);
  return { opened: new OpenedObject(payload), opener: new PayloadOpener(payload.cipher) };
}

/**
 * The error for an input that ends before its header and payload prefix are complete: a whole
 * header is parsed first, so its errors win (SPEC §9).
 */
export function headerCut(head: Uint8Array): SealstreamError {
  if (head.length === 0) return new SealstreamError('TRUNCATED', 'the input is empty: no sealstream header');
  const h = readHeaderLength(head);
  if (h !== undefined && head.length >= h) parseHeader(head);
  return new SealstreamError('TRUNCATED', 'the input ends inside the sealstream header: it was truncated');
}

/**
 * A TransformStream that decrypts a sealstream v1 object. Each chunk is authenticated before any of
 * its plaintext is released; the stream errors (never ends cleanly) on truncation, tampering,
 * trailing data or a wrong key. Memory stays bounded whatever the size. Each buffer it enqueues is a
 * fresh one, never written again; on the backends that open in the calling thread, a BYOB reader can
 * lend its own buffer instead (README: BYOB reads).
 * @example
 * const plain = sealedStream.pipeThrough(decryptStream({ keys: [key] }));
 * @throws {SealstreamError} through the stream: header errors, `NO_MATCHING_KEY`,
 *   `COMMITMENT_MISMATCH`, `IDENTITY_MISMATCH`, `CHUNK_AUTH_FAILED`, `TRUNCATED`, `TRAILING_DATA`.
 */
export function decryptStream(options: DecryptStreamOptions): TransformStream<Uint8Array, Uint8Array> {
  if (wantsWorkers(options))
    return decryptStreamInWorkers(options as typeof options & { workers: WorkersOption });
  if (wantsSubtleStream(options)) return decryptStreamOnSubtle(options);
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
  let opener: PayloadOpener;
  // Whole sealed chunks are never the final one (it is always shorter), so they are opened as soon
  // as they are complete; only a partial sealed chunk waits for the next write or for flush.
  const runs = new ChunkRuns(SEALED_CHUNK_SIZE, CHUNK_SIZE, BATCH_CHUNKS);
  const open = (sealed: Uint8Array, out: Uint8Array) => opener.open(sealed, out, false);

  const openHead = async (): Promise<boolean> => {
    const h = readHeaderLength(head());
    if (h === undefined || headLength < openPrefixLength(h)) return false;
    opened = await openPayload(head(), prepared!);
    opener = new PayloadOpener(opened.cipher);
    options.onOpen?.({ header: opened.info, keyId: opened.keyId });
    headBuffer = new Uint8Array(0);
    return true;
  };

  return runStream({
    // async: a synchronous throw here would escape from the stream's constructor.
    async start() {
      if (invalid !== undefined) throw invalid;
    },
    async transform(chunk, output) {
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
      await untilGone(() => runs.push(chunk, open, output));
    },
    async flush(output) {
      if (!opened && (headLength === 0 || !(await openHead()))) throw headerCut(head());
      const last = runs.pending;
      const out = allocUninitialized(openedLength(last.length, true));
      const bytes = await opener.open(last, out, true);
      if (bytes > 0) await untilGone(async () => output.emit(out));
    },
  });
}

/**
 * How many leading bytes the reader needs before it can open the header, given the bytes so far:
 * the fixed prelude first, then through the recipients length, then the header and payload prefix.
 */
export function headBytesWanted(prefix: Uint8Array): number {
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
  const out = new Uint8Array(openedLength(payload.length, true));
  await new PayloadOpener(opened.cipher).open(payload, out, true);
  return out;
}
