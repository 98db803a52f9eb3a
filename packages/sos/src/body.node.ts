/**
 * The Node edge of upload bodies: a file path becomes a {@link SizedBody} whose size comes from
 * `stat` and whose bytes are streamed from the file, opened only when first read.
 * @module
 */
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type BodyInput, openBody, type SizedBody } from './body.ts';
import { SosError } from './errors.ts';

/**
 * A file, checked now, read later: `stream()` opens it (1 MiB reads); cancelling the stream
 * closes it.
 * @throws {SosError} `INVALID_ARGUMENT` when the path cannot be read or is not a regular file.
 */
export async function fileBody(path: string): Promise<SizedBody> {
  const info = await statRegularFile(
    path,
    () => new SosError('INVALID_ARGUMENT', `"body" path ${path} is not a regular file`),
  );
  return {
    size: info.size,
    // a Node Readable is an async iterable of bytes: openBody makes it a web stream
    stream: () =>
      openBody(createReadStream(path, { highWaterMark: 1 << 20 })).body as ReadableStream<Uint8Array>,
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

/** A body with a file path turned into a {@link fileBody}; anything else as given. */
export async function nodeBody(input: BodyInput): Promise<Exclude<BodyInput, string>> {
  return typeof input === 'string' ? fileBody(input) : input;
}
