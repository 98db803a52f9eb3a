/**
 * The stream shape of `encryptStream` / `decryptStream` on the backends that seal or open a run of
 * chunks in one synchronous-speed call (native, node:crypto, noble): a `TransformStream`'s pair of
 * sides, built by hand so that the readable side can be a byte stream. A consumer that reads with a
 * BYOB reader (`readable.getReader({ mode: 'byob' })`) lends its own buffer for each read, and a
 * whole run is sealed or opened straight into it: nothing allocated, nothing copied, and the
 * consumer can reuse one buffer for the whole object. Any other consumer (`pipeTo`, a default
 * reader, `Readable.fromWeb`) gets a fresh buffer per run, as from a `TransformStream`.
 *
 * Why: every fresh buffer handed away costs an allocation and, for buffers of a MiB, page faults and
 * collector work; measured in the bench's core child, a seal loop into fresh buffers ran at
 * 0.44-0.76 of OpenSSL against 0.84-0.95 into one reused buffer. A buffer handed to a consumer can
 * never be written again (ownership), so only the consumer can say when it may be reused: that is
 * what a BYOB read is.
 *
 * The sides behave as a `TransformStream`'s (HWM 1 on the writable side, 0 on the readable one): an
 * error in a step errors both; cancelling the readable side errors the writable side with the
 * reason (the step in progress ends quietly, see stream-output.ts); aborting the writable side errors
 * the readable one. Each run waits until the consumer asks for bytes, so a write of any size holds no
 * more than one run of output at a time. Where byte streams are missing (older browsers) the readable
 * side is an ordinary stream and every read gets a fresh buffer.
 * @module
 */
import { GONE } from './stream-output.ts';

/** What a step of a {@link RunTransformer} hands its output to. */
export interface RunOutput {
  /**
   * Waits until the consumer asks for bytes. Resolves with the buffer it lent for this read (a
   * BYOB read; only valid until {@link RunOutput.fill} or {@link RunOutput.emit}), or undefined.
   * @throws GONE once the readable side no longer takes bytes.
   */
  demand(): Promise<Uint8Array | undefined>;
  /** Answers the read with the first `n` bytes written into the lent buffer. */
  fill(n: number): void;
  /** Hands on a buffer of the stream's own; it is never touched again. */
  emit(out: Uint8Array): void;
}

/** The steps, as a `Transformer`'s, each given the output. */
export interface RunTransformer {
  start?(output: RunOutput): Promise<void>;
  transform(chunk: Uint8Array, output: RunOutput): Promise<void>;
  flush?(output: RunOutput): Promise<void>;
}

let byteStreams: boolean | undefined;

/** Whether this runtime has readable byte streams. */
function hasByteStreams(): boolean {
  if (byteStreams === undefined) {
    try {
      new ReadableStream({ type: 'bytes' });
      byteStreams = true;
    } catch {
      byteStreams = false;
    }
  }
  return byteStreams;
}

/** A `TransformStream`-shaped pair running `transformer` (see the module comment). */
export function runStream(transformer: RunTransformer): TransformStream<Uint8Array, Uint8Array> {
  const bytes = hasByteStreams();
  let readableController!: ReadableStreamDefaultController<Uint8Array> | ReadableByteStreamController;
  let writableController!: WritableStreamDefaultController;
  /** The readable side takes nothing more: cancelled, errored or closed. */
  let done = false;
  /** A read is waiting for bytes (a pull not yet answered). */
  let asked = false;
  let answerPull: (() => void) | undefined;
  let wake: { resolve: () => void; reject: (err: unknown) => void } | undefined;

  const answered = () => {
    asked = false;
    const answer = answerPull;
    answerPull = undefined;
    answer?.();
  };
  const finish = () => {
    done = true;
    answered();
    const waiting = wake;
    wake = undefined;
    waiting?.reject(GONE);
  };
  /** The lent buffer of the pending read, when it is a BYOB read into bytes. */
  const lent = (): Uint8Array | undefined => {
    if (!bytes) return undefined;
    const view = (readableController as ReadableByteStreamController).byobRequest?.view;
    return view instanceof Uint8Array ? view : undefined;
  };

  const output: RunOutput = {
    async demand() {
      if (done) throw GONE;
      if (!asked) {
        await new Promise<void>((resolve, reject) => {
          wake = { resolve, reject };
        });
      }
      return lent();
    },
    fill(n) {
      if (done) throw GONE;
      (readableController as ReadableByteStreamController).byobRequest!.respond(n);
      answered();
    },
    emit(out) {
      if (done) throw GONE;
      // every output here is a buffer of the stream's own over an ArrayBuffer, which a byte stream
      // takes over (transfers); anything that throws with the readable side still open is a fault
      readableController.enqueue(out as Uint8Array<ArrayBuffer>);
      answered();
    },
  };

  const pull = () => {
    asked = true;
    const waiting = wake;
    wake = undefined;
    waiting?.resolve();
    return new Promise<void>((resolve) => {
      answerPull = resolve;
    });
  };
  const cancel = (reason: unknown) => {
    finish();
    writableController.error(reason);
  };
  const readable = bytes
    ? new ReadableStream(
        {
          type: 'bytes',
          start(controller) {
            readableController = controller;
          },
          pull,
          cancel,
        },
        { highWaterMark: 0 },
      )
    : new ReadableStream<Uint8Array>(
        {
          start(controller) {
            readableController = controller;
          },
          pull,
          cancel,
        },
        { highWaterMark: 0 },
      );

  /** A step failed, or the writable side was aborted: the readable side errors with the same reason. */
  const fail = (reason: unknown) => {
    if (!done) readableController.error(reason);
    finish();
  };
  const step = async (run: () => Promise<void> | undefined) => {
    try {
      await run();
    } catch (err) {
      fail(err);
      throw err;
    }
  };
  const writable = new WritableStream<Uint8Array>(
    {
      start(controller) {
        writableController = controller;
        return step(() => transformer.start?.(output));
      },
      write: (chunk) => step(() => transformer.transform(chunk, output)),
      close: () =>
        step(async () => {
          await transformer.flush?.(output);
          if (done) return;
          readableController.close();
          // a BYOB read still waiting is answered "done" (the byte stream's way of closing it)
          if (bytes) (readableController as ReadableByteStreamController).byobRequest?.respond(0);
          finish();
        }),
      abort: (reason) => fail(reason),
    },
    { highWaterMark: 1 },
  );
  return Object.create(TransformStream.prototype, {
    readable: { value: readable, enumerable: true },
    writable: { value: writable, enumerable: true },
  });
}
