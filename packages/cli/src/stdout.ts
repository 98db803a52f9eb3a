/**
 * Standard output as the end of a pipeline, and the wait for it before the process exits.
 *
 * When stdout is a pipe and its reader is slower than us (`| dd bs=4096`), Node queues the write
 * and `process.stdout.write()` returns at once; `process.exit()` then drops the queue, and the
 * run "succeeds" with its last bytes missing. So every chunk here is released only once the
 * operating system has taken it, the process waits for the queue to empty before it exits, and a
 * write that fails (EPIPE, ENOSPC, EIO) becomes a {@link CliError} with exit code `OUTPUT`
 * instead of an `error` event nobody listens to.
 *
 * When stdout is a file (`> out`), Node writes it with one `write(2)` per chunk and ignores a
 * short count: on a nearly full disk the end of a chunk is dropped without an error. So files
 * (and devices) are written here directly, looping until every byte is taken.
 * @module
 */
import { fstatSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { deliveredNote, deliveringTo, kindOf } from './delivered.ts';
import { type CliError, outputError } from './exit.ts';

let failure: CliError | undefined;
let written = 0;
let started = false;

/** What a failed stdout write leaves behind, for the message. */
function leftBehind(): string {
  // a chunk that failed may have gone out in part, so only a lower bound is known
  return deliveredNote() ?? 'the output is incomplete';
}

/** Records the first write of output to stdout, which no failure can take back (`delivered.ts`). */
function noteStarted(): void {
  if (started) return;
  started = true;
  let kind: string | undefined;
  try {
    kind = kindOf(fstatSync(1), process.stdout.isTTY === true);
  } catch {
    kind = undefined;
  }
  deliveringTo('stdout', kind, () => written);
}

/**
 * Installs the error listeners of stdout and stderr. A stdout error is kept and reported when
 * the run ends; a stderr error is dropped (there is nowhere left to say it; the exit code tells).
 */
export function watchStandardStreams(): void {
  process.stdout.on('error', (err) => {
    failure ??= outputError(err, 'writing to stdout', leftBehind());
  });
  process.stderr.on('error', () => {});
}

let direct: boolean | undefined;

/** True when stdout is a file or a device: not a pipe, a socket or a terminal. */
function stdoutIsFile(): boolean {
  if (direct === undefined) {
    try {
      const info = fstatSync(1);
      direct = !process.stdout.isTTY && !info.isFIFO() && !info.isSocket();
    } catch {
      direct = false;
    }
  }
  return direct;
}

/** Writes all of `bytes` to the file or device on fd 1, however many `write(2)` calls it takes. */
function writeAllSync(bytes: Uint8Array, output: boolean): void {
  for (let offset = 0; offset < bytes.byteLength; ) {
    const n = writeSync(1, bytes, offset, bytes.byteLength - offset);
    offset += n;
    if (output) written += n;
  }
}

/**
 * Writes to stdout; resolves once the operating system has taken the bytes.
 * @param output - False for a run's result or answer (a whole `--json` line, `inspect`'s text):
 *   complete in itself, so a failure after it is not one of output left incomplete on stdout.
 */
export function writeStdout(chunk: Uint8Array | string, output = true): Promise<void> {
  return new Promise((resolve, reject) => {
    if (failure) return reject(failure);
    if (chunk.length > 0 && output) noteStarted();
    if (stdoutIsFile()) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      try {
        writeAllSync(bytes, output);
      } catch (err) {
        failure ??= outputError(err, 'writing to stdout', leftBehind());
        return reject(failure);
      }
      return resolve();
    }
    process.stdout.write(chunk, (err) => {
      if (err) {
        failure ??= outputError(err, 'writing to stdout', leftBehind());
        reject(failure);
      } else {
        if (output) written += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
        resolve();
      }
    });
  });
}

/**
 * Writes to stdout without waiting: for output written a piece at a time (`uploads ls`). A
 * failure is kept and reported by {@link drainStdout} when the run ends.
 */
export function queueStdout(text: string): void {
  writeStdout(text).catch(() => {});
}

/**
 * Writes a run's result or answer to stdout without waiting: one whole `--json` line or
 * `inspect`'s text. Not counted as output delivered (`delivered.ts`): a run that fails after it
 * (`cp -r` with some copies failed prints its summary, then its error) has not left it incomplete.
 */
export function queueResult(text: string): void {
  writeStdout(text, false).catch(() => {});
}

/**
 * Stdout as a pipeline end. Each chunk is acknowledged only when written, so a pipeline that
 * resolves has delivered every byte. The sink does not end stdout (a `--json` line may follow).
 */
export function stdoutSink(): Writable {
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      writeStdout(chunk).then(() => callback(), callback);
    },
  });
}

/**
 * Waits until everything written to stdout (by any writer: sinks, results, `--json`) has been
 * taken by the operating system.
 * @throws {CliError} `OUTPUT` when a write to stdout failed at any point of the run.
 */
export async function drainStdout(): Promise<void> {
  await writeStdout('');
}

/** Waits until stderr's queued messages are written; never fails. */
export function drainStderr(): Promise<void> {
  return new Promise((resolve) => process.stderr.write('', () => resolve()));
}
