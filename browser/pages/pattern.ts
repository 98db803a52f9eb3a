/** Deterministic test bytes that a page and Node both generate, so neither has to ship them to the other. */

/** `length` pseudo-random bytes from `seed` (a 32-bit LCG: fast, reproducible, not random). */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Bytes of lowercase or uppercase hex. */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * A stream of `total` bytes: pattern(1 MiB, seed 7) over and over, in fresh 1 MiB chunks, one chunk
 * per pull, all made on the page's thread. (`File.stream()` in Chromium also hands out a fresh buffer
 * per chunk, but of 64 KiB to 2 MiB, read by other threads: the throughput page reads such a file too.)
 */
export function generated(total: number): ReadableStream<Uint8Array> {
  const template = pattern(1 << 20, 7);
  let sent = 0;
  return new ReadableStream(
    {
      pull(c) {
        if (sent >= total) return c.close();
        const n = Math.min(template.length, total - sent);
        c.enqueue(template.slice(0, n));
        sent += n;
      },
    },
    { highWaterMark: 0 },
  );
}

/** The key that the throughput page seals with and opens with (the harness seals its files with it too). */
export const PROBE_KEY = new Uint8Array(32).fill(1);
