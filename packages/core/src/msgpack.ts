/**
 * The header's msgpack (SPEC §4.4): a strict subset, one encoding per value, checked while decoding.
 *
 * Values: nil, booleans, integers (number when safe, else bigint), UTF-8 strings, binary, arrays and
 * maps with string keys. Floats, extension types and the reserved byte 0xc1 are outside the subset.
 * Every length and integer uses its shortest form; non-negative integers use the unsigned family,
 * negative ones the signed family; map keys are unique; nesting is at most {@link MAX_NESTING} deep.
 * The decoder rejects anything else, so "canonical" needs no re-encoding and no second library.
 * @module
 */
import { concat } from './bytes.ts';
import { SealstreamError } from './errors.ts';

/** A decoded header value. */
export type MsgValue = null | boolean | number | bigint | string | Uint8Array | MsgValue[] | MsgMap;
/** A decoded map: string keys, in encoded order. */
export type MsgMap = Map<string, MsgValue>;

/** Deepest nesting of arrays and maps, the recipients block's own array counting as 1 (SPEC §4.4). */
export const MAX_NESTING = 8;

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Decodes exactly one canonical value filling `bytes` (SPEC §4.4).
 * @throws {SealstreamError} `HEADER_INVALID` naming `what` and the offset.
 */
export function decodeCanonical(bytes: Uint8Array, what: string): MsgValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const fail = (detail: string): never => {
    throw new SealstreamError('HEADER_INVALID', `malformed header: the ${what} ${detail} (at byte ${at})`);
  };
  const need = (n: number) => {
    if (at + n > bytes.length) fail('ends inside a value');
  };
  const length = (size: 1 | 2 | 4): number => {
    need(size);
    const n = size === 1 ? view.getUint8(at) : size === 2 ? view.getUint16(at) : view.getUint32(at);
    at += size;
    return n;
  };
  const minimal = (ok: boolean) => {
    if (!ok) fail('is not in canonical encoding (a length or integer not in its shortest form)');
  };
  const integer = (value: bigint): number | bigint =>
    value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  const str = (n: number): string => {
    need(n);
    const slice = bytes.subarray(at, at + n);
    at += n;
    try {
      return utf8Strict.decode(slice);
    } catch {
      return fail('holds a string that is not valid UTF-8');
    }
  };
  const bin = (n: number): Uint8Array => {
    need(n);
    const out = bytes.slice(at, at + n);
    at += n;
    return out;
  };
  const count = (n: number, each: number): number => {
    // Every element takes at least one byte: a hostile count cannot make us allocate.
    if (n * each > bytes.length - at) fail('claims more elements than it has bytes');
    return n;
  };
  const array = (n: number, depth: number): MsgValue[] => {
    const out: MsgValue[] = [];
    for (let i = count(n, 1); i > 0; i--) out.push(value(depth));
    return out;
  };
  const map = (n: number, depth: number): MsgMap => {
    const out: MsgMap = new Map();
    for (let i = count(n, 2); i > 0; i--) {
      const key = value(depth);
      if (typeof key !== 'string') fail('has a map key that is not a string');
      if (out.has(key as string))
        fail(`has a duplicate map key ${JSON.stringify((key as string).slice(0, 64))}`);
      out.set(key as string, value(depth));
    }
    return out;
  };
  const value = (depth: number): MsgValue => {
    need(1);
    const b = bytes[at++]!;
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b <= 0xbf) return str(b & 0x1f);
    if ((b & 0xf0) === 0x90 || (b & 0xf0) === 0x80) {
      if (depth >= MAX_NESTING) fail(`nests arrays and maps deeper than ${MAX_NESTING}`);
      return b < 0x90 ? map(b & 0x0f, depth + 1) : array(b & 0x0f, depth + 1);
    }
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xcc: {
        const n = length(1);
        minimal(n > 0x7f);
        return n;
      }
      case 0xcd: {
        const n = length(2);
        minimal(n > 0xff);
        return n;
      }
      case 0xce: {
        const n = length(4);
        minimal(n > 0xffff);
        return n;
      }
      case 0xcf: {
        need(8);
        const n = view.getBigUint64(at);
        at += 8;
        minimal(n > 0xffffffffn);
        return integer(n);
      }
      case 0xd0: {
        need(1);
        const n = view.getInt8(at++);
        minimal(n < -32);
        return n;
      }
      case 0xd1: {
        need(2);
        const n = view.getInt16(at);
        at += 2;
        minimal(n < -128);
        return n;
      }
      case 0xd2: {
        need(4);
        const n = view.getInt32(at);
        at += 4;
        minimal(n < -32768);
        return n;
      }
      case 0xd3: {
        need(8);
        const n = view.getBigInt64(at);
        at += 8;
        minimal(n < -2147483648n);
        return integer(n);
      }
      case 0xd9: {
        const n = length(1);
        minimal(n > 31);
        return str(n);
      }
      case 0xda: {
        const n = length(2);
        minimal(n > 0xff);
        return str(n);
      }
      case 0xdb: {
        const n = length(4);
        minimal(n > 0xffff);
        return str(n);
      }
      case 0xc4:
        return bin(length(1));
      case 0xc5: {
        const n = length(2);
        minimal(n > 0xff);
        return bin(n);
      }
      case 0xc6: {
        const n = length(4);
        minimal(n > 0xffff);
        return bin(n);
      }
      case 0xdc:
      case 0xdd:
      case 0xde:
      case 0xdf: {
        if (depth >= MAX_NESTING) fail(`nests arrays and maps deeper than ${MAX_NESTING}`);
        const n = length(b === 0xdc || b === 0xde ? 2 : 4);
        minimal(n > (b === 0xdc || b === 0xde ? 15 : 0xffff));
        return b <= 0xdd ? array(n, depth + 1) : map(n, depth + 1);
      }
      default:
        return fail(
          `holds a value outside the format's msgpack subset (type byte 0x${b.toString(16)}: float, extension or reserved)`,
        );
    }
  };
  const result = value(0);
  if (at !== bytes.length) fail('has extra bytes after its value');
  return result;
}

/**
 * Encodes a value of the subset canonically (SPEC §4.4): the inverse of {@link decodeCanonical}.
 * @throws {SealstreamError} `INTERNAL` for a value outside the subset (a bug: callers build these values).
 */
export function encodeCanonical(value: MsgValue): Uint8Array {
  const parts: number[] = [];
  const bytesOut: Uint8Array[] = [];
  const flush = () => {
    if (parts.length) {
      bytesOut.push(Uint8Array.from(parts));
      parts.length = 0;
    }
  };
  const raw = (b: Uint8Array) => {
    flush();
    bytesOut.push(b);
  };
  const be = (n: number | bigint, width: 1 | 2 | 4 | 8) => {
    const v = BigInt.asUintN(width * 8, BigInt(n));
    for (let i = width - 1; i >= 0; i--) parts.push(Number((v >> BigInt(8 * i)) & 0xffn));
  };
  const header = (
    n: number,
    fix: number | undefined,
    fixMax: number,
    codes: [number | undefined, number, number],
  ) => {
    if (fix !== undefined && n <= fixMax) parts.push(fix | n);
    else if (codes[0] !== undefined && n <= 0xff) parts.push(codes[0], n);
    else if (n <= 0xffff) {
      parts.push(codes[1]);
      be(n, 2);
    } else {
      parts.push(codes[2]);
      be(n, 4);
    }
  };
  const int = (n: bigint) => {
    if (n >= 0n && n <= 0x7fn) return void parts.push(Number(n));
    if (n < 0n && n >= -32n) return void parts.push(Number(n) & 0xff);
    // The shortest form of the unsigned family for n >= 0, of the signed family for n < 0.
    const forms: [bigint, bigint, number, 1 | 2 | 4 | 8][] =
      n >= 0n
        ? [
            [0n, 0xffn, 0xcc, 1],
            [0n, 0xffffn, 0xcd, 2],
            [0n, 0xffffffffn, 0xce, 4],
            [0n, 0xffffffffffffffffn, 0xcf, 8],
          ]
        : [
            [-128n, 0n, 0xd0, 1],
            [-32768n, 0n, 0xd1, 2],
            [-2147483648n, 0n, 0xd2, 4],
            [-(2n ** 63n), 0n, 0xd3, 8],
          ];
    const form = forms.find(([min, max]) => n >= min && n <= max);
    if (!form) throw outside(`the integer ${n}, beyond 64 bits`);
    parts.push(form[2]);
    be(n, form[3]);
  };
  const put = (v: MsgValue) => {
    if (v === null) parts.push(0xc0);
    else if (v === false) parts.push(0xc2);
    else if (v === true) parts.push(0xc3);
    else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw outside(`the number ${v}`);
      int(BigInt(v));
    } else if (typeof v === 'bigint') int(v);
    else if (typeof v === 'string') {
      const b = encoder.encode(v);
      header(b.length, 0xa0, 31, [0xd9, 0xda, 0xdb]);
      raw(b);
    } else if (v instanceof Uint8Array) {
      header(v.length, undefined, -1, [0xc4, 0xc5, 0xc6]);
      raw(v);
    } else if (Array.isArray(v)) {
      header(v.length, 0x90, 15, [undefined, 0xdc, 0xdd]);
      for (const e of v) put(e);
    } else if (v instanceof Map) {
      header(v.size, 0x80, 15, [undefined, 0xde, 0xdf]);
      for (const [k, e] of v) {
        if (typeof k !== 'string') throw outside('a map key that is not a string');
        put(k);
        put(e);
      }
    } else throw outside(typeof v);
  };
  put(value);
  flush();
  return concat(...bytesOut);
}

function outside(what: string): SealstreamError {
  return new SealstreamError('INTERNAL', `cannot encode ${what} in a sealstream header`);
}
