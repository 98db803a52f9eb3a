/**
 * Byte ranges. Numbers follow sealstream's one convention, as in core: `[start, end)`, `end`
 * EXCLUSIVE (`{ start: 0, end: 1 }` is one byte). HTTP's text form (RFC 9110 §14.1.2: `bytes=a-b`
 * with `b` inclusive, `bytes=a-`, `bytes=-n`) is accepted from callers and written to requests,
 * and is converted to and from numbers only here.
 * @module
 */
import { SosError } from './errors.ts';

/**
 * A byte range asked for by a caller: HTTP text (`bytes=0-99` is the first 100 bytes, `bytes=100-`,
 * `bytes=-100` the last 100), or `{ start, end? }` with `end` EXCLUSIVE (`{ start: 0, end: 100 }` is
 * the first 100 bytes; no `end`: to the end of the object).
 */
export type RangeInput = string | { start: number; end?: number };

/** A validated range, before the object size is known: `[start, end)` (no `end`: to the end), or the last `suffix` bytes. */
export type ParsedRange = { start: number; end?: number } | { suffix: number };

/** A satisfiable range resolved against an object size: `[start, end)`, `end` exclusive, never past the size. */
export interface ResolvedRange {
  start: number;
  end: number;
}

/**
 * Parses and validates a range.
 * @throws {SosError} `INVALID_ARGUMENT` for malformed input: several ranges, a negative or fractional
 *   number, an empty range (`{ start: 5, end: 5 }` or `bytes=-0` asks for nothing; one byte is
 *   `{ start: 5, end: 6 }`), or a reversed one.
 */
export function parseRange(input: RangeInput): ParsedRange {
  if (typeof input === 'string') {
    const m = /^bytes=(\d*)-(\d*)$/.exec(input.trim());
    if (!m || (m[1] === '' && m[2] === '')) {
      throw new SosError(
        'INVALID_ARGUMENT',
        `"range" expected bytes=a-b, bytes=a- or bytes=-n (one range), got ${JSON.stringify(input)}`,
      );
    }
    if (m[1] === '') {
      const suffix = toInt(m[2]!, 'suffix length');
      // sent as it is, some stores (Ceph RGW) answer it with the whole object
      if (suffix === 0) {
        throw new SosError(
          'INVALID_ARGUMENT',
          `"range" ${input.trim()} asks for the last 0 bytes, an empty range: the last byte is bytes=-1`,
        );
      }
      return { suffix };
    }
    const start = toInt(m[1]!, 'start');
    if (m[2] === '') return { start };
    const last = toInt(m[2]!, 'end');
    if (last < start) {
      throw new SosError(
        'INVALID_ARGUMENT',
        `"range" ${input.trim()}: the last byte ${last} is before the first ${start}`,
      );
    }
    // HTTP names the last byte; ranges here end one past it
    return { start, end: toInt(String(last + 1), 'end') };
  }
  if (typeof input !== 'object' || input === null || !Number.isSafeInteger(input.start) || input.start < 0) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"range.start" expected a non-negative integer, got ${JSON.stringify(input)}`,
    );
  }
  if (input.end === undefined) return { start: input.start };
  if (!Number.isSafeInteger(input.end)) {
    throw new SosError('INVALID_ARGUMENT', `"range.end" expected an integer (exclusive), got ${input.end}`);
  }
  if (input.end <= input.start) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"range" { start: ${input.start}, end: ${input.end} } is empty or reversed: end is exclusive, so one byte at ${input.start} is { start: ${input.start}, end: ${input.start + 1} }`,
    );
  }
  return { start: input.start, end: input.end };
}

/**
 * Resolves a range against an object size, as a server would: an `end` past the size is clamped
 * to it.
 * @throws {SosError} `RANGE_NOT_SATISFIABLE` when no byte of the object is in the range (HTTP 416):
 *   a start at or past the size, an empty suffix, any range of an empty object.
 */
export function resolveRange(range: ParsedRange, size: number): ResolvedRange {
  if ('suffix' in range) {
    if (range.suffix === 0 || size === 0) throw notSatisfiable(range, size);
    return { start: Math.max(0, size - range.suffix), end: size };
  }
  if (range.start >= size) throw notSatisfiable(range, size);
  return { start: range.start, end: Math.min(range.end ?? size, size) };
}

/** The HTTP `Range` header value of a range (the only place its inclusive end is written). */
export function rangeHeader(range: ParsedRange): string {
  if ('suffix' in range) return `bytes=-${range.suffix}`;
  return `bytes=${range.start}-${range.end === undefined ? '' : range.end - 1}`;
}

/** The HTTP `Range` header value for the bytes `[start, end)` (`end` > `start`). */
export function bytesHeader(start: number, end: number): string {
  return rangeHeader({ start, end });
}

/**
 * Parses a `Content-Range: bytes a-b/size` response header into `[start, end)` (`end` = b + 1)
 * and the object's size (undefined for `*`).
 */
export function parseContentRange(
  text: string | undefined,
): (ResolvedRange & { size: number | undefined }) | undefined {
  const m = text === undefined ? null : /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(text.trim());
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]) + 1, size: m[3] === '*' ? undefined : Number(m[3]) };
}

/** The error for a range past the end of an object. */
export function notSatisfiable(range: ParsedRange, size: number | undefined, cause?: unknown): SosError {
  return new SosError(
    'RANGE_NOT_SATISFIABLE',
    `range ${describeRange(range)} is not satisfiable: the object has ${size ?? 'fewer'} bytes`,
    cause === undefined ? undefined : { cause },
  );
}

/** A range in words, `[start, end)` as everywhere in sealstream. */
function describeRange(range: ParsedRange): string {
  if ('suffix' in range) return `of the last ${range.suffix} bytes`;
  return `[${range.start}, ${range.end ?? 'end'})`;
}

function toInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n))
    throw new SosError('INVALID_ARGUMENT', `"range" ${what} is too large: ${text}`);
  return n;
}
