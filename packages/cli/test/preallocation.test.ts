/**
 * Disk space reserved for a large output (preallocation.ts, pending.ts): the file holds exactly what
 * was written whatever was reserved, and nothing reserved is left past its end once committed.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAddon } from '../src/native-addon.ts';
import { pendingFile } from '../src/pending.ts';
import { preallocate } from '../src/preallocation.ts';
import { filesIn, tempDir } from './helpers.ts';

const MiB = 1 << 20;
/** Bytes the file system allocated for `path`. */
const allocated = (path: string) => statSync(path).blocks * 512;

describe('preallocate', () => {
  it('reserves blocks without changing the size, on this file system (ext4 or tmpfs)', () => {
    const path = join(tempDir(), 'reserved');
    const fd = openSync(path, 'w');
    try {
      expect(preallocate(fd, 8 * MiB)).toBe(nativeAddon() !== undefined);
      expect(statSync(path).size).toBe(0);
      if (nativeAddon() !== undefined) expect(allocated(path)).toBeGreaterThanOrEqual(8 * MiB);
      writeSync(fd, Buffer.alloc(1000, 1));
      expect(statSync(path).size).toBe(1000);
    } finally {
      closeSync(fd);
    }
  });

  it('is false, never a throw, where it cannot: a character device, a closed descriptor, a bad size', () => {
    const fd = openSync('/dev/null', 'w');
    expect(preallocate(fd, MiB)).toBe(false);
    closeSync(fd);
    expect(preallocate(fd, MiB)).toBe(false);
    expect(preallocate(1, 0)).toBe(false);
    expect(preallocate(1, Number.NaN)).toBe(false);
  });
});

describe('an output file with space reserved', () => {
  for (const [what, reserve, size] of [
    ['more reserved than written', 16 * MiB, 3 * MiB + 5],
    ['less reserved than written', MiB, 3 * MiB + 5],
    ['nothing written', 4 * MiB, 0],
  ] as const) {
    it(`${what}: exactly the bytes written, no reserved block left past the end`, async () => {
      const dir = tempDir();
      const path = join(dir, 'out.bin');
      const file = await pendingFile(path, { writerThread: 256 * 1024, reserve });
      const bytes = randomBytes(size);
      for (let at = 0; at < size; at += 300_000) await file.write(bytes.subarray(at, at + 300_000));
      await file.commit();
      expect(readFileSync(path).equals(bytes)).toBe(true);
      // whole blocks of the data, plus at most a few of the file system's own
      expect(allocated(path)).toBeLessThanOrEqual(Math.ceil(size / 4096) * 4096 + 64 * 1024);
      expect(filesIn(dir)).toEqual(['out.bin']);
    });
  }

  it('a discarded one leaves nothing behind', async () => {
    const dir = tempDir();
    const file = await pendingFile(join(dir, 'out.bin'), { writerThread: 256 * 1024, reserve: 16 * MiB });
    await file.write(randomBytes(1000));
    await file.discard();
    expect(filesIn(dir)).toEqual([]);
  });
});
