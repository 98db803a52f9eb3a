/**
 * Upload bodies: Node `Readable`, web `ReadableStream`, bytes, or a file path.
 * @module
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { SosError } from './errors.ts';

/** What `putObject` uploads: a Node `Readable`, a web `ReadableStream`, bytes, or the path of a file. */
export type BodyInput = Readable | ReadableStream<Uint8Array> | Uint8Array | string;

/** A body opened for upload, with its size when known up front. */
export interface OpenedBody {
  body: Readable | ReadableStream<Uint8Array> | Uint8Array;
  size: number | undefined;
}

/** Opens a body; files are streamed, never read whole. */
export async function openBody(input: BodyInput): Promise<OpenedBody> {
  if (input instanceof Uint8Array) return { body: input, size: input.byteLength };
  if (typeof input === 'string') {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(input);
    } catch (cause) {
      throw new SosError(
        'INVALID_ARGUMENT',
        `"body" file ${input} cannot be read: ${(cause as Error).message}`,
        { cause },
      );
    }
    if (!info.isFile()) throw new SosError('INVALID_ARGUMENT', `"body" path ${input} is not a regular file`);
    return { body: createReadStream(input, { highWaterMark: 1 << 20 }), size: info.size };
  }
  if (input instanceof Readable) return { body: input, size: undefined };
  if (typeof (input as ReadableStream | undefined)?.getReader === 'function') {
    return { body: input as ReadableStream<Uint8Array>, size: undefined };
  }
  throw new SosError(
    'INVALID_ARGUMENT',
    `"body" expected a Readable, a ReadableStream, a Uint8Array or a file path, got ${describe(input)}`,
  );
}

/** The same body as a web `ReadableStream` (for piping through the core's transform streams). */
export function toWebStream(body: OpenedBody['body']): ReadableStream<Uint8Array> {
  if (body instanceof Uint8Array) {
    return new ReadableStream({
      start(controller) {
        if (body.byteLength > 0) controller.enqueue(body);
        controller.close();
      },
    });
  }
  if (body instanceof Readable) return fromNodeReadable(body);
  return body;
}

/**
 * A Node `Readable` as a web stream, pulled one chunk at a time. (Not `Readable.toWeb()`: on
 * Node 20 it throws "Controller is already closed" when the web side is cancelled while the
 * Readable still flows.)
 */
function fromNodeReadable(readable: Readable): ReadableStream<Uint8Array> {
  const iterator = readable[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await iterator.next();
        if (done) return controller.close();
        if (!(value instanceof Uint8Array)) {
          throw new SosError(
            'INVALID_ARGUMENT',
            `"body" stream must yield bytes, got ${describe(value)} (an encoding set?)`,
          );
        }
        controller.enqueue(value);
      },
      async cancel(reason) {
        readable.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

function describe(value: unknown): string {
  return value === null
    ? 'null'
    : typeof value === 'object'
      ? value.constructor?.name || 'object'
      : typeof value;
}
