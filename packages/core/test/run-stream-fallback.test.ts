/**
 * run-stream.ts where a runtime has no readable byte streams (older browsers): the readable side is
 * an ordinary stream, every read gets a fresh buffer, and the bytes are the same.
 */
import { afterEach, expect, test, vi } from 'vitest';
import { pattern, split, through } from './helpers.ts';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

test('without byte streams: an ordinary readable side, the same round trip, no BYOB reader', async () => {
  const Native = globalThis.ReadableStream;
  let refused = 0;
  // what the constructor is given, untyped: the test's runtime has the types of byte streams too
  const refuseBytes = (source: unknown) => {
    if ((source as { type?: string } | undefined)?.type === 'bytes') {
      refused++;
      throw new RangeError('byte streams are not supported here');
    }
  };
  const NoByteStreams = new Proxy(Native, {
    construct(target, args) {
      refuseBytes(args[0]);
      return Reflect.construct(target, args);
    },
  });
  vi.stubGlobal('ReadableStream', NoByteStreams);
  vi.resetModules();
  const core = await import('../src/index.ts');
  const key = core.generateKey();
  const plain = pattern(3 * core.CHUNK_SIZE + 5);
  const ts = core.encryptStream({ recipients: [key], backend: 'node' });
  expect(() => ts.readable.getReader({ mode: 'byob' })).toThrow(TypeError);
  void ts.readable.cancel();
  const sealed = await through(
    core.encryptStream({ recipients: [key], backend: 'node' }),
    split(plain, 5000),
  );
  const opened = await through(core.decryptStream({ keys: [key], backend: 'node' }), split(sealed, 7000));
  expect(Buffer.from(opened).equals(Buffer.from(plain))).toBe(true);
  expect(refused).toBe(1); // asked once, then remembered
});
