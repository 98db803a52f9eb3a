/** The header's msgpack subset (SPEC §4.4): one encoding per value, every boundary, hostile inputs typed. */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, test } from 'vitest';
import { decodeCanonical, encodeCanonical, MAX_NESTING, type MsgValue } from '../src/msgpack.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const enc = (v: MsgValue) => Buffer.from(encodeCanonical(v)).toString('hex');
const codeOf = (bytes: Uint8Array) => {
  try {
    decodeCanonical(bytes, 'test');
    return 'success';
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('encoding: shortest forms at every boundary', () => {
  test.each([
    [0, '00'],
    [127, '7f'],
    [128, 'cc80'],
    [255, 'ccff'],
    [256, 'cd0100'],
    [65535, 'cdffff'],
    [65536, 'ce00010000'],
    [2 ** 32 - 1, 'ceffffffff'],
    [2 ** 32, 'cf0000000100000000'],
    [Number.MAX_SAFE_INTEGER, 'cf001fffffffffffff'],
    [2n ** 64n - 1n, 'cfffffffffffffffff'],
    [-1, 'ff'],
    [-32, 'e0'],
    [-33, 'd0df'],
    [-128, 'd080'],
    [-129, 'd1ff7f'],
    [-32768, 'd18000'],
    [-32769, 'd2ffff7fff'],
    [-(2 ** 31), 'd280000000'],
    [-(2 ** 31) - 1, 'd3ffffffff7fffffff'],
    [-(2n ** 63n), 'd38000000000000000'],
    [null, 'c0'],
    [false, 'c2'],
    [true, 'c3'],
    ['', 'a0'],
    ['a'.repeat(31), `bf${'61'.repeat(31)}`],
    ['a'.repeat(32), `d920${'61'.repeat(32)}`],
    [new Uint8Array(0), 'c400'],
    [[], '90'],
    [new Map(), '80'],
  ] as [MsgValue, string][])('%s', (value, expected) => {
    expect(enc(value)).toBe(expected);
    const back = decodeCanonical(hex(expected), 'test');
    const safe = (v: MsgValue) =>
      typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v;
    expect(back).toEqual(safe(value));
  });

  test('lengths switch form at 15/16, 31/32, 255/256 and 65535/65536', () => {
    expect(enc('a'.repeat(255)).slice(0, 4)).toBe('d9ff');
    expect(enc('a'.repeat(256)).slice(0, 6)).toBe('da0100');
    expect(enc('a'.repeat(65536)).slice(0, 10)).toBe('db00010000');
    expect(enc(new Uint8Array(255)).slice(0, 4)).toBe('c4ff');
    expect(enc(new Uint8Array(256)).slice(0, 6)).toBe('c50100');
    expect(enc(new Uint8Array(65536)).slice(0, 10)).toBe('c600010000');
    expect(enc(new Array(15).fill(0)).slice(0, 2)).toBe('9f');
    expect(enc(new Array(16).fill(0)).slice(0, 6)).toBe('dc0010');
    const m = (n: number) => new Map(Array.from({ length: n }, (_, i) => [`k${i}`, i] as [string, MsgValue]));
    expect(enc(m(15)).slice(0, 2)).toBe('8f');
    expect(enc(m(16)).slice(0, 6)).toBe('de0010');
  });

  test('matches msgpackr for the values the format writes (the existing vectors depend on it)', () => {
    const packr = new Packr({
      useRecords: false,
      variableMapSize: true,
      mapsAsObjects: false,
      moreTypes: false,
    });
    const v = new Map<string, MsgValue>([
      ['suite', 'cobblestone-256'],
      ['chunk', 16384],
      ['id', 'x'.repeat(300)],
      ['n', -200],
      ['bin', new Uint8Array(40)],
    ]);
    expect(Buffer.from(encodeCanonical(v))).toEqual(Buffer.from(packr.pack(v)));
  });

  test('decode then encode gives the same bytes, for any value of the subset', () => {
    const leaf = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
      fc.integer(),
      fc.string(),
      fc.uint8Array({ maxLength: 300 }),
    );
    const value = fc.letrec<{ v: MsgValue }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small', maxDepth: 4 },
        leaf as fc.Arbitrary<MsgValue>,
        fc.array(tie('v'), { maxLength: 20 }),
        fc
          .uniqueArray(fc.tuple(fc.string(), tie('v')), { selector: ([k]) => k, maxLength: 20 })
          .map((e) => new Map(e)),
      ),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encodeCanonical(v);
        expect(encodeCanonical(decodeCanonical(bytes, 'test'))).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decoding rejects everything outside the subset with HEADER_INVALID', () => {
  test.each([
    ['uint8 holding a fixint', 'cc05'],
    ['uint16 holding a byte', 'cd00ff'],
    ['uint32 holding 16 bits', 'ce0000ffff'],
    ['uint64 holding 32 bits', 'cf00000000ffffffff'],
    ['int8 holding a negative fixint', 'd0ff'],
    ['int8 holding a positive value', 'd005'],
    ['int16 holding an int8', 'd1ff80'],
    ['int32 holding an int16', 'd2ffff8000'],
    ['int64 holding an int32', 'd3ffffffff80000000'],
    ['int64 holding a positive value', 'd30000000100000000'],
    ['str8 of a fixstr length', 'd90161'],
    ['str16 of a str8 length', 'da0001' + '61'],
    ['bin16 of a bin8 length', 'c5000100'],
    ['array16 of a fixarray length', 'dc000100'],
    ['map16 of a fixmap length', 'de0001a16100'],
    ['float32', 'ca3f800000'],
    ['float64', 'cb3ff0000000000000'],
    ['fixext1', 'd40100'],
    ['ext8', 'c7010100'],
    ['reserved 0xc1', 'c1'],
    ['a string that is not UTF-8', 'a2c328'],
    ['a lone surrogate in CESU form', 'a3eda080'],
    ['a map with an integer key', '810100'],
    ['a duplicate map key', '82a16101a16102'],
    ['extra bytes after the value', '0000'],
    ['a value cut short', 'cd01'],
    ['an array claiming more elements than bytes', 'ddffffffff00'],
    ['a map claiming more entries than bytes', 'dfffffffff'],
    ['an empty input', ''],
  ])('%s', (_, bytes) => {
    expect(codeOf(hex(bytes))).toBe('HEADER_INVALID');
  });

  test(`nesting: ${MAX_NESTING} levels of arrays and maps pass, one more fails`, () => {
    const nest = (n: number) => hex(`${'91'.repeat(n - 1)}90`);
    expect(codeOf(nest(MAX_NESTING))).toBe('success');
    expect(codeOf(nest(MAX_NESTING + 1))).toBe('HEADER_INVALID');
    expect(codeOf(hex(`${'dc0001'.repeat(MAX_NESTING + 1)}00`))).toBe('HEADER_INVALID');
    // Deep hostile input stops at the limit, without recursing through it.
    expect(codeOf(hex(`${'91'.repeat(100_000)}90`))).toBe('HEADER_INVALID');
  });

  test('big integers beyond 2^53 decode exactly, as bigint', () => {
    expect(decodeCanonical(hex('cf0020000000000001'), 'test')).toBe(2n ** 53n + 1n);
    expect(decodeCanonical(hex('cfffffffffffffffff'), 'test')).toBe(2n ** 64n - 1n);
    expect(decodeCanonical(hex('d3ffdfffffffffffff'), 'test')).toBe(-(2n ** 53n) - 1n);
  });

  test('values outside the subset cannot be encoded (INTERNAL: our own bug, never user input)', () => {
    for (const bad of [1.5, Number.NaN, 2n ** 64n, -(2n ** 63n) - 1n, new Map([[1, 2]])] as unknown[]) {
      expect(() => encodeCanonical(bad as MsgValue)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    }
  });
});
