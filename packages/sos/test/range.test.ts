import { describe, expect, it } from 'vitest';
import { choosePartSize, parseRange, resolveRange, SosError } from '../src/index.ts';
import { parseContentRange, rangeHeader } from '../src/range.ts';

const MiB = 1024 * 1024;

describe('ranges: numbers are [start, end), HTTP text is converted at the edge', () => {
  it('parses the three HTTP forms into [start, end)', () => {
    expect(parseRange('bytes=0-9')).toEqual({ start: 0, end: 10 });
    expect(parseRange('bytes=0-0')).toEqual({ start: 0, end: 1 });
    expect(parseRange('bytes=5-')).toEqual({ start: 5 });
    expect(parseRange('bytes=-3')).toEqual({ suffix: 3 });
  });
  it('takes numbers as [start, end), end exclusive', () => {
    expect(parseRange({ start: 0, end: 1 })).toEqual({ start: 0, end: 1 });
    expect(parseRange({ start: 2, end: 3 })).toEqual({ start: 2, end: 3 });
    expect(parseRange({ start: 7 })).toEqual({ start: 7 });
  });
  it('refuses an empty or reversed numeric range with INVALID_ARGUMENT, naming the one-byte form', () => {
    for (const range of [
      { start: 5, end: 5 },
      { start: 0, end: 0 },
      { start: 5, end: 4 },
    ]) {
      expect(() => parseRange(range), JSON.stringify(range)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
    expect(() => parseRange({ start: 5, end: 5 })).toThrow(/one byte at 5 is \{ start: 5, end: 6 \}/);
  });
  it('rejects malformed ranges with INVALID_ARGUMENT', () => {
    for (const bad of [
      'bytes=-',
      'bytes=1-2,4-5',
      'bytes=5-1',
      'items=0-1',
      '0-1',
      `bytes=0-${Number.MAX_SAFE_INTEGER}`,
    ]) {
      expect(() => parseRange(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    for (const bad of [
      { start: -1 },
      { start: 1.5 },
      { start: 0, end: 2.5 },
      { start: 0, end: Number.NaN },
    ]) {
      expect(() => parseRange(bad), JSON.stringify(bad)).toThrow(SosError);
    }
  });
  it('resolves against a size like a server: end === size reads to the end, end > size is clamped', () => {
    expect(resolveRange({ start: 0, end: 1 }, 10)).toEqual({ start: 0, end: 1 });
    expect(resolveRange({ start: 9, end: 10 }, 10)).toEqual({ start: 9, end: 10 });
    expect(resolveRange({ start: 3 }, 10)).toEqual({ start: 3, end: 10 });
    expect(resolveRange({ start: 0, end: 100 }, 10)).toEqual({ start: 0, end: 10 });
    expect(resolveRange({ suffix: 100 }, 10)).toEqual({ start: 0, end: 10 });
    expect(resolveRange({ suffix: 1 }, 10)).toEqual({ start: 9, end: 10 });
    for (const [range, size] of [
      [{ start: 10 }, 10],
      [{ start: 10, end: 11 }, 10],
      [{ suffix: 0 }, 10],
      [{ suffix: 1 }, 0],
      [{ start: 0 }, 0],
    ] as const) {
      expect(() => resolveRange(range, size)).toThrow(
        expect.objectContaining({ code: 'RANGE_NOT_SATISFIABLE' }),
      );
    }
  });
  it('writes and reads HTTP headers with their inclusive last byte', () => {
    expect(rangeHeader({ start: 0, end: 1 })).toBe('bytes=0-0');
    expect(rangeHeader({ start: 100, end: 200 })).toBe('bytes=100-199');
    expect(rangeHeader({ start: 5 })).toBe('bytes=5-');
    expect(rangeHeader({ suffix: 3 })).toBe('bytes=-3');
    expect(parseContentRange('bytes 100-199/1000')).toEqual({ start: 100, end: 200, size: 1000 });
    expect(parseContentRange('bytes 0-0/*')).toEqual({ start: 0, end: 1, size: undefined });
    expect(parseContentRange('bytes */1000')).toBeUndefined();
    // text and numbers round-trip
    for (const text of ['bytes=0-0', 'bytes=7-4095', 'bytes=9-', 'bytes=-12']) {
      expect(rangeHeader(parseRange(text))).toBe(text);
    }
  });
});

describe('part sizes within SOS limits', () => {
  it('keeps the requested size while 10,000 parts suffice, else grows it in whole MiB', () => {
    expect(choosePartSize(100 * MiB)).toBe(8 * MiB);
    expect(choosePartSize(100 * MiB, 5 * MiB)).toBe(5 * MiB);
    expect(choosePartSize(1024 * 1024 * MiB)).toBe(105 * MiB); // 1 TiB
    const fourTiB = 4 * 1024 * 1024 * MiB;
    const p = choosePartSize(fourTiB);
    expect(Math.ceil(fourTiB / p)).toBeLessThanOrEqual(10_000);
    expect(p % MiB).toBe(0);
  });
  it('refuses sizes outside the limits', () => {
    expect(() => choosePartSize(undefined, 5 * MiB - 1)).toThrow(/5 MiB/);
    expect(() => choosePartSize(undefined, 5 * 1024 * MiB + 1)).toThrow(/5 GiB/);
    expect(() => choosePartSize(4 * 1024 * 1024 * MiB + 1)).toThrow(/4 TiB/);
  });
});
