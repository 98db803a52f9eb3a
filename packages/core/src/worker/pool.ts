/**
 * A pool of module Workers that seal and open runs of chunks with WebCrypto off the page's thread:
 * what `encryptStream({ workers })` and `decryptStream({ workers })` spread a stream over.
 * @module
 */

import type { WebCryptoKey } from '../aead/webcrypto.ts';
import { SealstreamError } from '../errors.ts';
import type { Direction, FromWorker, RunResult, ToWorker } from './protocol.ts';

/**
 * What the pool uses of a Worker: a browser's `Worker` is one (the type is spelled out so that core
 * type-checks without the DOM library).
 */
export interface WorkerLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  terminate(): void;
  // biome-ignore lint/suspicious/noExplicitAny: the DOM's overloads take each event type; any accepts them all
  addEventListener(type: string, listener: (event: any) => void): void;
}

/** Options of {@link createWorkerPool}. */
export interface WorkerPoolOptions {
  /** How many Workers; `'auto'` (the default): the browser's cores (`navigator.hardwareConcurrency`), 1 to 4. */
  size?: number | 'auto';
  /**
   * Starts one Worker running core's `seal-worker.js`. The default,
   * `new Worker(new URL('./seal-worker.js', import.meta.url), { type: 'module' })`, is the form that
   * bundlers (Vite, webpack 5, Parcel) follow and emit the Worker's script for; give your own when
   * the script is served elsewhere (e.g. a bundle of `@sealstream/core/seal-worker`).
   */
  createWorker?: () => WorkerLike;
  /** How long the Workers may take to start before the pool gives up on them (ms); default 10000. */
  startTimeout?: number;
}

/** Most Workers `'auto'` starts: beyond a few, the page's thread (which feeds them) is the limit. */
const MAX_AUTO_WORKERS = 4;
/** Most Workers a pool takes. */
export const MAX_WORKERS = 16;

interface Job {
  worker: number;
  resolve: (result: RunResult & { input: ArrayBuffer }) => void;
  reject: (err: unknown) => void;
}

/**
 * Module Workers that seal and open runs of chunks. Made by {@link createWorkerPool}; pass it as
 * `workers` to several streams to pay the Workers' start once, and {@link WorkerPool.close} it when
 * done. A pool whose Workers cannot start (a CSP without `worker-src` for the script, a missing
 * script) reports it through {@link WorkerPool.ready}, and the streams then run on the page's thread.
 */
export class WorkerPool {
  /** How many Workers the pool runs. */
  readonly size: number;
  readonly #workers: WorkerLike[] = [];
  readonly #busy: number[];
  readonly #jobs = new Map<number, Job>();
  readonly #ready: Promise<boolean>;
  #nextJob = 0;
  #nextKey = 0;
  #closed = false;
  #broken: string | undefined;

  /** @internal Use {@link createWorkerPool}. */
  constructor(options: WorkerPoolOptions = {}) {
    this.size = poolSize(options.size);
    this.#busy = new Array<number>(this.size).fill(0);
    const create = options.createWorker ?? defaultWorker;
    const started: Promise<boolean>[] = [];
    for (let i = 0; i < this.size; i++) {
      let worker: WorkerLike;
      try {
        worker = create();
      } catch (err) {
        // a CSP that forbids the script, or no Worker here: the constructor throws
        this.#broken = `a sealing Worker could not be created: ${(err as Error)?.message ?? err}`;
        break;
      }
      this.#workers.push(worker);
      started.push(this.#watch(worker, i));
    }
    this.#ready =
      this.#broken !== undefined
        ? Promise.resolve(false)
        : withTimeout(
            Promise.all(started).then((all) => all.every(Boolean)),
            options.startTimeout ?? 10_000,
          );
    this.#ready = this.#ready.then((ok) => {
      if (!ok) this.#fail(this.#broken ?? 'the Workers (sealing or opening chunks) did not start in time');
      return ok;
    });
  }

  /**
   * Resolves true once every Worker has started, false when one could not (the pool is then closed,
   * and streams given it run on the page's thread, producing the same bytes).
   */
  ready(): Promise<boolean> {
    return this.#ready;
  }

  /** Why the pool stopped working, when it did. */
  get failure(): string | undefined {
    return this.#broken;
  }

  /** Terminates the Workers. Runs still in flight fail with `BACKEND_UNAVAILABLE`. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#workers) w.terminate();
    this.#rejectAll('the worker pool was closed');
  }

  /** @internal Sends a payload key to every Worker; returns its id. */
  addKey(key: WebCryptoKey): number {
    const keyId = this.#nextKey++;
    this.#post({ kind: 'key', keyId, key });
    return keyId;
  }

  /** @internal Drops a payload key from every Worker. */
  forgetKey(keyId: number): void {
    if (!this.#closed) this.#post({ kind: 'forget', keyId });
  }

  /**
   * @internal Seals or opens a run of chunks in the least busy Worker. `input`'s buffer is
   * transferred (detached here) and comes back in the result, for reuse.
   */
  run(
    keyId: number,
    direction: Direction,
    nonces: Uint8Array,
    input: Uint8Array<ArrayBuffer>,
  ): Promise<RunResult & { input: ArrayBuffer }> {
    if (this.#closed || this.#broken) {
      return Promise.reject(unavailable(this.#broken ?? 'the worker pool was closed'));
    }
    let worker = 0;
    for (let i = 1; i < this.size; i++) if (this.#busy[i]! < this.#busy[worker]!) worker = i;
    const job = this.#nextJob++;
    this.#busy[worker]!++;
    return new Promise((resolve, reject) => {
      this.#jobs.set(job, { worker, resolve, reject });
      const message: ToWorker = {
        kind: 'run',
        job,
        keyId,
        direction,
        nonces,
        input: input.buffer,
        offset: input.byteOffset,
        length: input.length,
      };
      this.#workers[worker]!.postMessage(message, [input.buffer]);
    });
  }

  #post(message: ToWorker): void {
    for (const w of this.#workers) w.postMessage(message, []);
  }

  /** Resolves true on the Worker's `ready`, false on an error before it; then routes its replies. */
  #watch(worker: WorkerLike, index: number): Promise<boolean> {
    return new Promise((started) => {
      worker.addEventListener('message', (event: { data: FromWorker }) => {
        const message = event.data;
        if (message.kind === 'ready') return started(true);
        const job = this.#jobs.get(message.job);
        if (!job) return;
        this.#jobs.delete(message.job);
        this.#busy[index]!--;
        if (message.kind === 'done') {
          job.resolve({ parts: message.parts, ok: message.ok, input: message.input });
        } else {
          job.reject(new SealstreamError('INTERNAL', `a sealing Worker failed a run: ${message.message}`));
        }
      });
      const failed = (what: string) => {
        this.#fail(`a sealing Worker ${what}`);
        started(false);
      };
      worker.addEventListener('error', (event: { message?: string; preventDefault?(): void }) => {
        event.preventDefault?.();
        failed(`failed: ${event.message || 'its script did not load (missing, or forbidden by the CSP)'}`);
      });
      worker.addEventListener('messageerror', () => failed('could not read a message'));
    });
  }

  #fail(why: string): void {
    this.#broken ??= why;
    this.close();
  }

  #rejectAll(why: string): void {
    const error = unavailable(this.#broken ?? why);
    for (const job of this.#jobs.values()) job.reject(error);
    this.#jobs.clear();
  }
}

/**
 * Starts a pool of module Workers that seal and open chunks with WebCrypto: pass it as `workers` to
 * {@link encryptStream} / {@link decryptStream} (several streams may share it), and close it when done.
 * @example
 * const pool = createWorkerPool(); // navigator.hardwareConcurrency Workers, 1 to 4
 * try {
 *   await file.stream().pipeThrough(encryptStream({ recipients: [key], workers: pool })).pipeTo(sink);
 * } finally {
 *   pool.close();
 * }
 * @throws {SealstreamError} `INVALID_ARGUMENT` for a bad `size`; `BACKEND_UNAVAILABLE` where there is no `Worker`.
 */
export function createWorkerPool(options: WorkerPoolOptions = {}): WorkerPool {
  if (!hasWorkers()) {
    throw unavailable('there is no Worker in this runtime');
  }
  return new WorkerPool(options);
}

/** The Workers of a `size` option. */
export function poolSize(size: number | 'auto' | undefined): number {
  if (size === undefined || size === 'auto') {
    const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
      ?.hardwareConcurrency;
    return Math.max(1, Math.min(cores ?? 2, MAX_AUTO_WORKERS));
  }
  if (!Number.isInteger(size) || size < 1 || size > MAX_WORKERS) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `workers: expected 'auto' or a whole number from 1 to ${MAX_WORKERS}, got ${String(size)}`,
    );
  }
  return size;
}

/** Whether this runtime has the `Worker` global (browsers; not Node.js). */
export function hasWorkers(): boolean {
  return typeof (globalThis as { Worker?: unknown }).Worker === 'function';
}

declare const Worker: new (url: URL, options: { type: 'module' }) => WorkerLike;

function defaultWorker(): WorkerLike {
  // kept in exactly this form: it is the pattern bundlers recognise and emit the Worker's script for
  return new Worker(new URL('./seal-worker.js', import.meta.url), { type: 'module' });
}

function withTimeout(started: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([started, late]).finally(() => clearTimeout(timer));
}

function unavailable(why: string): SealstreamError {
  return new SealstreamError(
    'BACKEND_UNAVAILABLE',
    `the Workers (sealing or opening chunks) cannot run: ${why}`,
  );
}
