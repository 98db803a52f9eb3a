/**
 * `encryptStream` / `decryptStream` with their chunks sealed in Workers (the `workers` option): the
 * input is cut into runs of 64 chunks, each run's buffer is transferred to the least busy Worker,
 * and the results are taken back in order, a few runs in flight per Worker. The page computes every
 * nonce and counter and decides which chunk is the final one, exactly as the page-thread path does,
 * so the bytes are the same; a run that fails authentication releases nothing, and the stream stops
 * there with the page-thread path's error. When the Workers cannot start, the same pipeline runs its
 * runs on the page's thread.
 * @module
 */
import { resolveBackend } from '../aead/backend.ts';
import { capturingWebcryptoBackend, gcmParts, type WebCryptoKey } from '../aead/webcrypto.ts';
import { allocUninitialized } from '../alloc.ts';
import type { DecryptStreamOptions } from '../decrypt.ts';
import { begin, type EncryptOptions } from '../encrypt.ts';
import { SealstreamError } from '../errors.ts';
import { NONCE_LENGTH } from '../nonce.ts';
import { type OpenedPayload, prepareOpen } from '../open.ts';
import { chunkFailed, openedLength, type PayloadCipher, PayloadOpener } from '../payload.ts';
import { PayloadHead } from '../payload-head.ts';
import { CHUNK_SIZE, MAX_CHUNKS, SEALED_CHUNK_SIZE } from '../sizes.ts';
import { hasWorkers, WorkerPool } from './pool.ts';
import { type Direction, processRun, type RunResult } from './protocol.ts';

/**
 * The `workers` option: how many Workers to start for this stream (`'auto'`: the browser's cores,
 * 1 to 4), or a {@link WorkerPool} to share between streams.
 */
export type WorkersOption = number | 'auto' | WorkerPool;

/** Chunks per run: as the page-thread streams' runs (1 MiB of plaintext). */
const RUN_CHUNKS = 64;
/** Runs in flight per Worker: one being sealed while the next one waits in its queue. */
const RUNS_PER_WORKER = 2;

/**
 * Whether a stream with these options runs its chunks in Workers: `workers` is given, the backend
 * is WebCrypto (given, or the automatic choice here), and this runtime has Workers. Otherwise the
 * stream is the page-thread one, unchanged (Node keeps its native backend).
 */
export function wantsWorkers(options: {
  workers?: WorkersOption;
  backend?: EncryptOptions['backend'];
}): boolean {
  // no options at all: the stream itself reports INVALID_ARGUMENT
  if (options?.workers === undefined || !hasWorkers()) return false;
  try {
    return resolveBackend(options.backend).name === 'webcrypto';
  } catch {
    return false; // the page-thread stream reports why the backend cannot run
  }
}

/** {@link encryptStream} with `workers`. */
export function encryptStreamInWorkers(
  options: EncryptOptions & { workers: WorkersOption },
): TransformStream<Uint8Array, Uint8Array> {
  const key = capturingWebcryptoBackend();
  let pipeline: RunPipeline;
  let stopped = false;
  const inner = new TransformStream<Uint8Array, Uint8Array>({
    async start(controller) {
      const { prefix, cipher } = await begin({ ...options, backend: key.backend });
      const lanes = await startLanes(options.workers, key.key());
      // each chunk's buffer as crypto.subtle made it: no output buffer, nothing copied
      pipeline = new RunPipeline(lanes, 'seal', cipher, (result) => {
        for (const part of result.parts) controller.enqueue(new Uint8Array(part));
      });
      if (stopped) pipeline.end();
      controller.enqueue(prefix);
    },
    async transform(chunk) {
      if (!(chunk instanceof Uint8Array)) {
        throw new SealstreamError(
          'INVALID_ARGUMENT',
          `encryptStream expects Uint8Array chunks, got ${typeof chunk}`,
        );
      }
      await unlessStopped(
        () => stopped,
        () => pipeline.guard(() => pipeline.write(chunk)),
      );
    },
    async flush() {
      // the last run ends with the final chunk: shorter than 16 KiB, maybe empty
      await unlessStopped(
        () => stopped,
        () =>
          pipeline.guard(async () => {
            const rest = pipeline.rest();
            await pipeline.submit(rest, Math.floor(rest.length / CHUNK_SIZE) + 1);
            await pipeline.drain();
          }),
      );
      pipeline.end();
    },
  });
  return endingWhenStopped(inner, () => {
    stopped = true;
    pipeline?.end();
  });
}

/** {@link decryptStream} with `workers`. */
export function decryptStreamInWorkers(
  options: DecryptStreamOptions & { workers: WorkersOption },
): TransformStream<Uint8Array, Uint8Array> {
  const key = capturingWebcryptoBackend();
  let head: PayloadHead;
  let pipeline: RunPipeline | undefined;
  let stopped = false;
  let emit: (out: Uint8Array) => void;

  const startPipeline = async (opened: OpenedPayload) => {
    const lanes = await startLanes(options.workers, key.key());
    pipeline = new RunPipeline(lanes, 'open', opened.cipher, (result, first, count) => {
      // a run releases nothing unless every chunk in it authenticated
      if (result.ok < count) throw chunkFailed(first + result.ok);
      for (const part of result.parts) emit(new Uint8Array(part));
    });
    if (stopped) pipeline.end();
    options.onOpen?.({ header: opened.info, keyId: opened.keyId });
  };

  const inner = new TransformStream<Uint8Array, Uint8Array>({
    async start(controller) {
      emit = (out) => controller.enqueue(out);
      // caller errors before any input is read (SPEC §9)
      head = new PayloadHead(prepareOpen({ ...options, backend: key.backend }));
    },
    async transform(chunk) {
      if (!(chunk instanceof Uint8Array)) {
        throw new SealstreamError(
          'INVALID_ARGUMENT',
          `decryptStream expects Uint8Array chunks, got ${typeof chunk}`,
        );
      }
      const at = pipeline ? 0 : await head.take(chunk);
      if (!pipeline) {
        if (!head.opened) return;
        await startPipeline(head.opened);
      }
      const runs = pipeline!;
      await unlessStopped(
        () => stopped,
        () => runs.guard(() => runs.write(chunk.subarray(at))),
      );
    },
    async flush() {
      head.finish();
      const runs = pipeline!;
      await unlessStopped(
        () => stopped,
        () =>
          runs.guard(async () => {
            // whole sealed chunks are never the final one; what follows them is opened as the final
            // chunk by the page-thread opener, whose errors (truncation, trailing data) are the stream's
            const rest = runs.rest();
            const whole = Math.floor(rest.length / SEALED_CHUNK_SIZE);
            const last = rest.slice(whole * SEALED_CHUNK_SIZE);
            await runs.submit(rest.subarray(0, whole * SEALED_CHUNK_SIZE), whole);
            await runs.drain();
            const out = allocUninitialized(openedLength(last.length, true));
            const bytes = await runs.finalOpener().open(last, out, true);
            if (bytes > 0) emit(out);
          }),
      );
      runs.end();
    },
  });
  return endingWhenStopped(inner, () => {
    stopped = true;
    pipeline?.end();
  });
}

/**
 * Runs a transformer's step, ending it quietly once the stream was stopped: its consumer cancelled
 * (or its writer aborted), the Workers were ended under the step, and what it would throw (a pool
 * that closed, an enqueue into a readable side that is gone) is not news to anyone. The writable side
 * already carries the consumer's reason, which is what its writer must see.
 */
async function unlessStopped(stopped: () => boolean, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    if (!stopped()) throw err;
  }
}

/**
 * `inner` as a stream pair that calls `stop` when its reader cancels or its writer aborts (a pipe
 * stopped by a signal does both): Chromium (156) never calls a transformer's `cancel`, and the
 * Workers must not outlive the stream. It is a `TransformStream` to `instanceof` and to
 * `pipeThrough`; errors and backpressure pass through as they are.
 */
function endingWhenStopped(
  inner: TransformStream<Uint8Array, Uint8Array>,
  stop: () => void,
): TransformStream<Uint8Array, Uint8Array> {
  const writer = inner.writable.getWriter();
  const reader = inner.readable.getReader();
  const writable = new WritableStream<Uint8Array>(
    {
      write: (chunk) => writer.write(chunk),
      // a closed-down inner stream answers close() with a TypeError by the letter of the streams
      // spec; its writer's own error (the consumer's cancel reason) is what the caller must see
      close: () =>
        writer.close().catch(async (err: unknown) => {
          throw await writer.closed.then(
            () => err,
            (stored: unknown) => stored,
          );
        }),
      abort(reason) {
        const aborted = writer.abort(reason);
        stop();
        return aborted;
      },
    },
    { highWaterMark: 1 },
  );
  const readable = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await reader.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel(reason) {
        // the reason first, so that the writable side is errored with it before the work stops
        const cancelled = reader.cancel(reason);
        stop();
        return cancelled;
      },
    },
    { highWaterMark: 0 },
  );
  return Object.create(TransformStream.prototype, {
    readable: { value: readable, enumerable: true },
    writable: { value: writable, enumerable: true },
  });
}

/** Where runs are processed: the Workers of a pool, or (when they cannot start) the page's thread. */
interface Lanes {
  run(
    direction: Direction,
    nonces: Uint8Array,
    input: Uint8Array<ArrayBuffer>,
  ): Promise<RunResult & { input?: ArrayBuffer }>;
  /** Most runs in flight. */
  window: number;
  /** Drops the key from the Workers, and terminates them when the stream started them. */
  end(): void;
}

async function startLanes(workers: WorkersOption, key: WebCryptoKey): Promise<Lanes> {
  const shared = workers instanceof WorkerPool;
  const pool = shared ? workers : new WorkerPool({ size: workers });
  if (await pool.ready()) {
    const keyId = pool.addKey(key);
    return {
      run: (direction, nonces, input) => pool.run(keyId, direction, nonces, input),
      window: RUNS_PER_WORKER * pool.size,
      end() {
        pool.forgetKey(keyId);
        if (!shared) pool.close();
      },
    };
  }
  // No Worker could start (a CSP without worker-src for the script, the script missing): the same
  // runs, on the page's thread, by the same code the Workers run.
  if (!shared) pool.close();
  const cipher = gcmParts(key);
  return {
    run: (direction, nonces, input) => processRun(cipher, direction, nonces, input),
    window: RUNS_PER_WORKER,
    end() {},
  };
}

interface InFlight {
  first: number;
  count: number;
  result: Promise<RunResult & { input?: ArrayBuffer }>;
}

/** Runs of one payload in flight, in order: counters and nonces assigned here, results emitted in order. */
class RunPipeline {
  readonly #lanes: Lanes;
  readonly #direction: Direction;
  readonly #cipher: PayloadCipher;
  readonly #emit: (result: RunResult, first: number, count: number) => void;
  readonly #runBytes: number;
  readonly #queue: InFlight[] = [];
  /** Input buffers the Workers handed back, for the next runs. */
  readonly #spare: ArrayBuffer[] = [];
  /** The run being filled, and how much of it is. */
  #fill: Uint8Array<ArrayBuffer>;
  #filled = 0;
  #counter = 0;
  #ended = false;

  constructor(
    lanes: Lanes,
    direction: Direction,
    cipher: PayloadCipher,
    emit: (result: RunResult, first: number, count: number) => void,
  ) {
    this.#lanes = lanes;
    this.#direction = direction;
    this.#cipher = cipher;
    this.#emit = emit;
    this.#runBytes = RUN_CHUNKS * (direction === 'seal' ? CHUNK_SIZE : SEALED_CHUNK_SIZE);
    this.#fill = this.#buffer();
  }

  /**
   * Copies `bytes` into runs, submitting each run as it fills (whole chunks, never the final one):
   * the one copy of the input, into a buffer that is then transferred, not copied again.
   */
  async write(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length; ) {
      const n = Math.min(bytes.length - at, this.#fill.length - this.#filled);
      this.#fill.set(bytes.subarray(at, at + n), this.#filled);
      this.#filled += n;
      at += n;
      if (this.#filled === this.#fill.length) {
        const run = this.#fill;
        this.#fill = this.#buffer();
        this.#filled = 0;
        await this.submit(run, RUN_CHUNKS);
      }
    }
  }

  /** The bytes written since the last whole run (less than a run); the pipeline keeps none of them. */
  rest(): Uint8Array<ArrayBuffer> {
    const rest = this.#fill.subarray(0, this.#filled);
    this.#fill = new Uint8Array(0);
    this.#filled = 0;
    return rest;
  }

  /** A buffer for the next run's input (a returned one when there is one). */
  #buffer(): Uint8Array<ArrayBuffer> {
    const spare = this.#spare.pop();
    return spare ? new Uint8Array(spare) : new Uint8Array(this.#runBytes);
  }

  /**
   * Sends `count` chunks in `input` (its buffer is transferred) to be processed, then, while the
   * window is full, emits the oldest result.
   */
  async submit(input: Uint8Array<ArrayBuffer>, count: number): Promise<void> {
    if (count === 0) return;
    const first = this.#counter;
    if (first + count > MAX_CHUNKS) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        'the plaintext exceeds the format limit of 2^38 chunks (4 PiB)',
      );
    }
    const nonces = new Uint8Array(count * NONCE_LENGTH);
    for (let i = 0; i < count; i++) nonces.set(this.#cipher.nonce(first + i), i * NONCE_LENGTH);
    this.#counter += count;
    const result = this.#lanes.run(this.#direction, nonces, input);
    result.catch(() => {}); // taken in order below; one that fails after the stream stopped is dropped
    this.#queue.push({ first, count, result });
    while (this.#queue.length >= this.#lanes.window) await this.#takeOldest();
  }

  /** Emits every result still in flight, in order. */
  async drain(): Promise<void> {
    while (this.#queue.length > 0) await this.#takeOldest();
  }

  /** The page-thread opener positioned after every chunk submitted (for the final chunk and its errors). */
  finalOpener(): PayloadOpener {
    return new PayloadOpener(this.#cipher, this.#counter);
  }

  /** Runs `step`; on any failure, ends the pipeline (and its Workers) before rethrowing. */
  async guard(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      this.end();
      throw err;
    }
  }

  /** Stops: results in flight are dropped, the key is forgotten, the stream's own Workers terminated. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#queue.length = 0;
    this.#lanes.end();
  }

  async #takeOldest(): Promise<void> {
    const { first, count, result } = this.#queue.shift()!;
    const done = await result;
    if (done.input && this.#spare.length < this.#lanes.window) this.#spare.push(done.input);
    this.#emit(done, first, count);
  }
}
