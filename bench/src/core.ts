// The core in memory: encryptStream/decryptStream, and the sealer/opener loops over reused buffers,
// with no I/O around them. What it costs to turn plaintext into the format, against the OpenSSL
// ceiling measured in the same rounds.

import { type Context, formatBytes, KiB, MiB } from './context.ts';
import { BACKENDS, type Backend, type CoreApi, loadCore } from './core-api.ts';
import {
  checkingSink,
  collectingSink,
  concat,
  countByob,
  countingSink,
  randomBytes,
  slices,
  sourceOf,
} from './data.ts';
import { opensslPaired } from './openssl.ts';
import {
  cpuKey,
  type FamilyResult,
  type Figure,
  figure,
  log,
  type Op,
  ratio,
  runRounds,
  type Skip,
} from './runner.ts';

/** Writes into the core come 1 MiB at a time, as from a file read stream with that highWaterMark. */
const WRITE_SIZE = MiB;
const CHUNK = 16 * KiB;
const SEALED_CHUNK = CHUNK + 16;
/** The loops seal 64 chunks (1 MiB) per call and open 64 sealed chunks per call. */
const LOOP_CHUNKS = 64;

const nameOf = (backend: Backend) => backend ?? 'default';

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
async function crossCheck(
  core: CoreApi,
  key: Uint8Array,
  plaintext: Uint8Array,
  backends: Backend[],
): Promise<void> {
  const lengths = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 7];
  for (const length of lengths) {
    const pt = plaintext.subarray(0, length);
    for (const enc of backends) {
      const ct = await encryptAll(core, key, enc, slices(pt, 5000));
      for (const dec of backends) {
        await sourceOf(slices(ct, 7000))
          .pipeThrough(core.decryptStream({ keys: [key], backend: dec }))
          .pipeTo(checkingSink(pt, length, `core ${nameOf(enc)} -> ${nameOf(dec)}, ${length} bytes`));
      }
    }
  }
}

/**
 * The tight loop the CLI's file path runs: read into one reused buffer, seal into another, write.
 * Here the "read" is a view of the plaintext and the "write" only counts. With `fresh`, every call
 * seals into a new buffer allocated as the streams allocate theirs (what any API that hands its output
 * away must do): the difference from the reused buffer is the cost of that allocation and of the
 * garbage collection it brings, with no stream machinery around it.
 * @returns The sealed bytes, when `keep` collects copies of them for a check.
 */
async function sealLoop(
  core: CoreApi,
  key: Uint8Array,
  plaintext: Uint8Array,
  keep?: Uint8Array[],
  fresh = false,
) {
  const { prefix, sealer } = await core.createSealer({ recipients: [key] });
  const piece = LOOP_CHUNKS * CHUNK;
  const outLength = core.sealedLength(piece, true);
  let out = new Uint8Array(outLength);
  let total = prefix.length;
  keep?.push(prefix.slice());
  for (let off = 0; ; off += piece) {
    const final = off + piece >= plaintext.length;
    if (fresh) out = Buffer.allocUnsafeSlow(outLength);
    const n = await sealer.seal(plaintext.subarray(off, off + piece), out, final);
    keep?.push(out.slice(0, n));
    total += n;
    if (final) return total;
  }
}

/**
 * The opening loop: whole runs of sealed chunks into one reused buffer, the final run last; with
 * `fresh`, a new buffer per call, as {@link sealLoop}.
 */
async function openLoop(
  core: CoreApi,
  key: Uint8Array,
  sealed: Uint8Array,
  keep?: Uint8Array[],
  fresh = false,
) {
  const { payloadStart, opener } = await core.createOpener(sealed.subarray(0, 64 * KiB), { keys: [key] });
  const piece = LOOP_CHUNKS * SEALED_CHUNK;
  let out = new Uint8Array(LOOP_CHUNKS * CHUNK);
  let total = 0;
  let off = payloadStart;
  for (; sealed.length - off > piece; off += piece) {
    if (fresh) out = Buffer.allocUnsafeSlow(out.length);
    total += await opener.open(sealed.subarray(off, off + piece), out, false);
    keep?.push(out.slice());
  }
  const n = await opener.open(sealed.subarray(off), out, true);
  keep?.push(out.slice(0, n));
  return total + n;
}

/**
 * The loops must agree with the streams: what the seal loop writes decrypts with decryptStream, and the
 * open loop opens what encryptStream wrote. In a function of its own so that the copies it keeps are
 * garbage before anything is timed.
 */
async function checkLoops(core: CoreApi, key: Uint8Array, plaintext: Uint8Array, sealedWhole: Uint8Array) {
  log('  sealer and opener loops: checking their output against the streams, untimed');
  const size = plaintext.length;
  const kept: Uint8Array[] = [];
  await sealLoop(core, key, plaintext, kept);
  await sourceOf(slices(concat(kept), WRITE_SIZE))
    .pipeThrough(core.decryptStream({ keys: [key] }))
    .pipeTo(checkingSink(plaintext, size, 'core seal loop -> decryptStream'));
  const opened: Uint8Array[] = [];
  await openLoop(core, key, sealedWhole, opened);
  await sourceOf(opened).pipeTo(checkingSink(plaintext, size, 'core encryptStream -> open loop'));
}

function streamOps(
  core: CoreApi,
  key: Uint8Array,
  backend: Backend,
  size: number,
  input: Uint8Array[],
  ciphertext: Uint8Array[],
): Op[] {
  const name = nameOf(backend);
  return [
    {
      figure: `core_encrypt_${name}`,
      bytes: size,
      run: async () => {
        const out = countingSink();
        await sourceOf(input)
          .pipeThrough(core.encryptStream({ recipients: [key], backend }))
          .pipeTo(out.sink);
        if (out.bytes() < size) throw new Error(`core_encrypt_${name}: ciphertext shorter than plaintext`);
      },
    },
    {
      figure: `core_decrypt_${name}`,
      bytes: size,
      run: async () => {
        const out = countingSink();
        await sourceOf(ciphertext)
          .pipeThrough(core.decryptStream({ keys: [key], backend }))
          .pipeTo(out.sink);
        if (out.bytes() !== size) throw new Error(`core_decrypt_${name}: ${out.bytes()} bytes, not ${size}`);
      },
    },
  ];
}

/**
 * The streams again, read with a BYOB reader that lends one buffer of a run (64 chunks) for every
 * read: each run is sealed or opened straight into it. The same writes and the same stream; only the
 * reader differs from {@link streamOps}' sink, which takes a fresh buffer per run.
 */
function byobOps(
  core: CoreApi,
  key: Uint8Array,
  size: number,
  input: Uint8Array[],
  ciphertext: Uint8Array[],
): Op[] {
  return [
    {
      figure: 'core_encrypt_byob_default',
      bytes: size,
      run: async () => {
        const ts = core.encryptStream({ recipients: [key] });
        const [, n] = await Promise.all([
          sourceOf(input).pipeTo(ts.writable),
          countByob(ts.readable, LOOP_CHUNKS * SEALED_CHUNK),
        ]);
        if (n < size) throw new Error('core_encrypt_byob_default: ciphertext shorter than plaintext');
      },
    },
    {
      figure: 'core_decrypt_byob_default',
      bytes: size,
      run: async () => {
        const ts = core.decryptStream({ keys: [key] });
        const [, n] = await Promise.all([
          sourceOf(ciphertext).pipeTo(ts.writable),
          countByob(ts.readable, LOOP_CHUNKS * CHUNK),
        ]);
        if (n !== size) throw new Error(`core_decrypt_byob_default: ${n} bytes, not ${size}`);
      },
    },
  ];
}

/** Encrypts once, untimed, checks the result decrypts, and returns it in 1 MiB writes. */
async function ciphertextFor(
  core: CoreApi,
  key: Uint8Array,
  backend: Backend,
  plaintext: Uint8Array,
  input: Uint8Array[],
): Promise<Uint8Array[]> {
  const size = plaintext.length;
  log(`  ${nameOf(backend)}: encrypting ${formatBytes(size)} once, untimed, and checking it decrypts`);
  const ciphertext = slices(await encryptAll(core, key, backend, input), WRITE_SIZE);
  await sourceOf(ciphertext)
    .pipeThrough(core.decryptStream({ keys: [key], backend }))
    .pipeTo(checkingSink(plaintext, size, `core ${nameOf(backend)} round trip`));
  return ciphertext;
}

/** Figures of a set of rounds: MB/s and MB/cpu-s for each op, all in one group (paired ratios). */
function figuresOf(ops: Op[], samples: Map<string, number[]>, group: string, note: (op: Op) => string) {
  return ops.flatMap((op) => {
    const extra = { group, note: note(op), ...(op.bytes > 0 ? { bytes: op.bytes } : {}) };
    return [
      figure(op.figure, 'core', 'MB/s', samples.get(op.figure)!, extra),
      figure(cpuKey(op.figure), 'core', 'MB/cpu-s', samples.get(cpuKey(op.figure))!, extra),
    ];
  });
}

export async function runCore(ctx: Context): Promise<FamilyResult> {
  const loaded = await loadCore();
  if (!loaded.ok) {
    return { figures: [], skips: [{ family: 'core', what: 'core_*', reason: loaded.reason }] };
  }
  const { core } = loaded;
  const skips: Skip[] = [];
  const size = ctx.sizes.core;
  const key = core.generateKey();
  const plaintext = randomBytes(size);
  const input = slices(plaintext, WRITE_SIZE);
  const report = core.backendReport();
  log(
    `  automatic backend: ${report.default}${report.native.available ? '' : ` (native addon not used: ${report.native.reason})`}`,
  );
  const backends: Backend[] = BACKENDS.filter((b) => b !== 'native' || report.native.available);
  if (!report.native.available) {
    skips.push({
      family: 'core',
      what: 'core_encrypt_native, core_decrypt_native',
      reason: report.native.reason,
    });
  }

  log('  cross-checking the backends at chunk boundaries');
  await crossCheck(core, key, plaintext, [undefined, ...backends]);

  // 1. The headline: the automatic backend against one `openssl speed` process, in tight rounds.
  const defaultCiphertext = await ciphertextFor(core, key, undefined, plaintext, input);
  const sealedWhole = concat(defaultCiphertext);
  await checkLoops(core, key, plaintext, sealedWhole);

  const headline: Op[] = [
    { figure: 'core_openssl_1p', bytes: 0, run: () => opensslPaired(ctx.sizes.opensslSeconds) },
    ...streamOps(core, key, undefined, size, input, defaultCiphertext),
    ...byobOps(core, key, size, input, defaultCiphertext),
    {
      figure: 'core_seal_loop_default',
      bytes: size,
      run: () => sealLoop(core, key, plaintext),
    },
    {
      figure: 'core_open_loop_default',
      bytes: size,
      run: () => openLoop(core, key, sealedWhole),
    },
    {
      figure: 'core_seal_fresh_default',
      bytes: size,
      run: () => sealLoop(core, key, plaintext, undefined, true),
    },
    {
      figure: 'core_open_fresh_default',
      bytes: size,
      run: () => openLoop(core, key, sealedWhole, undefined, true),
    },
  ];
  const headSamples = await runRounds(headline, ctx.runs, (round, results) => {
    const line = [...results].map(([name, v]) => `${name.replace('core_', '')} ${v.toFixed(0)}`).join(', ');
    log(`  round ${round + 1}/${ctx.runs}: ${line} MB/s`);
  });
  const auto = `automatic backend (${report.default}), ${formatBytes(size)} in memory`;
  const headFigures = figuresOf(headline, headSamples, 'core_default', (op) =>
    op.figure === 'core_openssl_1p'
      ? `openssl speed -elapsed -evp aes-256-gcm -bytes 16384 -seconds ${ctx.sizes.opensslSeconds}, 1 process; CPU from the shell's times`
      : op.figure.includes('loop')
        ? `${auto}: createSealer/createOpener, ${LOOP_CHUNKS} chunks per call into one reused buffer`
        : op.figure.includes('byob')
          ? `${auto}, written ${formatBytes(WRITE_SIZE)} at a time into the web stream, read with a BYOB reader lending one buffer of ${LOOP_CHUNKS} chunks to every read`
          : op.figure.includes('fresh')
            ? `${auto}: createSealer/createOpener, ${LOOP_CHUNKS} chunks per call, each into a new buffer (Buffer.allocUnsafeSlow, as the streams allocate): the loop's cost plus that of handing the output away, without a stream`
            : `${auto}, written ${formatBytes(WRITE_SIZE)} at a time into the web stream`,
  );
  const byName = new Map(headFigures.map((f) => [f.name, f]));
  const ratios: Figure[] = [];
  for (const what of [
    'encrypt',
    'decrypt',
    'encrypt_byob',
    'decrypt_byob',
    'seal_loop',
    'open_loop',
    'seal_fresh',
    'open_fresh',
  ]) {
    const ours = `core_${what}_default`;
    // Per CPU-second on both sides: the figure `openssl speed` itself reports, and steady on a shared machine.
    const cpu = ratio(
      `${ours}_vs_openssl`,
      'core',
      byName.get(cpuKey(ours))!,
      byName.get(cpuKey('core_openssl_1p'))!,
    );
    cpu.note = `${ours} / core_openssl_1p in MB per CPU-second, paired by round`;
    const wall = ratio(`${ours}_vs_openssl_wall`, 'core', byName.get(ours)!, byName.get('core_openssl_1p')!);
    wall.note = `${ours} / core_openssl_1p in wall-clock MB/s, paired by round`;
    ratios.push(cpu, wall);
  }

  // 2. Every backend by name, in rounds of their own. Pure JavaScript is two orders of magnitude
  // slower: it gets a sixteenth of the input, so that it does not take most of the bench's time.
  const ops: Op[] = [];
  for (const backend of backends) {
    const part = backend === 'noble' ? plaintext.subarray(0, size / 16) : plaintext;
    const writes = slices(part, WRITE_SIZE);
    const sealed = await ciphertextFor(core, key, backend, part, writes);
    ops.push(...streamOps(core, key, backend, part.length, writes, sealed));
  }
  const samples = await runRounds(ops, ctx.runs, (round, results) => {
    const line = [...results].map(([name, v]) => `${name.replace('core_', '')} ${v.toFixed(0)}`).join(', ');
    log(`  round ${round + 1}/${ctx.runs}: ${line} MB/s`);
  });
  const note = (op: Op) => `${formatBytes(op.bytes)} in memory, written ${formatBytes(WRITE_SIZE)} at a time`;
  const figures = [...headFigures, ...ratios, ...figuresOf(ops, samples, 'core', note)];
  return { figures, skips };
}
