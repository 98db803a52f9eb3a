/**
 * A module Worker for the throughput page's Worker probe: seals each 1 MiB it is sent as 64 raw
 * crypto.subtle calls (the same work as the page's subtleStream, off the page's thread) and sends
 * the sealed bytes back, transferred. Measures whether moving the calls off the main thread helps.
 */
const CHUNK = 16384;
let key: CryptoKey | undefined;
let counter = 0;

self.onmessage = async (e: MessageEvent<[number, Uint8Array]>) => {
  key ??= await crypto.subtle.importKey('raw', new Uint8Array(32), 'AES-GCM', false, ['encrypt']);
  const [id, plain] = e.data;
  const n = Math.ceil(plain.length / CHUNK);
  const out = new Uint8Array(plain.length + n * 16);
  const algorithm = { name: 'AES-GCM', iv: new Uint8Array(12) };
  const view = new DataView(algorithm.iv.buffer);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    view.setUint32(8, counter++);
    const dest = out.subarray(i * (CHUNK + 16));
    const input = plain.subarray(i * CHUNK, (i + 1) * CHUNK) as Uint8Array<ArrayBuffer>;
    pending.push(crypto.subtle.encrypt(algorithm, key, input).then((r) => dest.set(new Uint8Array(r))));
  }
  await Promise.all(pending);
  (self as unknown as Worker).postMessage([id, out], [out.buffer]);
};
