import { expect, test } from 'vitest';
import { decrypt, decryptStream, encrypt, encryptStream, generateKey, inspectHeader } from '../src/index.ts';

test('smoke', async () => {
  const key = generateKey();
  for (const backend of ['node', 'webcrypto', 'noble'] as const) {
    for (const n of [0, 1, 16383, 16384, 16385, 100000]) {
      const pt = new Uint8Array(n).map((_, i) => i);
      const ct = await encrypt(pt, {
        recipients: [key, { passphrase: 'pw', workFactor: 10 }],
        backend,
        identity: 'b/k',
      });
      expect(await decrypt(ct, { keys: [key], backend })).toEqual(pt);
      expect(await decrypt(ct, { keys: [{ passphrase: 'pw' }], backend })).toEqual(pt);
    }
  }
  const ct = await encrypt(new Uint8Array(5), { recipients: key });
  console.log(inspectHeader(ct), ct.length);
  const big = new Uint8Array(3_000_000).fill(7);
  const out: Uint8Array[] = [];
  await new Blob([big])
    .stream()
    .pipeThrough(encryptStream({ recipients: [key] }))
    .pipeThrough(decryptStream({ keys: key }))
    .pipeTo(new WritableStream({ write: (c) => void out.push(c) }));
  expect(Buffer.concat(out).equals(Buffer.from(big))).toBe(true);
});
