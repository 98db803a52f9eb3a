/**
 * Local input and output. Output files are written under a temporary name in the same folder and
 * renamed into place only once complete (and, for decryption, authenticated), so an interrupted
 * or failed run never leaves something that looks complete. Interruption (SIGINT, SIGTERM) aborts
 * one shared signal; work stops, temporary files are removed, and the run exits 130 or 143.
 * @module
 */
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, EXIT, outputError, usage } from './exit.ts';
import { pendingFile, removeTemporariesSync } from './pending.ts';
import type { Progress } from './report.ts';
import { stdoutSink } from './stdout.ts';

const interrupt = new AbortController();
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
