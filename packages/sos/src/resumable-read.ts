/**
 * An in-order read of the bytes `[start, end)` of one object version across as many GETs as it
 * takes: the first byte not yet received is asked for again when a body breaks off. Shared by the
 * SDK's source (s3-source.ts) and the presigned one (presigned/download.ts), which differ only in
 * how they send a GET and when they give up. Runtime-neutral.
 * @module
 */
import type { SequentialRead } from '@sealstream/core';
import { type BodyFeed, prematureClose } from './body-feed.ts';

/** Broken bodies of one read: how many in a row without a byte received, and whether any. */
export class Resumes {
  #inRow = 0;
  /** A body broke off at least once in this read. */
  failed = false;

  /** Counts a broken body (`progressed`: it brought bytes); returns the failures in a row. */
  fail(progressed: boolean): number {
    this.failed = true;
    this.#inRow = progressed ? 1 : this.#inRow + 1;
    return this.#inRow;
  }
}

/** How a resumable read gets its bytes, and when it gives up. */
export interface ResumableSource {
  /** Bytes `[0, head.length)` of the object, already received: served without a request. */
  head: Uint8Array;
  /**
   * Sends the GET of `[position, end)` (pinned to the version of the first answer) and returns
   * the feed of its body. `failed`: a body of this read broke off before.
   */
  open(position: number, failed: boolean): Promise<BodyFeed>;
  /**
   * After a body broke off at `position` with `err`: rejects to give up (with a typed error), or
   * resolves when the next GET may be sent. `inRow` counts the failures without a byte received
   * in between (1 after progress); `idle` when it was cut for bringing nothing for `idleMs`.
   */
  recover(err: unknown, inRow: number, position: number, idle: boolean): Promise<void>;
  /** Cuts a body that fills nothing for this long (ms), as a broken one; none when undefined. */
  idleMs?: number | undefined;
  /** Told of the bytes received from the store (not those served from `head`). */
  received?(bytes: number): void;
}

/**
 * The bytes `[start, end)` in order, written into the caller's buffers: one GET streamed while it
 * lasts, a new one from the first missing byte when it breaks off (as `how.recover` decides).
 * `close()` stops the GET in progress.
 */
export function resumableRead(
  start: number,
  end: number,
  signal: AbortSignal | undefined,
  how: ResumableSource,
): SequentialRead {
  const { head } = how;
  let position = start;
  let feed: BodyFeed | undefined;
  const resumes = new Resumes();
  /** Where the current GET started: a failure after progress is the first in a row. */
  let sent = start;
  /** The feed the idle bound cut, if any: its failure is a timeout. */
  let cut: BodyFeed | undefined;
  const stop = () => {
    feed?.destroy();
    feed = undefined;
  };
  return {
    async fill(into) {
      let written = 0;
      while (written < into.length && position < end) {
        if (position < head.length) {
          const take = Math.min(into.length - written, head.length - position, end - position);
          into.set(head.subarray(position, position + take), written);
          written += take;
          position += take;
          continue;
        }
        if (feed === undefined) {
          feed = await how.open(position, resumes.failed);
          sent = position;
        }
        const current = feed;
        const timer =
          how.idleMs === undefined
            ? undefined
            : setTimeout(() => {
                cut = current;
                current.destroy();
              }, how.idleMs);
        try {
          const n = await feed.fill(written === 0 ? into : into.subarray(written), signal);
          written += n;
          position += n;
          how.received?.(n);
          if (n === 0 && position < end) throw prematureClose();
        } catch (err) {
          stop();
          await how.recover(err, resumes.fail(position > sent), position, cut === current);
        } finally {
          clearTimeout(timer);
        }
      }
      return written;
    },
    close: stop,
  };
}
