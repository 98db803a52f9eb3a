/**
 * Local input and output. Output files are written under a temporary name in the same folder and
 * renamed into place only once complete (and, for decryption, authenticated), so an interrupted
 * or failed run never leaves something that looks complete. Interruption (SIGINT, SIGTERM) aborts
 * one shared signal; work stops, temporary files are removed, and the run exits 130 or 143.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, type Stats, unlinkSync } from 'node:fs';
import { type FileHandle, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, EXIT, outputError, usage } from './exit.ts';
import type { Progress } from './report.ts';
import { stdoutSink } from './stdout.ts';

const interrupt = new AbortController();
const temporaries = new Set<string>();
let signalCount = 0;

/** Aborted when the user interrupts the run. */
export const interrupted: AbortSignal = interrupt.signal;

/** Installs the SIGINT/SIGTERM handlers: the first signal aborts the run, a second one exits at once. */
export function handleSignals(): void {
  const on = (name: 'SIGINT' | 'SIGTERM', exitCode: number) => {
    process.on(name, () => {
      signalCount++;
      if (signalCount > 1) {
        removeTemporariesSync();
        process.exit(exitCode);
      }
      interrupt.abort(
        new CliError(
          exitCode === EXIT.INTERRUPTED ? EXIT.INTERRUPTED : EXIT.TERMINATED,
          `interrupted (${name}): nothing partial was left behind`,
        ),
      );
    });
  };
  on('SIGINT', EXIT.INTERRUPTED);
  on('SIGTERM', EXIT.TERMINATED);
  process.on('exit', removeTemporariesSync);
}

/** The error to report for an interrupted run, if it was interrupted. */
export function interruption(): CliError | undefined {
  return interrupted.aborted ? (interrupted.reason as CliError) : undefined;
}

function removeTemporariesSync(): void {
  for (const path of temporaries) {
    try {
      unlinkSync(path);
    } catch {
      // gone already
    }
  }
  temporaries.clear();
}

/** An output file being written under a temporary name. */
export interface PendingFile {
  /** Where bytes go. */
  stream: Writable;
  /** Flushes to disk and renames into place. */
  commit(): Promise<void>;
  /** Removes the temporary file. */
  discard(): Promise<void>;
}

/**
 * A file handle as a pipeline end. A failed write (ENOSPC, EIO, ...) fails the pipeline with a
 * `CliError` of exit code `OUTPUT`, told apart from the failures of earlier stages.
 */
function fileSink(handle: FileHandle, path: string): Writable {
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      writeAll(handle, chunk).then(
        () => callback(),
        (err) => callback(outputError(err, `writing ${path}`, 'nothing was left behind')),
      );
    },
  });
}

/** Writes all of `bytes`, however many writes the system takes for it. */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.byteLength; ) {
    offset += (await handle.write(bytes, offset, bytes.byteLength - offset)).bytesWritten;
  }
}

/** Starts writing `path` through a temporary file in the same folder. */
export async function pendingFile(path: string, options: { mode?: number } = {}): Promise<PendingFile> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temporary = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.sealstream-partial`);
  let handle: FileHandle;
  try {
    handle = await open(temporary, 'wx', options.mode ?? 0o666);
  } catch (cause) {
    throw new CliError(EXIT.ERROR, `cannot write in ${dir}: ${(cause as { code?: string }).code ?? cause}`, {
      cause,
    });
  }
  temporaries.add(temporary);
  const stream = fileSink(handle, path);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    if (!stream.destroyed) stream.destroy();
    await handle.close().catch(() => {});
  };
  return {
    stream,
    async commit() {
      await handle.sync();
      await close();
      await rename(temporary, path);
      temporaries.delete(temporary);
    },
    async discard() {
      await close();
      await unlink(temporary).catch(() => {});
      temporaries.delete(temporary);
    },
  };
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
    await pipeline([...stages, stdoutSink()] as NodeJS.ReadWriteStream[], { signal: interrupted });
    return;
  }
  const file = await pendingFile(output.path);
  const where = `writing ${output.path}`;
  try {
    await pipeline([...stages, file.stream] as NodeJS.ReadWriteStream[], { signal: interrupted });
  } catch (err) {
    await file.discard();
    throw err;
  }
  try {
    // a full disk can show only now, when the file system flushes (fsync) or closes the file
    await file.commit();
  } catch (err) {
    await file.discard();
    throw outputError(err, where, 'nothing was left behind');
  }
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
  if (input.kind === 'stdio') return { stream: process.stdin, size: undefined, name: '-' };
  const info = await statInput(input.path);
  if (info.isDirectory()) {
    throw usage(
      `${input.path} is a folder`,
      'use cp --recursive, or an archive: tar c FOLDER | sealstream encrypt ...',
    );
  }
  return {
    stream: createReadStream(input.path, { highWaterMark: 1 << 20 }),
    size: info.isFile() ? info.size : undefined,
    name: input.path,
  };
}

/** `stat` with a not-found exit code. */
export async function statInput(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    throw new CliError(
      code === 'ENOENT' ? EXIT.NOT_FOUND : EXIT.ERROR,
      `${path}: ${code === 'ENOENT' ? 'no such file or folder' : code}`,
      {
        cause,
      },
    );
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
export function refuseBinaryToTerminal(output: { kind: string }, what: string): void {
  if (output.kind === 'stdio' && process.stdout.isTTY) {
    throw usage(
      `refusing to write ${what} to a terminal`,
      'use -o FILE or redirect stdout to a file or a pipe',
    );
  }
}
