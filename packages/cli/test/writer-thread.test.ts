/** The writer thread of large output files: order, bounded ring, and failures with their system code. */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ThreadedWriter } from '../src/writer-thread.ts';
import { tempDir } from './helpers.ts';

const SLOT = 64 * 1024;

describe('ThreadedWriter', () => {
  it('writes every block in order, also blocks larger than a slot, from a reused buffer', async () => {
    const path = join(tempDir(), 'out');
    const fd = openSync(path, 'w');
    const writer = new ThreadedWriter(fd, SLOT);
    const expected: Buffer[] = [];
    // one buffer reused for every block, as the file loops do: write() must have copied it
    const buffer = Buffer.alloc(3 * SLOT + 5);
    for (const size of [0, 1, SLOT - 1, SLOT, SLOT + 1, 3 * SLOT + 5, ...Array(40).fill(SLOT)]) {
      const block = buffer.subarray(0, size);
      randomBytes(size).copy(block);
      expected.push(Buffer.from(block));
      writer.write(block);
    }
    await writer.drain();
    closeSync(fd);
    expect(readFileSync(path).equals(Buffer.concat(expected))).toBe(true);
  });

  it('a failed write (ENOSPC on /dev/full) is thrown by a later write or by drain, with its code', async () => {
    const fd = openSync('/dev/full', 'w');
    const writer = new ThreadedWriter(fd, SLOT);
    let failure: unknown;
    try {
      // more than the ring holds: write() has to wait for the thread, and sees its failure
      for (let i = 0; i < 100; i++) writer.write(Buffer.alloc(SLOT, i));
      await writer.drain();
    } catch (err) {
      failure = err;
    }
    closeSync(fd);
    expect(failure).toMatchObject({ code: 'ENOSPC', syscall: 'write' });
    // and it stays failed
    expect(() => writer.write(Buffer.alloc(1))).toThrow(/ENOSPC/);
    await expect(writer.drain()).rejects.toMatchObject({ code: 'ENOSPC' });
  });

  it('blocks made in place in the ring (slot, then commit) are written in order; only what is committed', async () => {
    const path = join(tempDir(), 'in-place');
    const fd = openSync(path, 'w');
    const writer = new ThreadedWriter(fd, SLOT);
    const expected: Buffer[] = [];
    // more blocks than slots, so that slots are lent again after the thread wrote them
    for (const [i, size] of [0, 1, SLOT - 1, SLOT, ...Array(30).fill(SLOT / 2)].entries()) {
      const slot = writer.slot();
      expect(slot.length).toBe(SLOT);
      // the whole slot is filled; only the committed bytes may reach the file
      slot.fill(0xee);
      const block = randomBytes(size);
      block.copy(slot);
      expected.push(block);
      writer.commit(size);
      // and copied blocks between them keep their place
      if (i % 7 === 3) {
        const copied = randomBytes(100);
        writer.write(copied);
        expected.push(copied);
      }
    }
    await writer.drain();
    closeSync(fd);
    expect(readFileSync(path).equals(Buffer.concat(expected))).toBe(true);
  });

  it('commit() needs a slot from slot(), and at most a slot of bytes', async () => {
    const path = join(tempDir(), 'misuse');
    const fd = openSync(path, 'w');
    const writer = new ThreadedWriter(fd, SLOT);
    expect(() => writer.commit(1)).toThrow(/without a slot/);
    writer.slot();
    expect(() => writer.commit(SLOT + 1)).toThrow(RangeError);
    expect(() => writer.commit(-1)).toThrow(RangeError);
    writer.commit(0);
    expect(() => writer.commit(0)).toThrow(/without a slot/);
    await writer.drain();
    closeSync(fd);
    expect(readFileSync(path).length).toBe(0);
  });

  it('a failed write is thrown by slot() too (ENOSPC), not hidden until drain', async () => {
    const fd = openSync('/dev/full', 'w');
    const writer = new ThreadedWriter(fd, SLOT);
    let failure: unknown;
    try {
      for (let i = 0; i < 100; i++) {
        writer.slot().fill(i);
        writer.commit(SLOT);
      }
    } catch (err) {
      failure = err;
    }
    await expect(writer.drain()).rejects.toMatchObject({ code: 'ENOSPC' });
    closeSync(fd);
    expect(failure).toMatchObject({ code: 'ENOSPC', syscall: 'write' });
  });

  it('a bad descriptor fails as EBADF, not as a hang', async () => {
    const writer = new ThreadedWriter(1_000_000, SLOT);
    writer.write(Buffer.alloc(10));
    await expect(writer.drain()).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('stop() ends the thread with blocks still queued', async () => {
    const path = join(tempDir(), 'stopped');
    const fd = openSync(path, 'w');
    const writer = new ThreadedWriter(fd, SLOT);
    for (let i = 0; i < 4; i++) writer.write(Buffer.alloc(SLOT, i));
    await writer.stop();
    closeSync(fd);
    expect(readFileSync(path).length).toBeLessThanOrEqual(4 * SLOT);
  });
});
