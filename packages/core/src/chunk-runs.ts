/**
 * The hot loop shared by encryptStream and decryptStream: writes of any size in, whole units (plain
 * chunks or sealed chunks) out in runs, each run processed straight into an output buffer sized for
 * what it holds: the consumer's own when it lent one (a BYOB read, see run-stream.ts), otherwise a
 * fresh one. Only a partial unit is carried between writes.
 * @module
 */
import { allocUninitialized } from './alloc.ts';
import type { RunOutput } from './run-stream.ts';

/** Processes whole units of `input` into `out` and returns the bytes written. */
export type RunStep = (input: Uint8Array, out: Uint8Array) => Promise<number>;

export class ChunkRuns {
  readonly #inUnit: number;
  readonly #outUnit: number;
  readonly #maxUnits: number;
  readonly #pending: Uint8Array;
  #pendingLength = 0;

  /**
   * @param inUnit - Bytes of a whole unit in.
   * @param outUnit - Bytes it becomes.
   * @param maxUnits - Most units in one output buffer.
   */
  constructor(inUnit: number, outUnit: number, maxUnits: number) {
    this.#inUnit = inUnit;
    this.#outUnit = outUnit;
    this.#maxUnits = maxUnits;
    this.#pending = new Uint8Array(inUnit);
  }

  /** The partial unit carried so far. */
  get pending(): Uint8Array {
    return this.#pending.subarray(0, this.#pendingLength);
  }

  /**
   * Takes one write: every whole unit it completes goes through `step`, a run at a time, each run
   * when the consumer asks for it: into the buffer it lent when at least one unit fits (then as many
   * units as fit), otherwise into a fresh buffer handed on and never touched again.
   */
  async push(chunk: Uint8Array, step: RunStep, output: RunOutput): Promise<void> {
    const unit = this.#inUnit;
    let offset = 0;
    let whole = Math.floor((this.#pendingLength + chunk.length) / unit);
    while (whole > 0) {
      const lent = await output.demand();
      const fits = lent ? Math.floor(lent.length / this.#outUnit) : 0;
      const n = Math.min(whole, fits > 0 ? fits : this.#maxUnits);
      const out = fits > 0 ? lent!.subarray(0, n * this.#outUnit) : allocUninitialized(n * this.#outUnit);
      let at = 0;
      let left = n;
      if (this.#pendingLength > 0) {
        // Complete the carried unit first; it is the only one that is copied.
        const take = unit - this.#pendingLength;
        this.#pending.set(chunk.subarray(0, take), this.#pendingLength);
        offset = take;
        this.#pendingLength = 0;
        at = await step(this.#pending, out);
        left--;
      }
      if (left > 0) {
        const end = offset + left * unit;
        await step(chunk.subarray(offset, end), out.subarray(at));
        offset = end;
      }
      if (fits > 0) output.fill(out.length);
      else output.emit(out);
      whole -= n;
    }
    this.#pending.set(chunk.subarray(offset), this.#pendingLength);
    this.#pendingLength += chunk.length - offset;
  }
}
