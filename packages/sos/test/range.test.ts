import { describe, expect, it } from 'vitest';
import { choosePartSize, parseRange, resolveRange, SosError } from '../src/index.ts';

const MiB = 1024 * 1024;

describe('ranges (HTTP semantics)', () => {
  it('parses the three forms', () => {
    expect(parseRange('bytes=0-9')).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=5-')).toEqual({ start: 5 });
    expect(parseRange('bytes=-3')).toEqual({ suffix: 3 });
    expect(parseRange({ start: 2, end: 2 })).toEqual({ start: 2, end: 2 });
  });
  it('rejects malformed ranges', () => {
    for (const bad of ['bytes=-', 'bytes=1-2,4-5', 'bytes=5-1', 'items=0-1', '0-1']) {
      expect(() => parseRange(bad), bad).toThrow(SosError);
    }
    expect(() => parseRange({ start: -1 })).toThrow(/start/);
  });
  it('resolves against a size like a server', () => {
    expect(resolveRange({ start: 0, end: 100 }, 10)).toEqual({ start: 0, end: 9 });
    expect(resolveRange({ suffix: 100 }, 10)).toEqual({ start: 0, end: 9 });
    expect(resolveRange({ suffix: 1 }, 10)).toEqual({ start: 9, end: 9 });
    for (const [range, size] of [
      [{ start: 10 }, 10],
      [{ suffix: 0 }, 10],
      [{ suffix: 1 }, 0],
      [{ start: 0 }, 0],
    ] as const) {
      expect(() => resolveRange(range, size)).toThrow(
        expect.objectContaining({ code: 'RANGE_NOT_SATISFIABLE' }),
      );
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
