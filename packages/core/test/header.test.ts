/** Header parsing (SPEC §4, §5): malformed and hostile headers end in typed errors, before any work. */
import { Packr } from 'msgpackr';
import { describe, expect, test } from 'vitest';
import { concat, utf8, writeU32 } from '../src/bytes.ts';
import { MAX_HEADER_LENGTH, parseHeader } from '../src/header.ts';
import {
  decrypt,
  encrypt,
  generateKey,
  inspectHeader,
  isSealstreamError,
  keyId,
  readHeaderLength,
} from '../src/index.ts';

const packr = new Packr({ useRecords: false, variableMapSize: true, mapsAsObjects: false });
const key = generateKey();
const CONTENT = new Map<string, unknown>([
  ['suite', 'cobblestone-256'],
  ['chunk', 16384],
]);
const section = (body: Uint8Array) => {
  const len = new Uint8Array(4);
  writeU32(len, 0, body.length);
  return concat(len, body);
};
const stanza = () =>
  new Map<string, unknown>([
    ['type', 'key'],
    ['kid', new Uint8Array(8)],
    ['wrap', new Uint8Array(40)],
  ]);
const scryptStanza = (logN: number) =>
  new Map<string, unknown>([
    ['type', 'scrypt'],
    ['salt', new Uint8Array(16)],
    ['logN', logN],
    ['wrap', new Uint8Array(40)],
  ]);
/** A header from raw sections: magic, version, content header bytes, recipients block bytes. */
const build = (content: Uint8Array, recipients: Uint8Array, version = 1) =>
  concat(
    utf8('sealstream'),
    new Uint8Array([version]),
    section(content),
    section(recipients),
    new Uint8Array(56),
  );

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'success';
  } catch (e) {
    return isSealstreamError(e) ? e.code : `unexpected ${e}`;
  }
}

describe('inspectHeader', () => {
  test('reports version, suite, chunk size, key IDs, passphrase stanzas and identity, without a key', async () => {
    const other = generateKey();
    const file = await encrypt(new Uint8Array(10), {
      recipients: [key, other, { passphrase: 'p', workFactor: 10 }],
      identity: 'b/k',
    });
    const info = inspectHeader(file);
    expect(info).toMatchObject({ version: 1, suite: 'cobblestone-256', chunkSize: 16384, identity: 'b/k' });
    expect(info.keyIds).toEqual([keyId(key), keyId(other)]);
    expect(info.recipients[2]).toEqual({ type: 'passphrase', workFactor: 10 });
    expect(info.headerLength).toBe(readHeaderLength(file));
  });

  test('the valid baseline built by hand parses', () => {
    expect(codeOf(() => parseHeader(build(packr.pack(CONTENT), packr.pack([stanza()]))))).toBe('success');
  });
});

describe('readHeaderLength', () => {
  test('asks for more bytes until it knows, and fails on the first wrong byte', async () => {
    const file = await encrypt(new Uint8Array(1), { recipients: [key] });
    const h = readHeaderLength(file)!;
    for (let n = 0; n < 19; n++) expect(readHeaderLength(file.subarray(0, n))).toBeUndefined();
    expect(readHeaderLength(file.subarray(0, h))).toBe(h);
    expect(codeOf(() => readHeaderLength(utf8('seal-')))).toBe('HEADER_INVALID');
    expect(codeOf(() => readHeaderLength(utf8('PK\x03\x04')))).toBe('HEADER_INVALID');
  });

  test('anything but bytes is INVALID_ARGUMENT, not a file without the magic or a TypeError', async () => {
    const file = await encrypt(new Uint8Array(1), { recipients: [key] });
    for (const bad of ['sealstream', file.buffer, undefined, null, [...file]] as unknown[]) {
      expect(codeOf(() => readHeaderLength(bad as Uint8Array))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => inspectHeader(bad as Uint8Array))).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('hostile and malformed headers', () => {
  const good = packr.pack(CONTENT);
  const recipients = packr.pack([stanza()]);
  const cases: [string, Uint8Array, string][] = [
    ['version 0', build(good, recipients, 0), 'UNSUPPORTED_VERSION'],
    ['version 255', build(good, recipients, 255), 'UNSUPPORTED_VERSION'],
    ['content length 0', build(new Uint8Array(0), recipients), 'HEADER_INVALID'],
    ['content length 16385', build(new Uint8Array(16385), recipients), 'HEADER_TOO_LARGE'],
    ['recipients length 65537', build(good, new Uint8Array(65537)), 'HEADER_TOO_LARGE'],
    ['content not msgpack', build(new Uint8Array([0xc1]), recipients), 'HEADER_INVALID'],
    ['content a list', build(packr.pack(['cobblestone-256', 16384]), recipients), 'HEADER_INVALID'],
    ['content a string', build(packr.pack('hello'), recipients), 'HEADER_INVALID'],
    ['suite missing', build(packr.pack(new Map([['chunk', 16384]])), recipients), 'HEADER_INVALID'],
    [
      'suite a number',
      build(
        packr.pack(
          new Map<string, unknown>([
            ['suite', 1],
            ['chunk', 16384],
          ]),
        ),
        recipients,
      ),
      'HEADER_INVALID',
    ],
    [
      'another suite',
      build(
        packr.pack(
          new Map<string, unknown>([
            ['suite', 'cobblestone-128'],
            ['chunk', 16384],
          ]),
        ),
        recipients,
      ),
      'UNSUPPORTED_SUITE',
    ],
    [
      'another chunk size',
      build(
        packr.pack(
          new Map<string, unknown>([
            ['suite', 'cobblestone-256'],
            ['chunk', 65536],
          ]),
        ),
        recipients,
      ),
      'UNSUPPORTED_SUITE',
    ],
    [
      'chunk size a string',
      build(
        packr.pack(
          new Map<string, unknown>([
            ['suite', 'cobblestone-256'],
            ['chunk', '16384'],
          ]),
        ),
        recipients,
      ),
      'HEADER_INVALID',
    ],
    [
      'unknown content field',
      build(packr.pack(new Map<string, unknown>([...CONTENT, ['x', 1]])), recipients),
      'HEADER_INVALID',
    ],
    [
      'identity a number',
      build(packr.pack(new Map<string, unknown>([...CONTENT, ['id', 5]])), recipients),
      'HEADER_INVALID',
    ],
    [
      'identity empty',
      build(packr.pack(new Map<string, unknown>([...CONTENT, ['id', '']])), recipients),
      'HEADER_INVALID',
    ],
    [
      'identity 1025 bytes',
      build(packr.pack(new Map<string, unknown>([...CONTENT, ['id', 'x'.repeat(1025)]])), recipients),
      'HEADER_INVALID',
    ],
    [
      'fields out of order',
      build(
        packr.pack(
          new Map<string, unknown>([
            ['chunk', 16384],
            ['suite', 'cobblestone-256'],
          ]),
        ),
        recipients,
      ),
      'HEADER_INVALID',
    ],
    [
      'non-minimal map header (map16)',
      build(new Uint8Array([0xde, 0, 2, ...good.subarray(1)]), recipients),
      'HEADER_INVALID',
    ],
    [
      'duplicate key',
      build(
        new Uint8Array([0x83, ...good.subarray(1), ...packr.pack('chunk'), ...packr.pack(16384)]),
        recipients,
      ),
      'HEADER_INVALID',
    ],
    [
      'trailing byte in the section',
      build(concat(good, new Uint8Array([0xc0])), recipients),
      'HEADER_INVALID',
    ],
    [
      'deeply nested arrays',
      build(new Uint8Array([...new Array(16000).fill(0x91), 0xc0]), recipients),
      'HEADER_INVALID',
    ],
    ['recipients not an array', build(good, packr.pack(stanza())), 'HEADER_INVALID'],
    ['no stanzas', build(good, packr.pack([])), 'HEADER_INVALID'],
    ['65 stanzas', build(good, packr.pack(new Array(65).fill(stanza()))), 'HEADER_INVALID'],
    ['stanza not a map', build(good, packr.pack([1])), 'HEADER_INVALID'],
    [
      'stanza without type',
      build(good, packr.pack([new Map([['kid', new Uint8Array(8)]])])),
      'HEADER_INVALID',
    ],
    [
      'type not first',
      build(
        good,
        packr.pack([
          new Map<string, unknown>([
            ['kid', new Uint8Array(8)],
            ['type', 'key'],
            ['wrap', new Uint8Array(40)],
          ]),
        ]),
      ),
      'HEADER_INVALID',
    ],
    [
      'kid of 7 bytes',
      build(
        good,
        packr.pack([
          new Map<string, unknown>([
            ['type', 'key'],
            ['kid', new Uint8Array(7)],
            ['wrap', new Uint8Array(40)],
          ]),
        ]),
      ),
      'HEADER_INVALID',
    ],
    [
      'wrap a string',
      build(
        good,
        packr.pack([
          new Map<string, unknown>([
            ['type', 'key'],
            ['kid', new Uint8Array(8)],
            ['wrap', 'x'.repeat(40)],
          ]),
        ]),
      ),
      'HEADER_INVALID',
    ],
    [
      'extra stanza field',
      build(good, packr.pack([new Map<string, unknown>([...stanza(), ['x', 1]])])),
      'HEADER_INVALID',
    ],
    ['scrypt logN 23', build(good, packr.pack([scryptStanza(23)])), 'HEADER_INVALID'],
    ['scrypt logN 9', build(good, packr.pack([scryptStanza(9)])), 'HEADER_INVALID'],
    ['scrypt logN a float', build(good, packr.pack([scryptStanza(12.5)])), 'HEADER_INVALID'],
  ];

  test.each(cases.map(([n, b, c]) => [n, c, b] as const))('%s: %s', (_, code, bytes) => {
    expect(codeOf(() => parseHeader(bytes))).toBe(code);
  });

  test.each(cases.map(([n, b, c]) => [n, c, b] as const))(
    '%s: decrypt() fails with %s too',
    async (_, code, bytes) => {
      await expect(decrypt(bytes, { keys: [key] })).rejects.toMatchObject({ code });
    },
  );

  test('a version above ours asks for an upgrade; version 0, which never existed, does not', () => {
    const message = (version: number) => {
      try {
        parseHeader(build(good, recipients, version));
      } catch (e) {
        return (e as Error).message;
      }
      return 'success';
    };
    expect(message(2)).toMatch(/version 2 is not supported .*upgrade sealstream/);
    expect(message(0)).toMatch(/version 0 does not exist .*damaged or was not written by sealstream/);
    expect(message(0)).not.toMatch(/upgrade/);
  });

  test('a claimed 4 GiB header is rejected after 15 bytes, before buffering it', () => {
    const prelude = concat(utf8('sealstream'), new Uint8Array([1, 0xff, 0xff, 0xff, 0xff]));
    expect(codeOf(() => readHeaderLength(prelude))).toBe('HEADER_TOO_LARGE');
    expect(MAX_HEADER_LENGTH).toBe(19 + 16384 + 65536);
  });

  test('unknown stanza types are skipped: a key stanza after one still opens the object', async () => {
    const file = await encrypt(new Uint8Array([1, 2, 3]), { recipients: [key] });
    const h = parseHeader(file);
    const unknown = new Map<string, unknown>([
      ['type', 'x448'],
      ['share', new Uint8Array(32)],
    ]);
    const original = file.subarray(h.context.length + 4, h.headerLength);
    const both = packr.pack([
      unknown,
      ...(new Packr({ mapsAsObjects: false, useRecords: false }).unpack(original) as unknown[]),
    ]);
    const rebuilt = concat(h.context, section(both), file.subarray(h.headerLength));
    expect(inspectHeader(rebuilt).recipients[0]).toEqual({ type: 'unknown', name: 'x448' });
    expect(await decrypt(rebuilt, { keys: [key] })).toEqual(new Uint8Array([1, 2, 3]));
  });
});

describe('passphrase work factor bounds', () => {
  test('a stanza above the reader limit is refused before any scrypt work', async () => {
    const file = await encrypt(new Uint8Array(4), { recipients: [{ passphrase: 'pw', workFactor: 12 }] });
    const started = performance.now();
    await expect(decrypt(file, { keys: [{ passphrase: 'pw' }], maxWorkFactor: 11 })).rejects.toMatchObject({
      code: 'WORK_FACTOR_TOO_HIGH',
    });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await decrypt(file, { keys: [{ passphrase: 'pw' }], maxWorkFactor: 12 })).toEqual(
      new Uint8Array(4),
    );
  });

  test('a reader with raw keys only ignores passphrase stanzas, whatever their work factor', async () => {
    const file = await encrypt(new Uint8Array(4), {
      recipients: [{ passphrase: 'pw', workFactor: 12 }, key],
    });
    expect(await decrypt(file, { keys: [key], maxWorkFactor: 10 })).toEqual(new Uint8Array(4));
  });
});

test('error codes are SealstreamError instances with a message that says what it means', async () => {
  try {
    await decrypt(utf8('not a sealstream file at all'), { keys: [key] });
    expect.fail('should have thrown');
  } catch (e) {
    expect(isSealstreamError(e, 'HEADER_INVALID')).toBe(true);
    expect((e as Error).message).toMatch(/not a sealstream file/);
  }
});
