/**
 * Decryption: `decryptStream()` and `decrypt()` (SPEC §5.3, §6).
 * @module
 */
import { allocUninitialized } from './alloc.ts';
import { concat } from './bytes.ts';
import { ChunkRuns } from './chunk-runs.ts';
import { SealstreamError } from './errors.ts';
import type { HeaderInfo } from './header.ts';
import { readHeaderLength } from './header.ts';
import { type DecryptOptions, type OpenedObject, openHeader, openPrefixLength } from './open.ts';
import { openedLength, PayloadOpener } from './payload.ts';
import { CHUNK_SIZE, SEALED_CHUNK_SIZE } from './sizes.ts';

/** Options of {@link decryptStream}. */
export interface DecryptStreamOptions extends DecryptOptions {
  /** Called once the header is opened, before any plaintext: which key opened it and what the header says. */
  onOpen?: (opened: { header: HeaderInfo; keyId: string | undefined }) => void;
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
  const opened = await openHeader(prefix, options);
  return {
    opened,
    payloadStart: openPrefixLength(opened.headerLength),
    opener: new PayloadOpener(opened.payloadCipher),
  };
}

/**
 * A TransformStream that decrypts a sealstream v1 object. Each chunk is authenticated before any of
 * its plaintext is released; the stream errors (never ends cleanly) on truncation, tampering,
 * trailing data or a wrong key. Memory stays bounded whatever the size. Each buffer it enqueues is a
 * fresh one, never written again.
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
  let opener: PayloadOpener | undefined;
  // Whole sealed chunks are never the final one (it is always shorter), so they are opened as soon
  // as they are complete; only a partial sealed chunk waits for the next write or for flush.
  const runs = new ChunkRuns(SEALED_CHUNK_SIZE, CHUNK_SIZE, BATCH_CHUNKS);
  const open = (sealed: Uint8Array, out: Uint8Array) => opener!.open(sealed, out, false);

  const openHead = async (): Promise<Uint8Array | undefined> => {
    const h = readHeaderLength(head());
    if (h === undefined || headLength < openPrefixLength(h)) return undefined;
    const begun = await createOpener(head(), options);
    opener = begun.opener;
    options.onOpen?.({ header: begun.opened.info, keyId: begun.opened.keyId });
    const rest = head().subarray(begun.payloadStart);
    headBuffer = new Uint8Array(0);
    return rest;
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      if (!(chunk instanceof Uint8Array)) {
        throw new SealstreamError(
          'INVALID_ARGUMENT',
          `decryptStream expects Uint8Array chunks, got ${typeof chunk}`,
        );
      }
      if (!opener) {
        // Bounded: readHeaderLength rejects an oversize header as soon as its length is known.
        if (headLength + chunk.length > headBuffer.length) {
          const grown = new Uint8Array(Math.max(2 * headBuffer.length, headLength + chunk.length));
          grown.set(head());
          headBuffer = grown;
        }
        headBuffer.set(chunk, headLength);
        headLength += chunk.length;
        const rest = await openHead();
        if (!rest) return;
        chunk = rest;
      }
      await runs.push(chunk, open, (out) => controller.enqueue(out));
    },
    async flush(controller) {
      if (!opener) {
        if (headLength === 0)
          throw new SealstreamError('TRUNCATED', 'the input is empty: no sealstream header');
        if ((await openHead()) === undefined) {
          throw new SealstreamError(
            'TRUNCATED',
            'the input ends inside the sealstream header: it was truncated',
          );
        }
      }
      const last = runs.pending;
      const out = allocUninitialized(openedLength(last.length, true));
      const bytes = await opener!.open(last, out, true);
      if (bytes > 0) controller.enqueue(out);
    },
  });
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
  const parts: Uint8Array[] = [];
  const writer = new WritableStream<Uint8Array>({ write: (c) => void parts.push(c) });
  const input = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(sealed);
      c.close();
    },
  });
  await input.pipeThrough(decryptStream(options)).pipeTo(writer);
  return concat(...parts);
}
