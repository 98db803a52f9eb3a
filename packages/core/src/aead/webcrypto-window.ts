/**
 * A bounded window of asynchronous calls, taken in order: how the WebCrypto backend keeps many chunks
 * of a run in flight without holding the whole run twice over (each crypto.subtle call copies its
 * input and returns a fresh buffer, so an unbounded run of 1 GiB would hold 2 GiB).
 * @module
 */

/** Most crypto.subtle calls of one run in flight at once: beyond a few, Chromium gains nothing more. */
export const WEBCRYPTO_WINDOW = 64;

/**
 * Issues `issue(0)`, `issue(1)`, ... with at most `window` unsettled at a time and hands each
 * result to `take` in index order, as soon as it and every earlier one have settled. Stops at the
 * first `take` that returns false: nothing after it is taken (calls already issued are left to
 * settle and their results dropped, failures included).
 * @returns How many results were taken with `take` returning true (`count` when all were).
 */
export async function takeInOrder<T>(
  count: number,
  window: number,
  issue: (index: number) => Promise<T>,
  take: (index: number, result: T) => boolean,
): Promise<number> {
  const pending = new Array<Promise<T> | undefined>(count);
  let issued = 0;
  try {
    for (let i = 0; i < count; i++) {
      for (; issued < count && issued < i + window; issued++) pending[issued] = issue(issued);
      const result = await pending[i]!;
      pending[i] = undefined;
      if (!take(i, result)) return i;
    }
    return count;
  } finally {
    // calls left in flight when stopping early (or on a throw) must not surface as unhandled rejections
    for (const p of pending) p?.catch(() => {});
  }
}
