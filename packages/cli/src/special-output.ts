/**
 * An output that is an existing device, FIFO or socket (`-o /dev/null`, a named pipe) or an open
 * descriptor (`-o /dev/stdout`): written directly, as stdout is, since renaming a temporary file
 * over it would replace it with a regular file (`output-target.ts`).
 *
 * There is no temporary name to hide a failed run behind: what was written before a failure stays
 * written, as on stdout (decrypting, each chunk only once it authenticated), and the message of a
 * failed write says so.
 * @module
 */
import { open } from 'node:fs/promises';
import { deliveredNote, deliveringTo, kindOf } from './delivered.ts';
import { outputError } from './exit.ts';
import { fileSink, type PendingFile, writeAll, writeAllNow } from './pending.ts';

/** What a failed run leaves in a special output: the bytes written before the failure. */
const left = () => deliveredNote() ?? 'nothing had been written to it';

/**
 * Opens an existing device, FIFO or socket for writing, with the interface of a pending file:
 * `commit` closes it, `discard` too (nothing can be taken back). What it was given is recorded
 * (`delivered.ts`), for the message of a run that fails after.
 * @param path - The special file (as given: a FIFO opens only once a reader has it open).
 */
export async function specialOutput(path: string): Promise<PendingFile> {
  // appending: `-o /dev/stdout >> log` must add to the log, not truncate it (a device or a FIFO
  // has no end to append to, so it makes no difference there)
  const handle = await open(path, 'a').catch((cause) => {
    throw outputError(cause, `opening ${path}`, 'nothing was written');
  });
  const info = await handle.stat().catch(() => undefined);
  const kind = info === undefined ? undefined : info.isFIFO() ? 'a FIFO' : kindOf(info);
  const mayBlock = info === undefined || info.isFIFO() || info.isSocket();
  let written = 0;
  // recorded from the first write on: a write blocked on a FIFO may already have gone out in part
  const wrote = (n: number) => {
    deliveringTo(path, kind, () => written);
    written += n;
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    stream: fileSink(handle, path, left, wrote),
    async write(bytes) {
      try {
        wrote(0);
        // A FIFO or a socket whose reader stopped blocks a write for good, and a JavaScript thread
        // blocked in it never runs the signal handlers again (SIGINT and SIGTERM then did nothing;
        // only SIGKILL ended the run): those are written from libuv's thread pool. A device
        // (`-o /dev/null` to check that a file decrypts) takes its writes at once, on this thread,
        // as a regular file does: the hand-off cost `-o /dev/null` about 1.5 times the CPU.
        if (mayBlock) await writeAll(handle, bytes, wrote);
        else writeAllNow(handle.fd, bytes, wrote);
      } catch (err) {
        throw outputError(err, `writing ${path}`, left());
      }
    },
    blocks: undefined,
    get leftOnFailure() {
      return left();
    },
    async commit() {
      await close();
    },
    async discard() {
      await close().catch(() => {});
    },
  };
}
