/** A long stream through encrypt and decrypt keeps memory flat: nothing grows with the object size. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { decryptStream, encryptStream, generateKey } from '../src/index.ts';
import { pattern } from './helpers.ts';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const total = Number(process.env.SEALSTREAM_LONG_STREAM_GIB ?? 2) * GIB;

test(`${total / GIB} GiB through encryptStream and decryptStream: byte-exact, RSS and heap bounded`, async () => {
  const key = generateKey();
  const block = pattern(MIB + 3); // an odd size, so writes never line up with chunks
  let produced = 0;
  let checked = 0;
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  let samples = 0;
  let peakEarly = base.rss; // peak RSS over the first quarter: later quarters must not grow past it
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      const n = Math.min(block.length, total - produced);
      if (n === 0) return controller.close();
      controller.enqueue(block.subarray(0, n));
      produced += n;
    },
  });
  const sink = new WritableStream<Uint8Array>({
    write(chunk) {
      // Compare against the repeating source pattern at this offset.
      for (let i = 0; i < chunk.length; ) {
        const at = (checked + i) % block.length;
        const n = Math.min(chunk.length - i, block.length - at);
        if (Buffer.compare(chunk.subarray(i, i + n), block.subarray(at, at + n)) !== 0) {
          throw new Error(`plaintext differs near offset ${checked + i}`);
        }
        i += n;
      }
      // Sampled here, every 32 MiB: the whole pipeline runs on microtasks, so a timer would never fire.
      if (Math.floor((checked + chunk.length) / (32 * MIB)) > Math.floor(checked / (32 * MIB))) {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed);
        samples++;
        if (checked < total / 4) peakEarly = peakRss;
      }
      checked += chunk.length;
    },
  });

  const started = performance.now();
  await source
    .pipeThrough(encryptStream({ recipients: [key] }))
    .pipeThrough(decryptStream({ keys: [key] }))
    .pipeTo(sink);
  const seconds = (performance.now() - started) / 1000;
  const growth = (peakRss - base.rss) / MIB;
  console.log(
    `long stream: ${total / GIB} GiB in ${seconds.toFixed(1)} s (encrypt+decrypt, one core), peak RSS ${(peakRss / MIB).toFixed(0)} MiB ` +
      `(+${growth.toFixed(0)} MiB over ${(base.rss / MIB).toFixed(0)} MiB at start, ${(peakEarly / MIB).toFixed(0)} MiB after the first quarter), peak heap ${(peakHeap / MIB).toFixed(0)} MiB, ${samples} samples`,
  );
  expect(checked).toBe(total);
  expect(samples, 'the memory sampler must have run during the stream').toBeGreaterThan(10);
  // A few MiB of batches and stream queues, plus GC slack: far below the 2 GiB that moved through.
  expect(growth).toBeLessThan(256);
  expect((peakHeap - base.heapUsed) / MIB).toBeLessThan(256);
  // Flat, not just small: the last three quarters add (almost) nothing over the first.
  expect((peakRss - peakEarly) / MIB).toBeLessThan(48);
}, 600_000);

test('decrypt() of 256 MiB holds the input and one plaintext buffer, not copies of the input', () => {
  // Issue 8: decrypt() used to copy the whole input into the stream's header buffer, then join the
  // output batches into a second plaintext buffer: +753 MiB for 256 MiB. Now: the plaintext only.
  // Measured in a fresh process (scripts/measure-decrypt.ts), where nothing else moves RSS.
  const script = fileURLToPath(new URL('../scripts/measure-decrypt.ts', import.meta.url));
  const out = execFileSync(
    process.execPath,
    ['--conditions=sealstream-src', '--import', 'tsx', script, '256'],
    {
      encoding: 'utf8',
    },
  );
  console.log(out.trim());
  const growth = Number(/\+(\d+) MiB over/.exec(out)?.[1]);
  expect(growth).toBeGreaterThan(200); // the 256 MiB plaintext was really written
  expect(growth).toBeLessThan(256 + 96);
}, 120_000);
