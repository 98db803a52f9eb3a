/**
 * createOpenerFromReader: the header read exactly (no byte of the payload taken), whatever sizes the
 * reads come back in, and the same errors as decryptStream for an input that ends early.
 */
import { describe, expect, test } from 'vitest';
import {
  createOpenerFromReader,
  decryptStream,
  encrypt,
  generateKey,
  isSealstreamError,
  openedLength,
  openPrefixLength,
  type ReadFull,
  readHeaderLength,
} from '../src/index.ts';
import { pattern, runTransform } from './helpers.ts';

const key = generateKey();

/** Reads `bytes` in order; each call fills the buffer it is given unless the bytes run out. */
function reader(bytes: Uint8Array): ReadFull & { taken: () => number } {
  let at = 0;
  const read = async (into: Uint8Array) => {
    const n = Math.min(into.length, bytes.length - at);
    into.set(bytes.subarray(at, at + n));
    at += n;
    return n;
  };
  return Object.assign(read, { taken: () => at });
}

async function errorOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    if (isSealstreamError(err)) return err.code;
    throw err;
  }
  return 'no error';
}

describe('createOpenerFromReader', () => {
  test('takes exactly the header and payload prefix, then the payload opens from where it stopped', async () => {
    const plain = pattern(40_000);
    const sealed = await encrypt(plain, { recipients: [key, generateKey()], identity: 'b/k' });
    const read = reader(sealed);
    const { opened, opener } = await createOpenerFromReader(read, { keys: [key], identity: 'b/k' });
    expect(read.taken()).toBe(openPrefixLength(readHeaderLength(sealed)!));
    expect(opened.info.identity).toBe('b/k');
    const rest = sealed.subarray(read.taken());
    const out = new Uint8Array(openedLength(rest.length, true));
    expect(await opener.open(rest, out, true)).toBe(plain.length);
    expect(Buffer.compare(out, plain)).toBe(0);
  });

  test('an input cut anywhere in the header fails as decryptStream fails', async () => {
    const sealed = await encrypt(pattern(100), { recipients: [key] });
    const prefixLength = openPrefixLength(readHeaderLength(sealed)!);
    for (const cut of [0, 1, 5, 12, 20, prefixLength - 57, prefixLength - 1]) {
      const input = sealed.subarray(0, cut);
      const ours = await errorOf(createOpenerFromReader(reader(input), { keys: [key] }));
      const stream = (await runTransform(decryptStream({ keys: [key] }), [input])).error;
      expect(ours, `cut at ${cut}`).toBe((stream as { code?: string }).code);
      expect(ours).toMatch(/TRUNCATED|HEADER_INVALID/);
    }
  });

  test('a wrong key and a foreign file end in typed errors', async () => {
    const sealed = await encrypt(pattern(10), { recipients: [key] });
    expect(await errorOf(createOpenerFromReader(reader(sealed), { keys: [generateKey()] }))).toBe(
      'NO_MATCHING_KEY',
    );
    expect(
      await errorOf(
        createOpenerFromReader(reader(new TextEncoder().encode('age-encryption.org/v1\n')), { keys: [key] }),
      ),
    ).toBe('HEADER_INVALID');
  });

  test('a read function that answers a count it cannot have written is INVALID_ARGUMENT, not a header error or a hang', async () => {
    const sealed = await encrypt(pattern(10), { recipients: [key] });
    for (const lie of [
      (n: number) => n + 10,
      () => Number.NaN,
      () => undefined,
      () => -1,
      (n: number) => n - 0.5,
    ]) {
      let position = 0;
      const read = async (into: Uint8Array) => {
        into.set(sealed.subarray(position, position + into.length));
        position += into.length;
        return lie(into.length) as number;
      };
      const outcome = await Promise.race([
        errorOf(createOpenerFromReader(read, { keys: [key] })),
        new Promise((resolve) => setTimeout(() => resolve('HUNG'), 2000)),
      ]);
      expect(outcome, String(lie)).toBe('INVALID_ARGUMENT');
    }
  });
});
