// The core in memory: encryptStream/decryptStream per AEAD backend, with no I/O around them.
// What it costs to turn plaintext into the format, against the OpenSSL ceiling.

import { type Context, formatBytes, KiB, MiB } from './context.ts';
import { BACKENDS, type Backend, type CoreApi, loadCore } from './core-api.ts';
import { checkingSink, collectingSink, concat, countingSink, randomBytes, slices, sourceOf } from './data.ts';
import { type FamilyResult, type Figure, figure, log, type Op, runRounds } from './runner.ts';

/** Writes into the core come 1 MiB at a time, as from a file read stream with that highWaterMark. */
const WRITE_SIZE = MiB;
const CHUNK = 16 * KiB;

async function encryptAll(core: CoreApi, key: Uint8Array, backend: Backend, chunks: Uint8Array[]) {
  const out = collectingSink();
  await sourceOf(chunks)
    .pipeThrough(core.encryptStream({ recipients: [key], backend }))
    .pipeTo(out.sink);
  return concat(out.chunks);
}

/**
 * Every backend's ciphertext must decrypt, under every backend, to the plaintext: at the chunk
 * boundaries, and for the whole input of the timed runs.
 */
async function crossCheck(core: CoreApi, key: Uint8Array, plaintext: Uint8Array): Promise<void> {
  const lengths = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 7];
  for (const length of lengths) {
    const pt = plaintext.subarray(0, length);
    for (const enc of BACKENDS) {
      const ct = await encryptAll(core, key, enc, slices(pt, 5000));
      for (const dec of BACKENDS) {
        await sourceOf(slices(ct, 7000))
          .pipeThrough(core.decryptStream({ keys: [key], backend: dec }))
          .pipeTo(checkingSink(pt, length, `core ${enc} -> ${dec}, ${length} bytes`));
      }
    }
  }
}

export async function runCore(ctx: Context): Promise<FamilyResult> {
  const loaded = await loadCore();
  if (!loaded.ok) {
    return { figures: [], skips: [{ family: 'core', what: 'core_*', reason: loaded.reason }] };
  }
  const { core } = loaded;
  const size = ctx.sizes.core;
  const key = core.generateKey();
  const plaintext = randomBytes(size);
  const input = slices(plaintext, WRITE_SIZE);

  log('  cross-checking the backends at chunk boundaries');
  await crossCheck(core, key, plaintext);

  const ops: Op[] = [];
  for (const backend of BACKENDS) {
    log(`  ${backend}: encrypting ${formatBytes(size)} once, untimed, and checking it decrypts`);
    const ciphertext = slices(await encryptAll(core, key, backend, input), WRITE_SIZE);
    await sourceOf(ciphertext)
      .pipeThrough(core.decryptStream({ keys: [key], backend }))
      .pipeTo(checkingSink(plaintext, size, `core ${backend} round trip`));

    ops.push({
      figure: `core_encrypt_${backend.replace('-', '_')}`,
      bytes: size,
      run: async () => {
        const out = countingSink();
        await sourceOf(input)
          .pipeThrough(core.encryptStream({ recipients: [key], backend }))
          .pipeTo(out.sink);
        if (out.bytes() < size) throw new Error(`core_encrypt_${backend}: ciphertext shorter than plaintext`);
      },
    });
    ops.push({
      figure: `core_decrypt_${backend.replace('-', '_')}`,
      bytes: size,
      run: async () => {
        const out = countingSink();
        await sourceOf(ciphertext)
          .pipeThrough(core.decryptStream({ keys: [key], backend }))
          .pipeTo(out.sink);
        if (out.bytes() !== size)
          throw new Error(`core_decrypt_${backend}: ${out.bytes()} bytes, not ${size}`);
      },
    });
  }

  const samples = await runRounds(ops, ctx.runs, (round, results) => {
    const line = [...results].map(([name, v]) => `${name.replace('core_', '')} ${v.toFixed(0)}`).join(', ');
    log(`  round ${round + 1}/${ctx.runs}: ${line} MB/s`);
  });
  const note = `${formatBytes(size)} in memory, written ${formatBytes(WRITE_SIZE)} at a time`;
  const figures: Figure[] = ops.map((op) =>
    figure(op.figure, 'core', 'MB/s', samples.get(op.figure)!, { bytes: size, group: 'core', note }),
  );
  return { figures, skips: [] };
}
