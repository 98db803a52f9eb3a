/** The checked-in sealstream v1 vectors (SPEC §11), run whole, streamed, and byte by byte. */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { Vector } from '../scripts/generate-vectors.ts';
import { bytesSource, decrypt, decryptStream, isSealstreamError, openSealed } from '../src/index.ts';
import { BACKENDS, hex, runTransform, sha256hex, split } from './helpers.ts';
import { vectorOpenOptions } from './vector-options.ts';

const vectors: Vector[] = JSON.parse(
  readFileSync(new URL('./vectors/sealstream-v1.json', import.meta.url), 'utf8'),
);

function checkOutcome(v: Vector, output: Uint8Array, error: unknown) {
  if (v.expect === 'success') {
    expect(error, v.name).toBeUndefined();
    expect({ length: output.length, sha256: sha256hex(output) }, v.name).toEqual(v.plaintext);
    return;
  }
  expect(isSealstreamError(error) ? error.code : error, v.name).toBe(v.expect);
  // Nothing beyond the authenticated leading chunks, and exactly their bytes.
  expect(output.length, v.name).toBeLessThanOrEqual(v.released!.length);
  if (output.length === v.released!.length) expect(sha256hex(output), v.name).toBe(v.released!.sha256);
}

test('the vector file covers every outcome', () => {
  const outcomes = new Set(vectors.map((v) => v.expect));
  for (const code of [
    'success',
    'HEADER_INVALID',
    'HEADER_TOO_LARGE',
    'UNSUPPORTED_VERSION',
    'NO_MATCHING_KEY',
    'COMMITMENT_MISMATCH',
    'IDENTITY_MISMATCH',
    'CHUNK_AUTH_FAILED',
    'TRUNCATED',
    'TRAILING_DATA',
    'WORK_FACTOR_TOO_HIGH',
    'INVALID_KEY',
  ]) {
    expect(outcomes).toContain(code);
  }
});

describe.each(BACKENDS)('%s backend', (backend) => {
  test.each(vectors.map((v) => [v.name, v] as const))('%s: whole', async (_, v) => {
    let output: Uint8Array = new Uint8Array(0);
    let error: unknown;
    try {
      output = await decrypt(hex(v.file), vectorOpenOptions(v, backend));
    } catch (e) {
      error = e;
    }
    checkOutcome(v, output, error);
    // decrypt() returns nothing at all on failure.
    if (error) expect(output).toHaveLength(0);
  });

  test.each(vectors.map((v) => [v.name, v] as const))('%s: streamed in 1000-byte writes', async (_, v) => {
    const { output, error } = await runTransform(
      decryptStream(vectorOpenOptions(v, backend)),
      split(hex(v.file), 1000),
    );
    checkOutcome(v, output, error);
  });
});

test.each(vectors.map((v) => [v.name, v] as const))('%s: byte by byte (node)', async (_, v) => {
  const { output, error } = await runTransform(
    decryptStream(vectorOpenOptions(v, 'node')),
    split(hex(v.file), 1),
  );
  checkOutcome(v, output, error);
});

test.each(vectors.map((v) => [v.name, v] as const))(
  '%s: random-access reader, whole object (node)',
  async (_, v) => {
    let output: Uint8Array = new Uint8Array(0);
    let error: unknown;
    try {
      const object = await openSealed(bytesSource(hex(v.file)), vectorOpenOptions(v, 'node'));
      output = await object.read();
    } catch (e) {
      error = e;
    }
    checkOutcome(v, output, error);
  },
);
