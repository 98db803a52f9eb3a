// Inputs and sinks shared by the families: random data, web-stream sources and checking sinks, files
// and their hashes.

import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { MiB } from './context.ts';

/** Random bytes; filled in slices because one `randomFillSync` call is capped below 2 GiB. */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let off = 0; off < length; off += 64 * MiB) {
    randomFillSync(out, off, Math.min(64 * MiB, length - off));
  }
  return out;
}

/** Views of `data` of `size` bytes each (the last may be shorter); no copies. */
export function slices(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += size) out.push(data.subarray(off, off + size));
  return out;
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** A web stream of the given chunks, pulled one at a time. */
export function sourceOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (i < chunks.length) controller.enqueue(chunks[i++]!);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

/** A sink that only counts; `bytes()` is the total once the pipe has settled. */
export function countingSink(): { sink: WritableStream<Uint8Array>; bytes: () => number } {
  let n = 0;
  return {
    sink: new WritableStream<Uint8Array>({
      write(chunk) {
        n += chunk.byteLength;
      },
    }),
    bytes: () => n,
  };
}

/**
 * Reads `readable` to its end with a BYOB reader that lends one buffer of `size` bytes for every read
 * (a byte stream's readable side, as the core's Node-path streams have); returns the bytes read.
 */
export async function countByob(readable: ReadableStream<Uint8Array>, size: number): Promise<number> {
  const reader = readable.getReader({ mode: 'byob' });
  let buffer = new Uint8Array(size);
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read(buffer);
    if (done) return n;
    n += value.byteLength;
    buffer = new Uint8Array(value.buffer as ArrayBuffer);
  }
}

export function collectingSink(): { sink: WritableStream<Uint8Array>; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  return {
    sink: new WritableStream<Uint8Array>({
      write(chunk) {
        chunks.push(chunk);
      },
    }),
    chunks,
  };
}

/**
 * A sink that checks the stream it receives is exactly `expected`, compared chunk by chunk as it
 * arrives, so nothing is buffered. `period` lets a short `expected` stand for itself repeated.
 */
export function checkingSink(
  expected: Uint8Array,
  totalLength: number,
  label: string,
): WritableStream<Uint8Array> {
  let offset = 0;
  const fail = (what: string) => new Error(`${label}: output differs from the input ${what}`);
  return new WritableStream<Uint8Array>({
    write(chunk) {
      let pos = 0;
      while (pos < chunk.length) {
        const at = offset % expected.length;
        const n = Math.min(chunk.length - pos, expected.length - at);
        if (offset + n > totalLength) throw fail(`: more than ${totalLength} bytes`);
        if (Buffer.compare(chunk.subarray(pos, pos + n), expected.subarray(at, at + n)) !== 0) {
          throw fail(`at some byte in [${offset}, ${offset + n})`);
        }
        pos += n;
        offset += n;
      }
    },
    close() {
      if (offset !== totalLength) throw fail(`: ${offset} bytes instead of ${totalLength}`);
    },
  });
}

/** Writes `length` random bytes to `path`, a few MiB at a time. */
export async function writeRandomFile(path: string, length: number): Promise<void> {
  const piece = 16 * MiB;
  async function* generate() {
    for (let off = 0; off < length; off += piece) yield randomBytes(Math.min(piece, length - off));
  }
  await pipeline(generate, createWriteStream(path));
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The peak RSS of this process since it started, in bytes: VmHWM of /proc/self/status on Linux.
 * Not `process.resourceUsage().maxRSS`: Linux carries the parent's RSS at fork into the child's
 * maxRSS across exec, so a child spawned by a large parent reports the parent's size.
 */
export function peakRssBytes(): number {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib !== undefined) return Number(kib) * 1024;
  } catch {
    // not Linux: the rusage figure is the best there is
  }
  return process.resourceUsage().maxRSS * 1024;
}
