/**
 * A file written by a second thread, so that the kernel's copy of each `write` (a third of a
 * file loop's time) runs on another core while this thread reads and seals the next block.
 *
 * The blocks go through a ring of slots in shared memory: {@link ThreadedWriter.write} copies a
 * block into the next free slot and returns at once (the caller may reuse its buffer), or the caller
 * makes the block in the slot itself ({@link ThreadedWriter.slot}, {@link ThreadedWriter.commit}:
 * the file loops seal and open straight into the ring, with no copy at all); the thread
 * writes the slots in order with `writeSync` at the file's current offset. Memory is bounded by
 * the ring ({@link RING_SLOTS} x the slot size). When the ring is full, `write` blocks this thread
 * until a slot is free, as a synchronous write to a slow disk would. The first write that fails
 * stops the thread; every later call throws that error (with its system code, e.g. `ENOSPC`),
 * and {@link ThreadedWriter.drain} reports it before anything is committed.
 *
 * A thread is started only for large outputs: starting one costs tens of milliseconds of CPU.
 * Libuv's thread pool (asynchronous `fs` writes) was measured first: 0.3-0.4 CPU-seconds more
 * per GiB than writing on this thread (a wake-up, a callback and promises per block), while a
 * ring wakes the writer only when it was idle.
 * @module
 */
import { getSystemErrorName } from 'node:util';
import { Worker } from 'node:worker_threads';
import { type PageOffset, PlacedBuffer } from './page-placement.ts';

/** Slots in the ring: enough to cover the thread's start-up and the disk's hiccups at 1-2 MiB. */
const RING_SLOTS = 8;

/** Blocks waiting in the ring that wake the sleeping thread (at most RING_SLOTS, or a full ring would wait forever). */
const WAKE_AT = 2;

/** Indexes of the control words (an Int32Array over shared memory). */
const PRODUCED = 0; // slots filled by the writer's owner, ever; CLOSED added once no more will come
const CONSUMED = 1; // slots written by the thread, ever
const FAILED = 2; // errno of the failed write (positive), 0 while all is well
const LENGTHS = 3; // the byte count of each slot
const STARTS = LENGTHS + RING_SLOTS; // where in the ring each slot's block starts
/**
 * Added to PRODUCED by drain(): in the same word as the count, so that the thread, waiting for
 * that word to change, cannot miss it.
 */
const CLOSED = 2 ** 30;

/** The thread: waits for filled slots and writes each in order, whole. Plain JavaScript (run with `eval`). */
const THREAD = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { fd, control, data, slots } = workerData;
const ctl = new Int32Array(control);
const bytes = new Uint8Array(data);
let consumed = 0;
// Any failure of this thread must reach the FAILED word: its 'error' event is delivered on the main
// thread's event loop, which does not turn while the main thread waits for a slot.
try {
for (;;) {
  const word = Atomics.load(ctl, ${PRODUCED});
  const produced = word % ${CLOSED};
  if (produced === consumed) {
    if (word >= ${CLOSED}) break;
    Atomics.wait(ctl, ${PRODUCED}, word);
    continue;
  }
  const slot = consumed % slots;
  const start = Atomics.load(ctl, ${STARTS} + slot);
  const end = start + Atomics.load(ctl, ${LENGTHS} + slot);
  try {
    for (let at = start; at < end; ) at += writeSync(fd, bytes, at, end - at);
  } catch (err) {
    Atomics.store(ctl, ${FAILED}, typeof err.errno === 'number' ? Math.abs(err.errno) || 5 : 5);
    Atomics.notify(ctl, ${CONSUMED});
    break;
  }
  consumed++;
  Atomics.store(ctl, ${CONSUMED}, consumed);
  Atomics.notify(ctl, ${CONSUMED});
}
} catch {
  Atomics.store(ctl, ${FAILED}, 5);
  Atomics.notify(ctl, ${CONSUMED});
}
`;

/** The error of a failed write on the thread, as Node reports one (`code`, `errno`, `syscall`). */
function writeFailure(errno: number): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(-errno);
  } catch {
    code = `errno ${errno}`;
  }
  return Object.assign(new Error(`${code}: write failed`), { code, errno: -errno, syscall: 'write' });
}

/** Writes blocks to an open file descriptor on a thread of its own, in order. */
export class ThreadedWriter {
  readonly #worker: Worker;
  readonly #ctl: Int32Array;
  readonly #data: Uint8Array;
  readonly #slots: PlacedBuffer[];
  readonly #slotSize: number;
  #produced = 0;
  /** The file position of the next byte committed. */
  #position: number;
  /** The view slot() lent last, until commit(). */
  #lent: Uint8Array | undefined;
  #exited: Promise<void>;
  #threadError: unknown;

  /**
   * Starts the thread writing to `fd` from its current offset.
   * @param slotSize - The largest block the caller writes at once (larger ones take several slots).
   * @param placement - The file's current offset and the addon's `pageOffset`: each slot is then lent
   *   at the page offset of the file position its block will be written at (page-placement.ts: the
   *   kernel's copy into the page cache is several times slower at some relative offsets). Without
   *   it, slots start where they start.
   */
  constructor(fd: number, slotSize: number, placement?: { position: number; pageOffset: PageOffset }) {
    const control = new SharedArrayBuffer((STARTS + RING_SLOTS) * 4);
    const storage = PlacedBuffer.storageFor(slotSize, placement?.pageOffset);
    const data = new SharedArrayBuffer(storage * RING_SLOTS);
    this.#ctl = new Int32Array(control);
    this.#data = new Uint8Array(data);
    this.#slots = Array.from(
      { length: RING_SLOTS },
      (_, i) =>
        new PlacedBuffer(
          slotSize,
          placement?.pageOffset,
          this.#data.subarray(i * storage, (i + 1) * storage),
        ),
    );
    this.#slotSize = slotSize;
    this.#position = placement?.position ?? 0;
    this.#worker = new Worker(THREAD, {
      eval: true,
      workerData: { fd, control, data, slots: RING_SLOTS },
    });
    // an exit that does not wait for it (an error, a signal) ends it with the process
    this.#worker.unref();
    this.#exited = new Promise((resolve) => {
      this.#worker.once('error', (err) => {
        // the thread itself failed (not a write): no slot will be written any more
        this.#threadError = err;
        Atomics.store(this.#ctl, FAILED, 5);
        Atomics.notify(this.#ctl, CONSUMED);
      });
      this.#worker.once('exit', () => resolve());
    });
  }

  /** The error of the thread, once a write failed. */
  #failure(): unknown {
    const errno = Atomics.load(this.#ctl, FAILED);
    if (errno === 0) return undefined;
    return this.#threadError ?? writeFailure(errno);
  }

  /**
   * Copies `bytes` into the ring (the caller may reuse them at once); blocks while the ring is full.
   * @throws the error of an earlier write that failed on the thread.
   */
  write(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.byteLength; ) {
      const n = Math.min(this.#slotSize, bytes.byteLength - at);
      this.slot().set(bytes.subarray(at, at + n));
      this.commit(n);
      at += n;
    }
  }

  /**
   * The next free slot of the ring (`slotSize` bytes), for the caller to fill in place, so that a
   * block is made where the thread reads it instead of being copied there; blocks while the ring is
   * full. The thread does not see it until {@link commit}: what is in it is not written before.
   * @throws the error of an earlier write that failed on the thread.
   */
  slot(): Uint8Array {
    this.#waitForSlot();
    this.#lent = (this.#slots[this.#produced % RING_SLOTS] as PlacedBuffer).at(this.#position);
    return this.#lent;
  }

  /** Queues the first `bytes` bytes of the slot {@link slot} returned last, for the thread to write. */
  commit(bytes: number): void {
    // the slot is known free only once slot() waited for it
    const lent = this.#lent;
    if (lent === undefined) throw new Error('commit() without a slot from slot()');
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > this.#slotSize) {
      throw new RangeError(`a slot holds 0 to ${this.#slotSize} bytes, not ${bytes}`);
    }
    const slot = this.#produced % RING_SLOTS;
    Atomics.store(this.#ctl, STARTS + slot, lent.byteOffset - this.#data.byteOffset);
    Atomics.store(this.#ctl, LENGTHS + slot, bytes);
    this.#lent = undefined;
    this.#position += bytes;
    this.#produced++;
    Atomics.store(this.#ctl, PRODUCED, this.#produced);
    // The thread, faster than the loops that feed it, sleeps once it caught up: waking it for every
    // block cost a futex wake and two context switches per 256 KiB (~4% of the CPU of an encrypt).
    // It is woken once WAKE_AT blocks wait (a full ring always has), or by drain().
    if (this.#produced - Atomics.load(this.#ctl, CONSUMED) >= WAKE_AT) Atomics.notify(this.#ctl, PRODUCED);
  }

  /** Waits until the ring has a free slot; throws the thread's failure. */
  #waitForSlot(): void {
    for (;;) {
      const failure = this.#failure();
      if (failure !== undefined) throw failure;
      const consumed = Atomics.load(this.#ctl, CONSUMED);
      if (this.#produced - consumed < RING_SLOTS) return;
      Atomics.wait(this.#ctl, CONSUMED, consumed, 1000);
    }
  }

  /**
   * Waits until every block given so far is written (or the first failure), and ends the thread.
   * @throws the error of a write that failed.
   */
  async drain(): Promise<void> {
    Atomics.store(this.#ctl, PRODUCED, this.#produced + CLOSED);
    Atomics.notify(this.#ctl, PRODUCED);
    // waited for: its exit must keep the event loop alive, which nothing else may do now
    this.#worker.ref();
    await this.#exited;
    const failure = this.#failure();
    if (failure !== undefined) throw failure;
    if (Atomics.load(this.#ctl, CONSUMED) !== this.#produced) {
      throw new Error(
        `the writer thread stopped with ${this.#produced - Atomics.load(this.#ctl, CONSUMED)} blocks unwritten`,
      );
    }
  }

  /** Stops the thread without waiting for what is queued (the output is being discarded). */
  async stop(): Promise<void> {
    await this.#worker.terminate();
  }
}
