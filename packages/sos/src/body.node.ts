/**
 * The Node edge of upload bodies: a file path becomes a {@link SizedBody} whose size comes from
 * `stat` and whose bytes are streamed from the file, opened only when first read; a Node `Readable`
 * is read a chunk at a time, as it pushed them.
 * @module
 */
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { finished, Readable } from 'node:stream';
import type { BodyInput, SizedBody } from './body.ts';
import { SosError } from './errors.ts';

/**
 * A file, checked now, read later: `stream()` opens it (1 MiB reads); cancelling the stream
 * closes it. A file that turns out shorter than its size at the check fails the stream with
 * `SOURCE_CHANGED` (it changed while being read: what was read is no copy of it); one that grew is
 * read to its end (a file whose size stat cannot tell, as in /proc, is read whole).
 * @throws {SosError} `INVALID_ARGUMENT` when the path cannot be read or is not a regular file.
 */
export async function fileBody(path: string): Promise<SizedBody> {
  const info = await statRegularFile(
    path,
    () => new SosError('INVALID_ARGUMENT', `"body" path ${path} is not a regular file`),
  );
  return {
    size: info.size,
    stream: () =>
      chunksOf(createReadStream(path, { highWaterMark: 1 << 20 }), (read) =>
        read < info.size
          ? new SosError(
              'SOURCE_CHANGED',
              `"body" file ${path} ended after ${read} bytes, shorter than the ${info.size} it had when the upload began: it changed while being read, and nothing was stored`,
            )
          : undefined,
      ),
  };
}

/**
 * Stats the file a `body` path names, without opening it (opening a FIFO for reading would wait
 * for a writer).
 * @param notRegular - The error for a path that is not a regular file (a directory, a FIFO, a device).
 * @throws {SosError} `INVALID_ARGUMENT` when the path cannot be read; `notRegular()`.
 */
export async function statRegularFile(path: string, notRegular: () => SosError): Promise<Stats> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"body" file ${path} cannot be read: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (!info.isFile()) throw notRegular();
  return info;
}

/**
 * A Node `Readable` as a web stream that hands on each chunk as the `Readable` emitted it, pulled
 * one at a time (the `Readable` is paused in between); cancelling the stream destroys it.
 * @param atEnd - Given the bytes read once the `Readable` ends: an error fails the stream instead
 *   of ending it.
 *
 * Not the `Readable`'s async iterator: it calls `read()`, which joins all the chunks buffered at
 * that moment into a fresh buffer. Each join is a copy of a MiB or more that is garbage at once,
 * and V8 collects such garbage only once external memory has grown by tens of MiB: a client-side
 * upload from a `Readable` peaked ~25 MiB higher for it. (Nor `Readable.toWeb()`: on Node 20 it
 * throws "Controller is already closed" when the web side is cancelled while the Readable flows.)
 */
export function chunksOf(
  readable: Readable,
  atEnd?: (bytesRead: number) => SosError | undefined,
): ReadableStream<Uint8Array> {
  let over = false;
  let bytesRead = 0;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        readable.pause();
        readable.on('data', (chunk: unknown) => {
          if (over) return;
          if (!(chunk instanceof Uint8Array)) {
            over = true;
            controller.error(
              new SosError(
                'INVALID_ARGUMENT',
                `"body" stream must yield bytes, got ${typeof chunk} (an encoding set?)`,
              ),
            );
            readable.destroy();
            return;
          }
          bytesRead += chunk.byteLength;
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) readable.pause();
        });
        // the end, an error, or a close before the end (ERR_STREAM_PREMATURE_CLOSE)
        finished(readable, { writable: false }, (err) => {
          if (over) return;
          over = true;
          const wrong = err ? (prematureClose(err) ?? err) : atEnd?.(bytesRead);
          if (wrong !== undefined) controller.error(wrong);
          else controller.close();
        });
      },
      pull() {
        readable.resume();
      },
      cancel() {
        over = true;
        readable.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * A body with a file path turned into a {@link fileBody} and a Node `Readable` into a web stream
 * read a chunk at a time ({@link chunksOf}); anything else as given.
 */
export async function nodeBody(input: BodyInput): Promise<Exclude<BodyInput, string>> {
  if (typeof input === 'string') return fileBody(input);
  if (!(input instanceof Readable)) return input;
  // A Readable someone already read to its end reads as empty: uploading it would store an empty
  // object as a success. One destroyed would end at once, taken for a broken connection.
  if (input.readableEnded || input.destroyed) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"body" stream ${input.readableEnded ? 'was already read to its end' : 'is destroyed'}: nothing is left to upload (pass a fresh stream)`,
    );
  }
  return chunksOf(input);
}

/**
 * A `Readable` closed before its end without an error of its own (destroyed by its owner): the
 * body's failure, not the store's (`ERR_STREAM_PREMATURE_CLOSE` is also what a socket closed early
 * raises, which maps to `SERVER_FAULT`).
 */
function prematureClose(err: unknown): SosError | undefined {
  if ((err as { code?: string } | null)?.code !== 'ERR_STREAM_PREMATURE_CLOSE') return undefined;
  return new SosError(
    'INVALID_ARGUMENT',
    '"body" stream was closed before its end (destroyed without an error): the upload was stopped and nothing stored',
    { cause: err },
  );
}
