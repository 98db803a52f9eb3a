/**
 * Sends a part's bytes to the socket in slices, each attempt afresh.
 *
 * Handed a whole `Uint8Array`, Node's HTTP client writes it in one call, and TLS encrypts all of it
 * into its own buffer at once (after copying it, when the request headers go out in the same
 * write): each part in flight then costs twice its size or more, until the kernel has taken it. A
 * `Readable` body is written a slice at a time as the socket drains, but the SDK does not retry a
 * request whose body is a stream. So the body stays bytes for the SDK (its signer and its retries
 * see a `Uint8Array`), and this middleware, which runs once per attempt after signing, gives the
 * HTTP handler a fresh stream over the same bytes.
 * @module
 */
import { Readable } from 'node:stream';
import { isBodyWatched, noteBodySent, reportsBodiesSent } from './body-sent.ts';

/** Bytes per write to the socket: a few TLS records. */
const SLICE = 64 * 1024;

/**
 * A stream over `bytes`, a slice per read, without copying.
 * @param onEnd - Called once its last byte has been taken (by the connection).
 */
function slices(bytes: Uint8Array, onEnd?: () => void): Readable {
  let offset = 0;
  const stream = new Readable({
    highWaterMark: SLICE,
    read() {
      if (offset >= bytes.byteLength) {
        this.push(null);
        return;
      }
      const end = Math.min(bytes.byteLength, offset + SLICE);
      const slice = bytes.subarray(offset, end);
      offset = end;
      this.push(Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength));
    },
  });
  if (onEnd !== undefined) stream.once('end', onEnd);
  return stream;
}

interface HasBody {
  body?: unknown;
}

type Handler = (args: { request: unknown }) => Promise<unknown>;

/** Something with a middleware stack: an SDK client (Node only: this module imports node:stream). */
interface WithMiddleware {
  middlewareStack: {
    add(
      middleware: (next: Handler) => Handler,
      options: { step: 'deserialize'; name: string; override?: boolean },
    ): void;
  };
}

/**
 * Makes every request of `client` with a `Uint8Array` body over 64 KiB send it in slices (see the
 * module comment). The request the retry and signing steps hold is left alone: each attempt gets a
 * shallow copy with a new stream. A body watched by body-sent.ts goes through such a stream
 * whatever its size, which reports when its last byte was taken. Installed by the Node entry's
 * `createSosClient`; the browser entry sends through `fetch`, which takes bytes as they are.
 * @returns `client`.
 */
export function sendBodiesInSlices<C>(client: C): C {
  (client as unknown as WithMiddleware).middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as HasBody | undefined;
      const body = request?.body;
      if (!(body instanceof Uint8Array)) return next(args);
      const watched = isBodyWatched(body);
      if (!watched && body.byteLength <= SLICE) return next(args);
      const copy = Object.assign(Object.create(Object.getPrototypeOf(request) as object) as HasBody, request);
      const stream = slices(body, watched ? () => noteBodySent(body) : undefined);
      copy.body = stream;
      try {
        return await next({ ...args, request: copy });
      } finally {
        // an attempt that failed mid-body leaves the stream unread: let it go
        stream.destroy();
      }
    },
    { step: 'deserialize', name: 'sealstreamBodyInSlices', override: true },
  );
  reportsBodiesSent(client as object);
  return client;
}
