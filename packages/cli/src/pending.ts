/**
 * Output files written under a temporary name in the target's folder and renamed into place only
 * once complete, so a failed or interrupted run never leaves something that looks complete.
 *
 * The temporary file (`.NAME.PID-RANDOM.sealstream-partial`) is created with mode 0600 before its
 * first byte, since it may hold plaintext; the final mode is set just before the rename. It is
 * removed on every exit the process controls (errors, signals, EPIPE). A run that was killed
 * (SIGKILL, power loss) cannot remove its own: the next run writing the same output removes the
 * ones whose process is gone, and reports the ones it cannot tell about.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Stats, unlinkSync, writeSync } from 'node:fs';
import { type FileHandle, link, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { localError, outputError, usage } from './exit.ts';
import { makeFolders, removeFoldersMade, removeFoldersMadeSync } from './folders-made.ts';
import { nativePageOffset } from './page-placement.ts';
import { preallocate } from './preallocation.ts';
import type { BlockOutput } from './sealing.ts';
import { ThreadedWriter } from './writer-thread.ts';

const SUFFIX = '.sealstream-partial';
/** Bytes written by a loop between two flushes to disk started in the background. */
const SYNC_EVERY = 64 << 20;
const temporaries = new Set<string>();
let removed = 0;

/** How many temporary files this run removed (for the message of an interrupted run). */
export function temporariesRemoved(): number {
  return removed + temporaries.size;
}
let warn: (message: string) => void = () => {};

/** Where warnings about stale temporary files go (the run's reporter). */
export function warnStalePartialsWith(report: (message: string) => void): void {
  warn = report;
}

/**
 * Removes this run's temporary files, then the folders it made for its outputs that are empty;
 * for exit paths that cannot wait (a second signal, `exit`).
 * @returns How many temporary files there were.
 */
export function removeTemporariesSync(): number {
  const count = temporaries.size;
  for (const path of temporaries) {
    try {
      unlinkSync(path);
    } catch {
      // gone already
    }
  }
  temporaries.clear();
  removeFoldersMadeSync();
  return count;
}

/** An output file being written under a temporary name. */
export interface PendingFile {
  /** Where bytes go; a failed write fails with exit code `OUTPUT`. */
  stream: Writable;
  /**
   * Writes all of `bytes` (the caller may reuse them once this resolves), for a loop that writes
   * without a stream; a failed write rejects with exit code `OUTPUT`.
   */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * With a writer thread (`options.writerThread`): its ring's slots lent to a loop, which makes each
   * block in place instead of writing a copy of it; a failed write throws with exit code `OUTPUT`.
   * Without: undefined.
   */
  blocks: BlockOutput | undefined;
  /** Flushes to disk, sets the final mode and moves the file into place. */
  commit(): Promise<void>;
  /** Removes the temporary file. */
  discard(): Promise<void>;
  /** What a failed run leaves at the output, for the message. */
  leftOnFailure: string;
}

/** What a failed run leaves when the output went through a temporary file. */
const NOTHING_LEFT = 'nothing was left behind';

/**
 * Starts writing `path` through a temporary file in the same folder.
 * @param options.mode - Mode of the finished file, less the umask (default: the mode of the file it
 *   replaces, else 0666 less the umask); the temporary file is 0600 whatever this is.
 * @param options.replace - Replace an existing `path` (default true); false: fail if it exists,
 *   checked atomically when the file is moved into place.
 * @param options.writerThread - Block size of a loop's writes: {@link PendingFile.write} then hands
 *   them to a thread of their own (`writer-thread.ts`), for large outputs.
 * @param options.reserve - The output's expected size: its disk blocks are reserved at once
 *   (`preallocation.ts`), so that the writes skip the file system's allocation of each block. A
 *   wrong guess costs nothing but speed: the file's size is what is written, and what was reserved
 *   past it is released before the file is moved into place.
 */
export async function pendingFile(
  path: string,
  options: { mode?: number; replace?: boolean; writerThread?: number; reserve?: number } = {},
): Promise<PendingFile> {
  const dir = dirname(path);
  const name = basename(path);
  const existing = await existingFile(path);
  await makeFolders(dir);
  await removeStalePartials(dir, name);
  const temporary = join(
    dir,
    `.${temporaryStem(name)}.${process.pid}-${randomBytes(6).toString('hex')}${SUFFIX}`,
  );
  let handle: FileHandle;
  for (let attempt = 1; ; attempt++) {
    try {
      handle = await open(temporary, 'wx', 0o600);
      break;
    } catch (cause) {
      // another output of this run (cp -r) failed and removed the folder just made: made again
      if ((cause as { code?: string }).code === 'ENOENT' && attempt < 3) {
        await makeFolders(dir);
        continue;
      }
      await removeFoldersMade(dir);
      throw localError(cause, `the folder ${dir}`, 'cannot be written in');
    }
  }
  temporaries.add(temporary);
  // a reservation that failed (a full disk) may still have reserved part: released at commit too
  const { reserve } = options;
  if (reserve !== undefined) preallocate(handle.fd, reserve);
  const stream = fileSink(handle, path, () => NOTHING_LEFT);
  // started now, so that its start-up overlaps the caller's (keys, header); the file is new, so its
  // blocks are written from position 0, where the slots are placed for (page-placement.ts)
  const pageOffset = nativePageOffset();
  const thread =
    options.writerThread === undefined
      ? undefined
      : new ThreadedWriter(handle.fd, options.writerThread, pageOffset && { position: 0, pageOffset });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // the thread writes to the handle: it ends before the handle closes
    await thread?.stop();
    if (!stream.destroyed) stream.destroy();
    await handle.close().catch(() => {});
  };
  // An existing file keeps its mode, as under `cp` or the shell's `>`: decrypting over a 0600 file
  // must not leave the plaintext readable by everyone (0666 less the umask is for new files).
  const mode =
    options.mode !== undefined
      ? options.mode & ~process.umask()
      : existing !== undefined
        ? existing.mode & 0o777
        : 0o666 & ~process.umask();
  // A loop's writes start the flush to disk as they go (one `fdatasync` in flight at a time, every
  // SYNC_EVERY bytes), so that the `fsync` of commit() waits for the tail only, not the whole file.
  let unsynced = 0;
  let syncing: Promise<void> | undefined;
  let syncFailure: unknown;
  const flushSoFar = () => {
    unsynced = 0;
    syncing = handle.datasync().then(
      () => {
        syncing = undefined;
      },
      (err) => {
        syncFailure ??= err;
        syncing = undefined;
      },
    );
  };
  /** `work` on the output, its failure as an output error. */
  const writing = <T>(work: () => T): T => {
    try {
      return work();
    } catch (err) {
      throw outputError(err, `writing ${path}`, NOTHING_LEFT);
    }
  };
  const queued = (bytes: number) => {
    unsynced += bytes;
    if (unsynced >= SYNC_EVERY && syncing === undefined) flushSoFar();
  };
  return {
    stream,
    async write(bytes) {
      writing(() => (thread ? thread.write(bytes) : writeAllNow(handle.fd, bytes)));
      queued(bytes.byteLength);
    },
    blocks: thread && {
      next: () => writing(() => thread.slot()),
      put(bytes) {
        writing(() => thread.commit(bytes));
        queued(bytes);
      },
    },
    async commit() {
      // every queued block written (or its failure) before the flush to disk
      await thread?.drain();
      await syncing;
      if (syncFailure !== undefined) throw syncFailure;
      // blocks reserved past what was written are released (the size itself is already right)
      if (reserve !== undefined) await handle.truncate((await handle.stat()).size);
      await handle.sync();
      if (mode !== 0o600) await handle.chmod(mode);
      await close();
      if (options.replace === false) {
        // link() fails if path exists: no check-then-write race
        await link(temporary, path);
        await unlink(temporary);
      } else {
        await rename(temporary, path);
      }
      temporaries.delete(temporary);
      await syncFolder(dir);
    },
    leftOnFailure: NOTHING_LEFT,
    async discard() {
      await syncing;
      await close();
      await unlink(temporary).catch(() => {});
      if (temporaries.delete(temporary)) removed++;
      await removeFoldersMade(dir);
    },
  };
}

/**
 * The regular file at `path`, if there is one. Refuses to replace an existing device, FIFO,
 * socket or folder by a rename: as root, a rename over `/dev/null` replaces the system's
 * `/dev/null` with a regular file. Callers that can write such a target directly decide so first
 * (`output-target.ts`).
 */
async function existingFile(path: string): Promise<Stats | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (info !== undefined && !info.isFile()) {
    throw usage(`${path} exists and is not a regular file: it is not replaced`, 'give the path of a file');
  }
  return info;
}

/** Makes the rename durable; not every file system lets a folder be synced, which is not an error. */
async function syncFolder(dir: string): Promise<void> {
  const folder = await open(dir, 'r').catch(() => undefined);
  await folder?.sync().catch(() => {});
  await folder?.close();
}

/**
 * Removes the temporary files of earlier runs writing `name` whose process is gone; reports those
 * it cannot tell about (a live process, or a name from an older version without a process ID).
 */
/** Bytes of an output's name kept as they are in its temporary file's name. */
const STEM_BYTES = 190;

/**
 * The output's name as its temporary file's name holds it. A name near the file system's limit
 * (255 bytes) is valid, but its temporary name, some 40 bytes longer, would not be (ENAMETOOLONG:
 * such a file could not be written at all): a long name is cut to its first {@link STEM_BYTES}
 * bytes (whole characters) and told apart from other long names by a hash of all of it.
 */
export function temporaryStem(name: string): string {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.byteLength <= STEM_BYTES) return name;
  let end = STEM_BYTES;
  // not inside a UTF-8 character: continuation bytes are 10xxxxxx
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 8);
  return `${bytes.subarray(0, end).toString('utf8')}~${hash}`;
}

async function removeStalePartials(dir: string, name: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  const prefix = `.${temporaryStem(name)}.`;
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith(SUFFIX)) continue;
    const middle = entry.slice(prefix.length, -SUFFIX.length);
    const pid = /^(\d+)-[0-9a-f]{12}$/.exec(middle)?.[1];
    const path = join(dir, entry);
    if (pid !== undefined && !isRunning(Number(pid))) {
      try {
        await unlink(path);
        warn(`removed ${path}, left by an earlier run that was killed (it may have held plaintext)`);
      } catch {
        warn(`${path} was left by an earlier run that was killed and could not be removed: remove it`);
      }
    } else if (pid === undefined || Number(pid) !== process.pid) {
      warn(
        `${path} is the partial output of ${pid === undefined ? 'an earlier run' : `process ${pid}, still running`}; remove it if no sealstream run is writing ${join(dir, name)}`,
      );
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/**
 * A file handle as a pipeline end. A failed write (ENOSPC, EIO, ...) fails the pipeline with a
 * `CliError` of exit code `OUTPUT`, told apart from the failures of earlier stages.
 * @param left - What a failure leaves at `path`, in words, asked when it happens.
 * @param wrote - Told 0 before each write starts (a blocked write may have gone out in part), then
 *   the count of each one that went through.
 */
export function fileSink(
  handle: FileHandle,
  path: string,
  left: () => string,
  wrote?: (bytes: number) => void,
): Writable {
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      wrote?.(0);
      writeAll(handle, chunk, wrote).then(
        () => callback(),
        (err) => callback(outputError(err, `writing ${path}`, left())),
      );
    },
  });
}

/**
 * Writes all of `bytes` on this thread (a loop's writes to a regular file land in the page cache:
 * cheaper than a hand-off to libuv's thread pool and back), however many writes it takes.
 * @param wrote - Told the count of each write that went through.
 */
export function writeAllNow(fd: number, bytes: Uint8Array, wrote?: (bytes: number) => void): void {
  for (let offset = 0; offset < bytes.byteLength; ) {
    const n = writeSync(fd, bytes, offset, bytes.byteLength - offset);
    offset += n;
    wrote?.(n);
  }
}

/** Writes all of `bytes`, however many writes the system takes for it (in libuv's thread pool). */
export async function writeAll(
  handle: FileHandle,
  bytes: Uint8Array,
  wrote?: (bytes: number) => void,
): Promise<void> {
  for (let offset = 0; offset < bytes.byteLength; ) {
    const n = (await handle.write(bytes, offset, bytes.byteLength - offset)).bytesWritten;
    offset += n;
    wrote?.(n);
  }
}
