/**
 * A local file as a byte source for core's reader (`openSealed`, `inspectSealed`): `cat --range`,
 * `inspect` and local `rekey` read just the bytes the reader asks for, through one file handle.
 * @module
 */
import { type FileHandle, open } from 'node:fs/promises';
import type { ByteSource } from '@sealstream/core';
import { CliError, EXIT } from './exit.ts';
import { statInput } from './io.ts';

/**
 * An open file read at positions. The size is taken once at open: a file that shrinks while being
 * read fails with a short read (core reports `TRUNCATED`) rather than returning fewer bytes.
 */
export class FileSource implements ByteSource {
  readonly size: number;
  readonly path: string;
  readonly #file: FileHandle;

  private constructor(path: string, file: FileHandle, size: number) {
    this.path = path;
    this.#file = file;
    this.size = size;
  }

  /**
   * Opens a regular file.
   * @throws {CliError} `NOT_FOUND` for a missing file; `USAGE` for a folder or a non-regular file.
   */
  static async open(path: string): Promise<FileSource> {
    const info = await statInput(path);
    if (!info.isFile()) {
      throw new CliError(EXIT.USAGE, `${path} is not a regular file: it cannot be read at random positions`);
    }
    const file = await open(path, 'r');
    return new FileSource(path, file, (await file.stat()).size);
  }

  /** Exactly the bytes `[start, end)`; fewer only if the file shrank (the reader rejects that). */
  async read(start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
    signal?.throwIfAborted();
    const bytes = new Uint8Array(end - start);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await this.#file.read(bytes, filled, bytes.length - filled, start + filled);
      if (bytesRead === 0) return bytes.subarray(0, filled);
      filled += bytesRead;
    }
    return bytes;
  }

  /** Closes the file. */
  close(): Promise<void> {
    return this.#file.close();
  }
}
