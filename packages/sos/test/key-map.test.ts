import { formatKey, generateKey } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { parseSseCKeyMap, SosError } from '../src/index.ts';

const k1 = generateKey();
const k2 = generateKey();
const k3 = generateKey();
const b64 = (k: Uint8Array) => formatKey(k);
const unpadded = (k: Uint8Array) => formatKey(k).replace(/=+$/, '');
const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');

function rejects(text: string, pattern: RegExp): void {
  let err: unknown;
  try {
    parseSseCKeyMap(text);
  } catch (e) {
    err = e;
  }
  expect(err, text).toBeInstanceOf(SosError);
  expect((err as SosError).code).toBe('INVALID_KEY_MAP');
  expect((err as SosError).message).toMatch(pattern);
  // never echo key material
  for (const k of [k1, k2, k3]) expect((err as SosError).message).not.toContain(unpadded(k));
}

describe('SSE-C key map', () => {
  it('picks the longest matching prefix', () => {
    const map = parseSseCKeyMap(
      `sos/backups=${b64(k1)},sos/backups/db/=${unpadded(k2)}, sos/backups/db/2024=${hex(k3)}`,
    );
    expect(map.keyFor('sos', 'backups', 'web/index.html')).toEqual(k1);
    expect(map.keyFor('sos', 'backups', 'db/2023.tar')).toEqual(k2);
    expect(map.keyFor('sos', 'backups', 'db/2024-01.tar')).toEqual(k3);
    expect(map.keyFor('sos', 'backups2', 'db/2024-01.tar')).toBeUndefined(); // bucket entry is not a string prefix of another bucket
    expect(map.keyFor('other', 'backups', 'x')).toBeUndefined();
    expect(map.entries.map((e) => e.prefix)).toEqual([
      'sos/backups/db/2024',
      'sos/backups/db/',
      'sos/backups/',
    ]);
  });

  it('accepts padded and unpadded base64, base64url and hex keys', () => {
    const url = b64(k1).replace(/\+/g, '-').replace(/\//g, '_');
    for (const form of [b64(k1), unpadded(k1), url, hex(k1), hex(k1).toUpperCase()]) {
      expect(parseSseCKeyMap(`a/b/p=${form}`).keyFor('a', 'b', 'p/x')).toEqual(k1);
    }
  });

  it('allows "=" inside the prefix', () => {
    const map = parseSseCKeyMap(`a/b/date=2024/=${b64(k1)}`);
    expect(map.entries[0]!.prefix).toBe('a/b/date=2024/');
    expect(map.keyFor('a', 'b', 'date=2024/x')).toEqual(k1);
  });

  it('rejects overlapping (same prefix) entries, also when written differently', () => {
    rejects(`a/b/p=${b64(k1)},a/b/p=${b64(k2)}`, /entry 2 .*overlaps entry 1/);
    rejects(`a/b/p=${b64(k1)},a/b/p=${b64(k1)}`, /overlaps/);
    rejects(`a/b=${b64(k1)},a/b/=${b64(k2)}`, /overlaps/);
  });

  it('rejects malformed entries', () => {
    rejects('', /empty/);
    rejects(`a/b/p=${b64(k1)},`, /entry 2 is empty/);
    rejects('a/b/p', /entry 1/);
    rejects('a/b/p=', /entry 1/);
    rejects(`a/b/p=${b64(k1).slice(0, 20)}`, /256-bit key/);
    rejects(`a=${b64(k1)}`, /alias\/bucket/);
    rejects(`/b/p=${b64(k1)}`, /alias\/bucket/);
    rejects(`a//p=${b64(k1)}`, /alias\/bucket/);
    rejects(`=${b64(k1)}`, /entry 1/);
  });

  it('never shows a key, whatever the mistake: a key alone, run into its path, or maps with another separator', () => {
    for (const k of [k1, k2]) {
      rejects(b64(k), /entry 1/); // padded: its only "=" is the key's own
      rejects(unpadded(k), /entry 1 has no "=KEY"/);
      rejects(hex(k), /entry 1 has no "=KEY"/);
      rejects(`a/b/p${b64(k)}`, /entry 1/); // the "=" forgotten: the key runs into the path
      rejects(`a/b/p${unpadded(k)}`, /entry 1 has no "=KEY"/);
      rejects(`a/b=${b64(k)};a/c=${b64(k3)}`, /cannot hold "=" or ";"/);
      rejects(`a/b=${b64(k)} a/c=${b64(k3)}`, /entry 1/);
      rejects(`a/b/p=${b64(k)},a/b/p=${b64(k3)}`, /overlaps/);
    }
  });
});
