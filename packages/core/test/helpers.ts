/** Shared test helpers: backends, stream plumbing, vector loading. */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BackendName } from '../src/index.ts';

/**
 * Every backend, the native addon included: a machine where it does not load fails those tests
 * rather than skipping them. Only when SEALSTREAM_BACKEND names another backend (the CI run with the
 * addon disabled) is native left out, so that nothing in that run touches it.
 */
const nativeOff = !!process.env.SEALSTREAM_BACKEND && process.env.SEALSTREAM_BACKEND !== 'native';
export const BACKENDS: BackendName[] = [
  ...(nativeOff ? [] : ['native' as const]),
  'node',
  'webcrypto',
  'noble',
];

export const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
export const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Deterministic pseudo-random bytes for test inputs. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Splits bytes into writes of `size` bytes (the last may be shorter). */
export function split(bytes: Uint8Array, size: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return parts;
}

export interface Outcome {
  output: Uint8Array;
  error: unknown;
}

/** Reads a readable side to its end, handing each chunk read to `take`. */
export type ReadAll = (
  readable: ReadableStream<Uint8Array>,
  take: (chunk: Uint8Array) => void,
) => Promise<void>;

/** A default reader, eager. */
const readAll: ReadAll = async (readable, take) => {
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    take(value);
  }
};

/**
 * Pushes `writes` through a transform with an eager reader (`read`: a default one unless given), and
 * returns everything that came out before the end or the error, and the error if any.
 */
export async function runTransform(
  ts: TransformStream<Uint8Array, Uint8Array>,
  writes: Uint8Array[],
  read: ReadAll = readAll,
): Promise<Outcome> {
  const received: Uint8Array[] = [];
  const reading = read(ts.readable, (chunk) => received.push(chunk.slice()));
  const writer = ts.writable.getWriter();
  let error: unknown;
  try {
    for (const w of writes) await writer.write(w);
    await writer.close();
  } catch (e) {
    error = e;
  }
  try {
    await reading;
  } catch (e) {
    error ??= e;
  }
  return { output: new Uint8Array(Buffer.concat(received)), error };
}

/** Runs a transform that must succeed and returns its output. */
export async function through(
  ts: TransformStream<Uint8Array, Uint8Array>,
  writes: Uint8Array[],
): Promise<Uint8Array> {
  const { output, error } = await runTransform(ts, writes);
  if (error) throw error;
  return output;
}

/** The Wycheproof folder next to the project (../shared/vectors), or undefined with the reason to skip. */
export function wycheproof(file: string): { json?: any; skip?: string } {
  const url = new URL(`../../../../shared/vectors/wycheproof/${file}`, import.meta.url);
  try {
    return { json: JSON.parse(readFileSync(url, 'utf8')) };
  } catch {
    return {
      skip: `Wycheproof vectors not found at ${url.pathname} (the shared/ folder sits beside the project in CI)`,
    };
  }
}
