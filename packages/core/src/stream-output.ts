/**
 * The output of the library's TransformStreams once their consumer is gone. A reader that cancels
 * (or a pipe whose sink failed) closes the readable side while a write or the flush may still be
 * sealing or opening; the next `controller.enqueue` then throws a `TypeError` ("Invalid state:
 * Unable to enqueue"). Thrown from the flush, that error became what the consumer's own
 * `reader.cancel()` rejected with, and what a `pipeTo` into a failing sink rejected with instead of
 * the sink's error. Here the enqueue that finds no consumer ends the write or flush quietly: there
 * is nobody left to hand bytes to, and the writable side already carries the cancel's reason.
 * @module
 */

/** What an {@link emitter} (or a run stream's output) throws when the readable side no longer takes chunks. */
export const GONE: unique symbol = Symbol('the stream output is gone');

/**
 * `controller.enqueue` for a transformer's steps, throwing {@link GONE} when the consumer is gone
 * (nothing else makes a transform stream's enqueue throw).
 */
export function emitter(controller: TransformStreamDefaultController<Uint8Array>): (out: Uint8Array) => void {
  return (out) => {
    try {
      controller.enqueue(out);
    } catch {
      throw GONE;
    }
  };
}

/** Runs a transformer's step (start, transform, flush), ending it quietly when its output is gone. */
export async function untilGone(step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    if (err !== GONE) throw err;
  }
}
