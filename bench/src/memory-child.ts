// Runs in its own process (spawned by memory.ts) so that its peak RSS is the stream's alone:
// encrypts and decrypts a generated stream of the given size, checks the output is the input, and
// prints its peak RSS as JSON on stdout.
//
//   node --conditions=sealstream-src --import tsx src/memory-child.ts <bytes> <sealstream|passthrough>

import { MiB } from './context.ts';
import { loadCore } from './core-api.ts';
import { checkingSink, peakRssBytes, randomBytes } from './data.ts';

const [bytesArg, mode] = process.argv.slice(2);
const total = Number(bytesArg);
if (!Number.isSafeInteger(total) || total < 0 || (mode !== 'sealstream' && mode !== 'passthrough')) {
  throw new Error(
    `usage: memory-child.ts <bytes> <sealstream|passthrough>, got ${process.argv.slice(2).join(' ')}`,
  );
}

// The stream repeats one random MiB; each chunk is a fresh copy, as a producer's buffers would be.
const pool = randomBytes(MiB);
let produced = 0;
const source = new ReadableStream<Uint8Array>(
  {
    pull(controller) {
      if (produced >= total) return controller.close();
      const n = Math.min(MiB, total - produced);
      controller.enqueue(pool.slice(0, n));
      produced += n;
    },
  },
  { highWaterMark: 0 },
);

let stream: ReadableStream<Uint8Array> = source;
if (mode === 'sealstream') {
  const loaded = await loadCore();
  if (!loaded.ok) throw new Error(loaded.reason);
  const { core } = loaded;
  const key = core.generateKey();
  stream = source
    .pipeThrough(core.encryptStream({ recipients: [key], backend: 'node' }))
    .pipeThrough(core.decryptStream({ keys: [key], backend: 'node' }));
} else {
  stream = source.pipeThrough(new TransformStream<Uint8Array, Uint8Array>());
}
await stream.pipeTo(checkingSink(pool, total, `memory ${mode}`));

process.stdout.write(`${JSON.stringify({ bytes: total, mode, maxRssMiB: peakRssBytes() / MiB })}\n`);
