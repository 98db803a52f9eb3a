/**
 * The read loops' input file: a regular file read in order, whose end before the size it had when
 * opened (another process truncated it) is an error, not a shorter input sealed as if complete.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError, EXIT } from '../src/exit.ts';
import { openInputFile } from '../src/io.ts';
import { tempDir } from './helpers.ts';

const KiB = 1024;

async function opened(bytes: Uint8Array) {
  const path = join(tempDir(), 'input.bin');
  writeFileSync(path, bytes);
  const file = await openInputFile({ kind: 'local', path });
  if (file === undefined) throw new Error('a regular file was not opened for a read loop');
  return { path, file };
}

describe('openInputFile', () => {
  it('reads a file whole, then 0 bytes at its end', async () => {
    const data = randomBytes(300 * KiB);
    const { file } = await opened(data);
    const into = new Uint8Array(256 * KiB);
    expect(await file.read(into)).toBe(256 * KiB);
    expect(Buffer.from(into).equals(data.subarray(0, 256 * KiB))).toBe(true);
    expect(await file.read(into)).toBe(44 * KiB);
    expect(Buffer.from(into.subarray(0, 44 * KiB)).equals(data.subarray(256 * KiB))).toBe(true);
    expect(await file.read(into)).toBe(0);
    await file.close();
  });

  it('fails with exit 1, naming the sizes, when the file was truncated while being read', async () => {
    const { path, file } = await opened(randomBytes(1024 * KiB));
    const into = new Uint8Array(256 * KiB);
    expect(await file.read(into)).toBe(256 * KiB);
    truncateSync(path, 300 * KiB);
    const failure = await file.read(into).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(CliError);
    expect((failure as CliError).exitCode).toBe(EXIT.ERROR);
    expect((failure as CliError).message).toMatch(
      /shrank while it was being read: it ended after 307200 bytes, not the 1048576/,
    );
    await file.close();
  });

  it('reads what was appended while reading (a growing file ends where it ends)', async () => {
    const { path, file } = await opened(randomBytes(100 * KiB));
    appendFileSync(path, randomBytes(50 * KiB));
    const into = new Uint8Array(256 * KiB);
    expect(await file.read(into)).toBe(150 * KiB);
    await file.close();
  });
});
