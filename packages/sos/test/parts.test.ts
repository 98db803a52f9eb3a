import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createSealer, decrypt, generateKey } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { PartReader, SealingPartReader } from '../src/parts.ts';

const aborted = () => new Error('aborted');

/** `data` as a stream of pieces of the given sizes, cycling. */
function streamOf(data: Uint8Array, sizes: number[]): Readable {
  const pieces: Uint8Array[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    pieces.push(data.slice(at, at + n));
    at += n;
  }
  return Readable.from(pieces, { objectMode: false });
}

/** Reads every part, copying each (the reader reuses a part's buffer once it is released). */
async function readAll(reader: PartReader | SealingPartReader, size: number): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const part = await reader.read(size);
    if (part.length === 0) return parts;
    parts.push(part.slice());
    reader.release(part);
    if (part.length < size) return parts;
  }
}

describe('SealingPartReader', () => {
  const plainSizes = [0, 1, 16383, 16384, 16385, 64 * 16384, 64 * 16384 + 1, 3 * 1024 * 1024 + 7];
  const partSizes = [16399, 16400, 16401, 100_000, 1024 * 1024];
  for (const plainSize of plainSizes) {
    it(`seals ${plainSize} bytes into parts that decrypt to them, at every part size`, async () => {
      const data = new Uint8Array(randomBytes(plainSize));
      const key = generateKey();
      for (const partSize of partSizes) {
        const sealing = await createSealer({ recipients: [key], identity: 'b/k' });
        let counted = 0;
        const reader = new SealingPartReader(
          streamOf(data, [1000, 70_000, 16384, 5]),
          sealing,
          (n) => (counted += n),
          undefined,
          aborted,
        );
        const parts = await readAll(reader, partSize);
        // every part but the last is full
        for (const part of parts.slice(0, -1)) expect(part.length).toBe(partSize);
        const sealed = Buffer.concat(parts);
        const opened = await decrypt(sealed, { keys: [key], identity: 'b/k' });
        expect(Buffer.compare(opened, data)).toBe(0);
        expect(counted).toBe(plainSize);
        expect(await reader.read(partSize)).toHaveLength(0);
      }
    });
  }

  it('fails with the stop reason once cancelled, also while a read waits', async () => {
    const sealing = await createSealer({ recipients: [generateKey()] });
    const stalled = new Readable({ read() {} });
    const reader = new SealingPartReader(stalled, sealing, () => {}, undefined, aborted);
    const pending = reader.read(1024 * 1024);
    reader.cancel(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    await expect(reader.read(1024 * 1024)).rejects.toThrow('stop');
  });
});

describe('PartReader', () => {
  it('cuts a stream into parts of the sizes asked for, reusing released buffers', async () => {
    const data = new Uint8Array(randomBytes(5 * 100_000 + 3));
    const reader = new PartReader(streamOf(data, [7000, 33_333]), undefined, aborted);
    const first = await reader.read(100_000);
    const firstCopy = first.slice();
    reader.release(first);
    const second = await reader.read(100_000);
    // the released buffer came back
    expect(second.buffer).toBe(first.buffer);
    const rest = await readAll(reader, 100_000);
    expect(Buffer.compare(Buffer.concat([firstCopy, second, ...rest]), data)).toBe(0);
  });

  it('does not take a part of bytes given whole into its pool', async () => {
    const data = new Uint8Array(randomBytes(300));
    const reader = new PartReader(data, undefined, aborted);
    const first = await reader.read(100);
    reader.release(first);
    const second = await reader.read(100);
    expect(second.byteOffset).toBe(100);
    expect(Buffer.compare(data.subarray(0, 100), first)).toBe(0);
  });
});
