/**
 * Local input and output. Output files are written under a temporary name in the same folder and
 * renamed into place only once complete (and, for decryption, authenticated), so an interrupted
 * or failed run never leaves something that looks complete. Interruption (SIGINT, SIGTERM) aborts
 * one shared signal; work stops, temporary files are removed, and the run exits 130 or 143.
 * @module
 */
import { setMaxListeners } from 'node:events';
import { readSync, type Stats } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isatty } from 'node:tty';
import { batchProgressNote } from './batch-progress.ts';
import { refuseClosedStdin, refuseClosedStdout } from './closed-stdio.ts';
import { deliveredNote } from './delivered.ts';
import { CliError, describeError, EXIT, exitCodeOf, localError, outputError, usage } from './exit.ts';
import { hintOf } from './failure.ts';
import { claimStdin } from './keys.ts';
import { outputTarget } from './output-target.ts';
import { type PendingFile, pendingFile, removeTemporariesSync, temporariesRemoved } from './pending.ts';
import type { Progress } from './report.ts';
import type { BlockOutput, WriteAll } from './sealing.ts';
import { specialOutput } from './special-output.ts';
import { stdoutSink, writeStdout } from './stdout.ts';
import { keptUploadsHint, keptUploadsLeft, UploadKeptError } from './upload-kept.ts';

const interrupt = new AbortController();
// Every request, part upload and pipeline of the run listens to this one signal: `cp -r
// --parallel 12` passes Node's default of 10 listeners with no leak at all, and its warning
// (`MaxListenersExceededWarning`) would be printed to the user.
setMaxListeners(0, interrupt.signal);
let signalCount = 0;
let firstSignal: 'SIGINT' | 'SIGTERM' | undefined;

/** How long the work may take to stop after the first signal before the process exits anyway. */
export const CLEANUP_SECONDS = 5;

/** Aborted when the user interrupts the run. */
export const interrupted: AbortSignal = interrupt.signal;

/**
 * Installs the SIGINT/SIGTERM handlers. The first signal aborts the run's signal (every request,
 * upload and pipeline is given it), so in-flight work stops and cleans up (temporary files
 * removed, multipart uploads aborted); if that takes longer than {@link CLEANUP_SECONDS}, or at a
 * second signal, the temporary files are removed and the process exits at once. Either way the
 * exit code is 130 (SIGINT) or 143 (SIGTERM).
 */
export function handleSignals(): void {
  const on = (name: 'SIGINT' | 'SIGTERM', exitCode: typeof EXIT.INTERRUPTED | typeof EXIT.TERMINATED) => {
    process.on(name, () => {
      signalCount++;
      if (signalCount > 1)
        stopNow(
          name,
          `${name === firstSignal ? `${name} again` : `${name} after ${firstSignal}`}: stopped without waiting for cleanup`,
        );
      firstSignal = name;
      interrupt.abort(new CliError(exitCode, `interrupted (${name})`));
      setTimeout(
        () => stopNow(name, `interrupted (${name}): the work did not stop within ${CLEANUP_SECONDS} s`),
        CLEANUP_SECONDS * 1000,
      ).unref();
    });
  };
  on('SIGINT', EXIT.INTERRUPTED);
  on('SIGTERM', EXIT.TERMINATED);
  process.on('exit', removeTemporariesSync);
}

let storeInUse = false;
/**
 * The uploads under way (`s3://bucket/key`), each with whether it is resumable (an upload of a
 * file, with a journal), for the last line of {@link stopNow}.
 */
const uploadsUnderWay = new Map<string, boolean>();

/**
 * Records an upload to `destination` under way, until the function returned is called: a run
 * that must stop at once names it as possibly left on the store.
 * @param resumable - True when running the same command again resumes it (a file's upload).
 */
export function uploadUnderWay(destination: string, resumable: boolean): () => void {
  uploadsUnderWay.set(destination, resumable);
  return () => uploadsUnderWay.delete(destination);
}

/** What the uploads under way may leave on the store, for a run that stops without waiting. */
function uploadsLeftNote(): string | undefined {
  if (uploadsUnderWay.size > 0) {
    const names = [...uploadsUnderWay.keys()];
    const one = names.length === 1;
    const resumable = [...uploadsUnderWay.values()].some((r) => r);
    return `${one ? `the upload to ${names[0]} was` : `the uploads to ${names.join(', ')} were`} under way and may be left on the store as ${one ? 'an incomplete multipart upload' : 'incomplete multipart uploads'}: \`sealstream uploads ls ${one ? names[0] : 'PREFIX'}\` shows ${one ? 'it' : 'them'}, \`sealstream uploads abort\` discards ${one ? 'it' : 'them'}${resumable ? `; running the same command again resumes ${one ? 'it' : 'those of files'}` : ''}`;
  }
  return storeInUse
    ? 'an upload in progress may be left on the store as an incomplete multipart upload (sealstream uploads ls)'
    : undefined;
}

/**
 * Marks the run as one that talks to a store (`store.ts`, when it makes a client): only then can an
 * interrupted run have left an incomplete multipart upload, which its last line then mentions.
 */
export function noteStoreInUse(): void {
  storeInUse = true;
}

/**
 * Ends the process at once, by the signal itself: temporary files (and the folders made for them)
 * removed, a last line on stderr saying what may be left, then the default action of `signal` (the
 * shell sees 130 or 143, as from any program a signal ended). Not `process.exit`: it waits for libuv's worker threads, and one of
 * them may be blocked for good (opening a FIFO nobody reads, writing to a pipe whose reader stopped),
 * which hung the process after its last line.
 */
function stopNow(signal: 'SIGINT' | 'SIGTERM', why: string): never {
  const removedNow = removeTemporariesSync();
  const left = [
    removedNow > 0 ? partialFilesRemoved(removedNow) : undefined,
    deliveredNote(),
    uploadsLeftNote(),
    batchProgressNote(),
  ].filter((l) => l !== undefined);
  process.stderr.write(`sealstream: error: ${why}${left.map((l) => `; ${l}`).join('')}\n`);
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  // the default action ends the process before this line; a runtime that deferred it still exits
  process.exit(signal === 'SIGINT' ? EXIT.INTERRUPTED : EXIT.TERMINATED);
}

/** What a run that stopped says of the partial output files it removed. */
function partialFilesRemoved(count: number): string {
  return `${count > 1 ? 'the partial output files were' : 'the partial output file was'} removed`;
}

/**
 * The error to report for an interrupted run, if it was interrupted: what was interrupted, and
 * what it left (only what is known to be true).
 * @param failure - The error the work ended with, which may say more (an upload not aborted).
 */
export function interruption(failure?: unknown): CliError | undefined {
  if (!interrupted.aborted) return undefined;
  const reason = interrupted.reason as CliError;
  const left: string[] = [];
  const delivered = deliveredNote();
  if (delivered !== undefined) left.push(delivered);
  // several transfers at once (cp -r) stop together: each one's outcome is said
  const failures = failure instanceof AggregateError ? failure.errors : [failure];
  const kept: UploadKeptError[] = [];
  for (const f of failures) {
    if ((f as { code?: string } | undefined)?.code === 'UPLOAD_NOT_ABORTED') left.push((f as Error).message);
    else if (f instanceof UploadKeptError) kept.push(f);
  }
  const keptLeft = keptUploadsLeft(kept);
  if (keptLeft !== undefined) left.push(keptLeft);
  if (temporariesRemoved() > 0) left.push(partialFilesRemoved(temporariesRemoved()));
  const progress = batchProgressNote();
  if (progress !== undefined) left.push(progress);
  const hint = keptUploadsHint(kept);
  return new CliError(
    reason.exitCode,
    left.length ? `${reason.message}; ${left.join('; ')}` : reason.message,
    { cause: failure, ...(hint !== undefined ? { hint } : {}) },
  );
}

/**
 * The error to report for a run that failed (not interrupted): the failure, and what its output
 * left where it cannot be taken back (stdout, a FIFO, a device: `delivered.ts`) or that a partial
 * output file was removed. A failed write says so in its own message and is reported as it is.
 */
export function failureWithOutcome(failure: unknown): unknown {
  // a failed write says what it left itself; a usage error (keygen refusing to replace a key
  // file) is about the command line, not about a partial output the user never saw
  if (exitCodeOf(failure) === EXIT.OUTPUT || exitCodeOf(failure) === EXIT.USAGE) return failure;
  const left: string[] = [];
  const delivered = deliveredNote();
  if (delivered !== undefined) left.push(delivered);
  if (temporariesRemoved() > 0) left.push(partialFilesRemoved(temporariesRemoved()));
  if (left.length === 0) return failure;
  const hint = hintOf(failure);
  return new CliError(exitCodeOf(failure), `${describeError(failure)}; ${left.join('; ')}`, {
    cause: failure,
    ...(hint !== undefined ? { hint } : {}),
  });
}

/**
 * Runs `source -> ...transforms -> destination`, where the destination is a file written through
 * a temporary name, or stdout. The file is renamed into place only when every stage succeeded.
 */
export async function writeOutput(
  output: { kind: 'stdio' } | { kind: 'local'; path: string },
  stages: [Readable, ...(Transform | NodeJS.ReadWriteStream)[]],
): Promise<void> {
  if (output.kind === 'stdio') {
    refuseClosedStdout();
    await pipeline([...stages, stdoutSink()] as NodeJS.ReadWriteStream[], { signal: interrupted });
    return;
  }
  await throughPendingFile(output.path, (file) =>
    pipeline([...stages, file.stream] as NodeJS.ReadWriteStream[], { signal: interrupted }),
  );
}

/**
 * Runs `loop`, which writes the output through the function it is given: into a file through a
 * temporary name (renamed into place only when the loop succeeded, removed when it failed), or to
 * stdout. The same guarantees as {@link writeOutput}, for a loop over reused buffers.
 * @param expected - The output's expected size and the loop's largest write, when known: a large
 *   output file is written by a thread of its own while the loop goes on, the loop is given its
 *   ring's slots to make blocks in (`blocks`), and the file's disk space is reserved at once
 *   (`preallocation.ts`; a rough size is enough: it changes nothing but speed).
 */
export async function writeOutputLoop(
  output: { kind: 'stdio' } | { kind: 'local'; path: string },
  loop: (write: WriteAll, blocks?: BlockOutput) => Promise<void>,
  expected?: { bytes: number; block: number },
): Promise<void> {
  if (output.kind === 'stdio') {
    refuseClosedStdout();
    await loop(writeStdout);
    return;
  }
  const threaded = expected !== undefined && expected.bytes >= WRITER_THREAD_FROM;
  await throughPendingFile(
    output.path,
    (file) => loop(file.write, file.blocks),
    threaded ? { writerThread: expected.block, reserve: expected.bytes } : {},
  );
}

/**
 * Outputs from this size on are written by a thread of their own (`writer-thread.ts`): the
 * thread's start costs ~30-50 ms of CPU, which only a large output pays back.
 */
const WRITER_THREAD_FROM = 32 << 20;

/**
 * Writes `path` through a temporary file with `work`: committed when it succeeds, removed when not.
 * An existing device or FIFO (`-o /dev/null`) is written directly instead (`output-target.ts`).
 */
async function throughPendingFile(
  path: string,
  work: (file: PendingFile) => Promise<void>,
  options: { writerThread?: number; reserve?: number } = {},
): Promise<void> {
  const target = await outputTarget(path);
  refuseClosedStdout(target.path);
  const file =
    target.kind === 'special' ? await specialOutput(target.path) : await pendingFile(target.path, options);
  try {
    await work(file);
  } catch (err) {
    await file.discard();
    throw err;
  }
  try {
    // a full disk can show only now, when the file system flushes (fsync) or closes the file
    await file.commit();
  } catch (err) {
    await file.discard();
    throw outputError(err, `writing ${path}`, file.leftOnFailure);
  }
}

/** A regular file opened for a read loop: in order, into the caller's buffers. */
export interface InputFile {
  /** Fills the buffer it is given; fewer bytes only at the end of the file. */
  read(into: Uint8Array): Promise<number>;
  size: number;
  name: string;
  close(): Promise<void>;
}

/**
 * Opens a local path for a read loop when it is a regular file; `undefined` for anything else
 * (stdin, a pipe, a device), which is read as a stream.
 * @throws {CliError} not found, or usage error for a folder.
 */
export async function openInputFile(
  input: { kind: 'stdio' } | { kind: 'local'; path: string },
): Promise<InputFile | undefined> {
  if (input.kind === 'stdio') return undefined;
  const info = await statInput(input.path);
  if (!info.isFile()) return undefined;
  const handle: FileHandle = await open(input.path, 'r').catch((cause) => {
    throw localError(cause, input.path);
  });
  // Positional reads on this thread: a regular file answers from the page cache (or after a disk
  // read) without the hand-off to libuv's thread pool and back, which cost more CPU than the copy.
  let position = 0;
  return {
    async read(into) {
      let filled = 0;
      while (filled < into.length) {
        const bytesRead = readSync(handle.fd, into, filled, into.length - filled, position);
        if (bytesRead === 0) {
          // The end came before the size the file had when it was opened: another process
          // truncated it. Sealing what was read would report a shorter file as done.
          if (position < info.size) throw inputShrank(input.path, position, info.size);
          break;
        }
        filled += bytesRead;
        position += bytesRead;
      }
      return filled;
    },
    size: info.size,
    name: input.path,
    close: () => handle.close(),
  };
}

/** A regular file that ended before the size it had when it was opened. */
export function inputShrank(path: string, read: number, size: number): CliError {
  return new CliError(
    EXIT.ERROR,
    `${path} shrank while it was being read: it ended after ${read} bytes, not the ${size} it had when the run started`,
    { hint: 'another process truncated or rewrote it; nothing was written: run again once it is complete' },
  );
}

/** A local input opened for reading, with its size when known. */
export interface OpenedInput {
  stream: Readable;
  size: number | undefined;
  name: string;
}

/**
 * Opens a local file or stdin for reading.
 * @throws {CliError} not found, or usage error for a folder.
 */
export async function openInput(
  input: { kind: 'stdio' } | { kind: 'local'; path: string },
): Promise<OpenedInput> {
  if (input.kind === 'stdio') {
    claimStdin('the input');
    refuseClosedStdin();
    return { stream: process.stdin, size: undefined, name: '-' };
  }
  const info = await statInput(input.path);
  if (info.isDirectory()) {
    throw usage(
      `${input.path} is a folder`,
      'use cp --recursive, or an archive: tar c FOLDER | sealstream encrypt ...',
    );
  }
  // opened here, so that a file that cannot be read fails with its reason in words, not later in
  // the pipeline with the system's text
  const handle = await open(input.path, 'r').catch((cause) => {
    throw localError(cause, input.path);
  });
  return {
    stream: handle.createReadStream({ highWaterMark: 1 << 20 }),
    size: info.isFile() ? info.size : undefined,
    name: input.path,
  };
}

/** `stat` with a not-found exit code. */
export async function statInput(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ENOENT') {
      throw new CliError(EXIT.NOT_FOUND, `${path}: no such file or folder`, { cause });
    }
    throw localError(cause, path);
  }
}

/** A pass-through that reports bytes to a progress bar. */
export function counting(progress: Progress, count?: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      progress.add(chunk.length);
      count?.(chunk.length);
      callback(null, chunk);
    },
  });
}

/** A web stream as a Node stream. */
export function fromWeb(stream: ReadableStream<Uint8Array>): Readable {
  return Readable.fromWeb(stream as import('node:stream/web').ReadableStream<Uint8Array>);
}

/** Refuses to write binary data to a terminal. */
export function refuseBinaryToTerminal(
  output: { kind: 'stdio' } | { kind: 'local'; path: string },
  what: string,
): void {
  const terminal = output.kind === 'stdio' ? process.stdout.isTTY : namesTerminal(output.path);
  if (terminal) {
    throw usage(
      `refusing to write ${what} to a terminal`,
      'use -o FILE or redirect stdout to a file or a pipe',
    );
  }
}

/**
 * True when `-o PATH` names a terminal: the controlling terminal, a pseudo-terminal, or a
 * descriptor of this process that is one (`-o /dev/stdout` at a prompt). Told from the name and
 * the descriptors only: opening a device to ask it could have side effects (a tape rewinds).
 */
function namesTerminal(path: string): boolean {
  if (path === '/dev/tty' || /^\/dev\/(?:pts\/\d+|tty\d*)$/.test(path)) return true;
  const fd = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d+)$/.exec(path)?.[1];
  const descriptor =
    path === '/dev/stdout' ? 1 : path === '/dev/stderr' ? 2 : fd === undefined ? undefined : Number(fd);
  return descriptor !== undefined && isatty(descriptor);
}
