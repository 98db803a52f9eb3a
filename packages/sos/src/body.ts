/**
 * Upload bodies, runtime-neutral: bytes, a `Blob` (a browser `File`), a web `ReadableStream`, or
 * any async iterable of bytes (a Node `Readable` is one). Files by path are the Node entry's
 * (body.node.ts); everything else is the same in Node and in browsers.
 * @module
 */
import { checkedBlobStream, isBlob } from './blob-source.ts';
import { SosError } from './errors.ts';

/**
 * What `putObject` uploads: bytes, a `Blob` or `File`, a web `ReadableStream`, an async iterable
 * of bytes (a Node `Readable`), or, in Node only, the path of a file.
 */
export type BodyInput =
  | Uint8Array
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | SizedBody
  | string;

/**
 * A body whose size is known before it is read, streamed only once read: what a `Blob` is, and
 * what the Node entry makes of a file path (opened on the first read, closed on cancel).
 */
export interface SizedBody {
  readonly size: number;
  stream(): ReadableStream<Uint8Array>;
}

/** A body opened for upload, with its size when known up front. */
export interface OpenedBody {
  body: ReadableStream<Uint8Array> | Uint8Array;
  size: number | undefined;
}

/**
 * Opens a body for upload; nothing is read yet.
 * @throws {SosError} `INVALID_ARGUMENT` for anything else, and for a path outside Node.
 */
export function openBody(input: BodyInput): OpenedBody {
  if (input instanceof Uint8Array) return { body: input, size: input.byteLength };
  if (typeof input === 'string') {
    throw new SosError(
      'INVALID_ARGUMENT',
      '"body" is a string: a file path is read only by the Node entry of @sealstream/sos; pass bytes, a Blob or a stream',
    );
  }
  if (isBlob(input)) return { body: checkedBlobStream(input, blobChanged), size: input.size };
  if (isSizedBody(input)) {
    if (!Number.isSafeInteger(input.size) || input.size < 0) {
      throw new SosError('INVALID_ARGUMENT', `"body.size" expected a byte count, got ${input.size}`);
    }
    return { body: input.stream(), size: input.size };
  }
  if (typeof (input as ReadableStream | undefined)?.getReader === 'function') {
    if ((input as ReadableStream).locked) {
      throw new SosError(
        'INVALID_ARGUMENT',
        '"body" stream is locked: a reader was already taken from it (pass a stream nothing else reads)',
      );
    }
    return { body: input as ReadableStream<Uint8Array>, size: undefined };
  }
  if (typeof (input as AsyncIterable<unknown> | undefined)?.[Symbol.asyncIterator] === 'function') {
    return { body: fromAsyncIterable(input as AsyncIterable<unknown>), size: undefined };
  }
  throw new SosError(
    'INVALID_ARGUMENT',
    `"body" expected bytes, a Blob, a ReadableStream, a Node Readable or a file path, got ${describe(input)}`,
  );
}

/**
 * A Blob body (a picked `File`, a Node `fs.openAsBlob`) that cannot be read as it was given: changed,
 * moved or removed since, or shorter or longer than its size. The upload fails with this (and is
 * aborted) instead of storing something that is no copy of the file.
 */
function blobChanged(detail: string, cause?: unknown): SosError {
  return new SosError(
    'SOURCE_CHANGED',
    `"body": the Blob or File could not be read as it was given (${detail}): it was changed, moved or removed since; nothing was stored`,
    { cause },
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
  return body;
}

/**
 * A stream read as an async iterable through its own reader, with `cancel()` to stop it (and
 * everything piped into it) from outside while a read waits. (Not the stream's own async
 * iterator: not every browser has one, and it cannot be cancelled from outside while locked.)
 */
export function readerOf(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> & {
  cancel(reason?: unknown): void;
} {
  const reader = stream.getReader();
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
      return: async () => {
        await reader.cancel().catch(() => {});
        return { done: true, value: undefined };
      },
    }),
    cancel: (reason) => void reader.cancel(reason).catch(() => {}),
  };
}

/**
 * An async iterable (a Node `Readable`) as a web stream, pulled one chunk at a time; cancelling
 * the stream ends the iteration (a `Readable` is destroyed). (Not `Readable.toWeb()`: on Node 20
 * it throws "Controller is already closed" when the web side is cancelled while the Readable
 * still flows.)
 */
function fromAsyncIterable(iterable: AsyncIterable<unknown>): ReadableStream<Uint8Array> {
  const iterator = iterable[Symbol.asyncIterator]();
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
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

function isSizedBody(input: unknown): input is SizedBody {
  const b = input as SizedBody | undefined;
  return typeof b?.stream === 'function' && typeof b.size === 'number';
}

function describe(value: unknown): string {
  return value === null
    ? 'null'
    : typeof value === 'object'
      ? value.constructor?.name || 'object'
      : typeof value;
}
