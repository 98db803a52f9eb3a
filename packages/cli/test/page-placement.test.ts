/**
 * Where the file loops put the bytes the kernel copies (page-placement.ts): every read lands, and
 * every block given to the writer thread is made, at the page offset of its file position, as the
 * addon reports addresses; without the addon, the buffers are used from their start as before. The
 * bytes themselves are those of `encrypt()` (sealing.test.ts, local.test.ts).
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CHUNK_SIZE, decrypt, encrypt, generateKey } from '@sealstream/core';
import type { NativeLoad } from '@sealstream/native';
import { describe, expect, it } from 'vitest';
import { nativePageOffset, PAGE, PlacedBuffer, placement } from '../src/page-placement.ts';
import { LOOP_CHUNKS, LOOP_WRITE_BYTES, openLoop, sealLoop } from '../src/sealing.ts';
import { ThreadedWriter } from '../src/writer-thread.ts';
import { tempDir } from './helpers.ts';

const native = (createRequire(import.meta.url)('@sealstream/native') as { load(): NativeLoad }).load();
const pageOffset = native.addon?.pageOffset;
const key = generateKey();
const BLOCK = LOOP_CHUNKS * CHUNK_SIZE;

describe('placement', () => {
  it('skips 0 to 4095 bytes so that the view starts at the position page offset', () => {
    for (const base of [0, 1, 16, 2048, 4080, 4095]) {
      for (const position of [0, 1, 15, 16, 4095, 4096, 4097, 262_400 * 3 + 171, 2 ** 40 + 5]) {
        const skip = placement(base, position);
        expect(skip).toBeGreaterThanOrEqual(0);
        expect(skip).toBeLessThan(PAGE);
        expect((base + skip) % PAGE).toBe(position % PAGE);
      }
    }
  });

  it('without addresses (no addon), views start at the buffer start and no slack is taken', () => {
    const placed = new PlacedBuffer(100, undefined);
    expect(PlacedBuffer.storageFor(100, undefined)).toBe(100);
    for (const position of [0, 16, 5000]) {
      const view = placed.at(position);
      expect(view.byteOffset).toBe(0);
      expect(view.length).toBe(100);
    }
  });

  it('refuses storage too small for the slack', () => {
    expect(() => new PlacedBuffer(100, () => 0, new Uint8Array(100 + PAGE - 1))).toThrow(RangeError);
  });
});

describe.runIf(pageOffset !== undefined)('with the addon', () => {
  const offsetOf = pageOffset as (bytes: Uint8Array) => number;

  it('is what the loops use', () => {
    expect(nativePageOffset()).toBe(pageOffset);
  });

  it('a placed view starts at the page offset of the position it is for', () => {
    const placed = new PlacedBuffer(BLOCK, offsetOf);
    for (const position of [0, 1, 16, 100, 4095, 262_144, 262_400, 262_400 * 5 + 193]) {
      const view = placed.at(position);
      expect(view.length).toBe(BLOCK);
      expect(offsetOf(view)).toBe(position % PAGE);
    }
  });

  /** A file read as the loops read one: in order, recording each destination's page offset and position. */
  function placedReader(bytes: Uint8Array) {
    let at = 0;
    const seen: { offset: number; position: number }[] = [];
    return {
      read: async (into: Uint8Array) => {
        seen.push({ offset: offsetOf(into), position: at });
        const n = Math.min(into.length, bytes.length - at);
        into.set(bytes.subarray(at, at + n));
        at += n;
        return n;
      },
      seen,
    };
  }

  it('sealLoop reads each block at its file position page offset, and seals the same bytes', async () => {
    const plain = new Uint8Array(3 * BLOCK + 12_345).map((_, i) => i * 7);
    const file = placedReader(plain);
    const parts: Buffer[] = [];
    const counts = { read: () => {}, wrote: () => {} };
    await sealLoop(
      file.read,
      async (b) => void parts.push(Buffer.from(b)),
      { recipients: key },
      counts,
      new AbortController().signal,
    );
    expect(file.seen.length).toBe(4);
    for (const { offset, position } of file.seen) expect(offset).toBe(position % PAGE);
    const back = await decrypt(Buffer.concat(parts), { keys: [key] });
    expect(Buffer.from(back).equals(plain)).toBe(true);
  });

  it('openLoop reads the blocks after the header at their positions page offsets (not page-aligned)', async () => {
    const plain = new Uint8Array(4 * BLOCK + 99).map((_, i) => i * 13);
    const sealed = await encrypt(plain, { recipients: key });
    const file = placedReader(sealed);
    const parts: Buffer[] = [];
    await openLoop(
      file.read,
      async (b) => void parts.push(Buffer.from(b)),
      { keys: [key] },
      () => {},
      { read: () => {}, wrote: () => {} },
      new AbortController().signal,
    );
    expect(Buffer.concat(parts).equals(plain)).toBe(true);
    // the header's reads are small ones into core's buffers; the blocks after it are placed
    const blocks = file.seen.filter(({ position }) => position > 0);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const placedBlocks = blocks.filter(({ offset, position }) => offset === position % PAGE);
    expect(placedBlocks.length).toBeGreaterThanOrEqual(5);
    // the positions are not all page-aligned, so this is not a coincidence of aligned buffers
    expect(new Set(placedBlocks.map(({ position }) => position % PAGE)).size).toBeGreaterThan(1);
  });

  it('the writer thread lends each slot at the page offset of where its block goes, and writes the bytes in order', async () => {
    const path = join(tempDir(), 'placed');
    const fd = openSync(path, 'w');
    const writer = new ThreadedWriter(fd, LOOP_WRITE_BYTES, { position: 0, pageOffset: offsetOf });
    const expected: Buffer[] = [];
    let position = 0;
    // odd sizes, so that positions take many page offsets; more blocks than the ring has slots
    for (const [i, size] of [171, LOOP_WRITE_BYTES, 1, 262_400, 4095, ...Array(20).fill(262_400)].entries()) {
      const slot = writer.slot();
      expect(slot.length).toBe(LOOP_WRITE_BYTES);
      expect(offsetOf(slot)).toBe(position % PAGE);
      slot.fill(0xee);
      const block = Buffer.alloc(size, i + 1);
      block.copy(slot);
      expected.push(block);
      writer.commit(size);
      position += size;
    }
    // write() (a copy into the ring) goes through the same placed slots
    writer.write(Buffer.alloc(10_000, 0x55));
    expected.push(Buffer.alloc(10_000, 0x55));
    await writer.drain();
    closeSync(fd);
    expect(readFileSync(path).equals(Buffer.concat(expected))).toBe(true);
  });
});
