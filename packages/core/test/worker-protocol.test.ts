/**
 * What a sealing Worker does with a run (worker/protocol.ts `processRun`), run here on Node's
 * crypto.subtle: one buffer per chunk, byte for byte what AES-256-GCM per chunk gives (checked
 * against node:crypto, not against our own cipher), and a run that fails to open hands back
 * nothing of its plaintext. The Worker around it is tested in Chromium (browser/test/workers.test.ts).
 */
import { createCipheriv } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { gcmParts, importGcmKey } from '../src/aead/webcrypto.ts';
import { concat } from '../src/bytes.ts';
import { chunkNonces, NONCE_LENGTH } from '../src/nonce.ts';
import { CHUNK_SIZE, SEALED_CHUNK_SIZE, TAG_LENGTH } from '../src/sizes.ts';
import { processRun } from '../src/worker/protocol.ts';
import { pattern, sha256hex } from './helpers.ts';

const key = pattern(32, 11);
const base = pattern(NONCE_LENGTH, 12);

/** Each chunk sealed on its own with node:crypto, concatenated: the reference bytes of a run. */
function sealedByNode(nonces: Uint8Array, plain: Uint8Array): Uint8Array {
  const count = nonces.length / NONCE_LENGTH;
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const c = createCipheriv('aes-256-gcm', key, nonces.subarray(i * NONCE_LENGTH, (i + 1) * NONCE_LENGTH));
    const chunk = plain.subarray(i * CHUNK_SIZE, i === count - 1 ? plain.length : (i + 1) * CHUNK_SIZE);
    out.push(c.update(chunk), c.final(), c.getAuthTag());
  }
  return new Uint8Array(Buffer.concat(out));
}

describe('processRun', () => {
  // whole runs of 64, a run whose last chunk is short, one of a single empty chunk (an empty stream's final)
  for (const [count, plainLength] of [
    [64, 64 * CHUNK_SIZE],
    [3, 2 * CHUNK_SIZE + 1000],
    [1, 0],
  ] as const) {
    test(`seals ${count} chunks (${plainLength} bytes), one buffer each: node:crypto's bytes`, async () => {
      const cipher = gcmParts(await importGcmKey(key));
      const nonces = chunkNonces(base, 70, count);
      const plain = pattern(plainLength, count);
      const sealed = await processRun(cipher, 'seal', nonces, plain);
      expect(sealed.ok).toBe(count);
      expect(sealed.parts.length).toBe(count);
      const joined = concat(...sealed.parts.map((p) => new Uint8Array(p)));
      expect(joined.length).toBe(plainLength + count * TAG_LENGTH);
      expect(sha256hex(joined)).toBe(sha256hex(sealedByNode(nonces, plain)));

      const opened = await processRun(cipher, 'open', nonces, joined);
      expect(opened.ok).toBe(count);
      expect(sha256hex(concat(...opened.parts.map((p) => new Uint8Array(p))))).toBe(sha256hex(plain));
    });
  }

  for (const tampered of [0, 17, 63]) {
    test(`a run whose chunk ${tampered} fails: ok counts the chunks before it, and no plaintext comes back`, async () => {
      const cipher = gcmParts(await importGcmKey(key));
      const nonces = chunkNonces(base, 0, 64);
      const sealed = sealedByNode(nonces, pattern(64 * CHUNK_SIZE, 4));
      sealed[tampered * SEALED_CHUNK_SIZE + 100]! ^= 1;
      const opened = await processRun(cipher, 'open', nonces, sealed);
      expect(opened).toEqual({ ok: tampered, parts: [] });
    });
  }

  test('a run under the wrong nonces opens nothing', async () => {
    const cipher = gcmParts(await importGcmKey(key));
    const sealed = sealedByNode(chunkNonces(base, 0, 4), pattern(4 * CHUNK_SIZE, 5));
    const opened = await processRun(cipher, 'open', chunkNonces(base, 1, 4), sealed);
    expect(opened).toEqual({ ok: 0, parts: [] });
  });

  test('a malformed run is refused before any call', async () => {
    const cipher = gcmParts(await importGcmKey(key));
    // 3 nonces for the bytes of 2 chunks, then a sealed run too short for its last tag
    await expect(
      processRun(cipher, 'seal', chunkNonces(base, 0, 3), new Uint8Array(CHUNK_SIZE)),
    ).rejects.toThrow(RangeError);
    await expect(
      processRun(cipher, 'open', chunkNonces(base, 0, 2), new Uint8Array(SEALED_CHUNK_SIZE + 10)),
    ).rejects.toThrow(RangeError);
  });
});
