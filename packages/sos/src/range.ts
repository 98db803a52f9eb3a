/**
 * Byte ranges with HTTP semantics (RFC 9110 §14.1.2): `bytes=a-b`, `bytes=a-`, `bytes=-n`.
 * @module
 */
import { SosError } from './errors.ts';

/**
 * Bytes asked for by the first GET of a sealed object (S3 or presigned). Core's reader opens a
 * header from its first 4 KiB, but a round trip costs more than 60 KiB on any link: 64 KiB at once
 * serves the header of any object and the whole of a small one from one request; the byte source
 * keeps these bytes and answers later reads inside them itself.
 */
export const FIRST_GET = 64 * 1024;

/** A byte range: HTTP text (`bytes=0-99`, `bytes=100-`, `bytes=-100`) or `{ start, end? }` with `end` inclusive. */
export type RangeInput = string | { start: number; end?: number };

/** A parsed range, before the object size is known. */
export type ByteRange = { start: number; end?: number } | { suffix: number };

/** A satisfiable range resolved against an object size: `start..end` inclusive. */
export interface ResolvedRange {
  start: number;
  end: number;
}

/**
 * Parses and validates a range.
 * @throws {SosError} `INVALID_ARGUMENT` for malformed input (several ranges, end before start, ...).
 */
export function parseRange(input: RangeInput): ByteRange {
  if (typeof input === 'string') {
    const m = /^bytes=(\d*)-(\d*)$/.exec(input.trim());
    if (!m || (m[1] === '' && m[2] === '')) {
      throw new SosError(
        'INVALID_ARGUMENT',
        `"range" expected bytes=a-b, bytes=a- or bytes=-n (one range), got ${JSON.stringify(input)}`,
      );
    }
    if (m[1] === '') return { suffix: toInt(m[2]!, 'suffix length') };
    const start = toInt(m[1]!, 'start');
    return m[2] === '' ? { start } : checkOrder(start, toInt(m[2]!, 'end'));
  }
  if (typeof input !== 'object' || input === null || !Number.isSafeInteger(input.start) || input.start < 0) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"range.start" expected a non-negative integer, got ${JSON.stringify(input)}`,
    );
  }
  if (input.end === undefined) return { start: input.start };
  if (!Number.isSafeInteger(input.end)) {
    throw new SosError('INVALID_ARGUMENT', `"range.end" expected an integer (inclusive), got ${input.end}`);
  }
  return checkOrder(input.start, input.end);
}

/**
 * Resolves a range against an object size, as a server would: `end` is clamped to the last byte.
 * @throws {SosError} `RANGE_NOT_SATISFIABLE` when no byte of the object is in the range (HTTP 416).
 */
export function resolveRange(range: ByteRange, size: number): ResolvedRange {
  if ('suffix' in range) {
    if (range.suffix === 0 || size === 0) throw notSatisfiable(range, size);
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  if (range.start >= size) throw notSatisfiable(range, size);
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}

/** The HTTP `Range` header value of a range. */
export function rangeHeader(range: ByteRange): string {
  return 'suffix' in range ? `bytes=-${range.suffix}` : `bytes=${range.start}-${range.end ?? ''}`;
}

/** Parses a `Content-Range: bytes a-b/size` response header. */
export function parseContentRange(
  text: string | undefined,
): (ResolvedRange & { size: number | undefined }) | undefined {
  const m = text === undefined ? null : /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(text.trim());
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), size: m[3] === '*' ? undefined : Number(m[3]) };
}

/** The error for a range past the end of an object. */
export function notSatisfiable(range: ByteRange, size: number | undefined, cause?: unknown): SosError {
  return new SosError(
    'RANGE_NOT_SATISFIABLE',
    `range ${rangeHeader(range)} is not satisfiable: the object has ${size ?? 'fewer'} bytes`,
    cause === undefined ? undefined : { cause },
  );
}

function toInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n))
    throw new SosError('INVALID_ARGUMENT', `"range" ${what} is too large: ${text}`);
  return n;
}

function checkOrder(start: number, end: number): ByteRange {
  if (end < start) throw new SosError('INVALID_ARGUMENT', `"range" end ${end} is before start ${start}`);
  return { start, end };
}
