/**
 * Ranges at the edges of an object, in every mode, against the real RGW over TLS: the last byte,
 * a suffix longer than the object, an end past it (clamped), a start at or past it
 * (RANGE_NOT_SATISFIABLE), an empty range (INVALID_ARGUMENT; `bytes=-0` was sent as it is, and
 * RGW answered it with the whole object), and any range of an empty object.
 */

import type { S3Client } from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { type Encryption, getObject, putObject, type RangeInput } from '../src/index.ts';
import { bytes, codeOf, collect, sameBytes, useTestBucket } from './helpers.ts';

let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

const modes: [string, Encryption][] = [
  ['plain', 'none'],
  ['SSE-C', { sseC: { key: generateKey() } }],
  ['client-side', { clientSide: { keys: [generateKey()] } }],
];

describe.each(modes)('range edges (%s)', (label, encryption) => {
  it.each([1, 16 * 1024, 100_001])('an object of %i bytes', async (size) => {
    const key = `${label}-${size}`;
    const data = bytes(size);
    await putObject({ client, bucket, key, body: data, encryption });
    const read = async (range: RangeInput) => {
      const got = await getObject({ client, bucket, key, encryption, range });
      return { range: got.range, bytes: await collect(got.body) };
    };
    const cases: [RangeInput, number, number][] = [
      [{ start: size - 1, end: size }, size - 1, size],
      [`bytes=${size - 1}-${size - 1}`, size - 1, size],
      ['bytes=-1', size - 1, size],
      [`bytes=-${size + 10}`, 0, size],
      [{ start: 0, end: size + 100 }, 0, size],
      [`bytes=0-${size + 100}`, 0, size],
      [{ start: 0 }, 0, size],
    ];
    for (const [range, start, end] of cases) {
      const got = await read(range);
      expect(got.range, JSON.stringify(range)).toEqual({ start, end });
      expect(sameBytes(got.bytes, data.subarray(start, end)), JSON.stringify(range)).toBe(true);
    }
    for (const range of [{ start: size }, { start: size + 5, end: size + 10 }, `bytes=${size}-`]) {
      expect(await codeOf(read(range as RangeInput)), JSON.stringify(range)).toBe('RANGE_NOT_SATISFIABLE');
    }
    for (const range of [
      { start: 3, end: 3 },
      'bytes=-0',
      { start: -1 },
      { start: 0, end: 1.5 },
      'bytes=5-4',
      'bytes=0-1,3-4',
    ]) {
      expect(await codeOf(read(range as RangeInput)), JSON.stringify(range)).toBe('INVALID_ARGUMENT');
    }
  });

  it('an empty object: no range is satisfiable, and the whole object is empty', async () => {
    const key = `${label}-empty`;
    await putObject({ client, bucket, key, body: new Uint8Array(0), encryption });
    const whole = await getObject({ client, bucket, key, encryption });
    expect((await collect(whole.body)).byteLength).toBe(0);
    for (const range of [{ start: 0 }, 'bytes=0-', 'bytes=-1', { start: 0, end: 1 }]) {
      expect(
        await codeOf(getObject({ client, bucket, key, encryption, range: range as RangeInput })),
        JSON.stringify(range),
      ).toBe('RANGE_NOT_SATISFIABLE');
    }
  });
});
