/**
 * Throughput page: the WebCrypto path of @sealstream/core in Chromium, from the raw crypto.subtle
 * ceiling up to the streams, so that a figure can be read against what the browser itself allows.
 * Each function times one run of `total` bytes and returns the milliseconds; the Node side
 * (browser/harness/throughput.ts) adds the renderer's CPU time and makes the figures.
 */
import {
  CHUNK_SIZE,
  createOpener,
  createSealer,
  decryptStream,
  encryptStream,
  openPrefixLength,
  readHeaderLength,
  SEALED_CHUNK_SIZE,
  sealedLength,
} from '@sealstream/core';
import { generated, PROBE_KEY as KEY, pattern } from './pattern.ts';

/** Chunks per call of the sealer/opener loops, as the streams' runs. */
const RUN = 64;

type Bytes = Uint8Array<ArrayBuffer>;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * The ceiling: AES-256-GCM on 16 KiB inputs straight through crypto.subtle.encrypt, `inFlight` calls
 * issued before the first is awaited, results discarded. No format, no copies, no stream.
 */
async function subtle(total: number, inFlight: number): Promise<number> {
  const key = await crypto.subtle.importKey('raw', new Uint8Array(32), 'AES-GCM', false, ['encrypt']);
  const chunk = pattern(CHUNK_SIZE, 3) as Bytes;
  const algorithm = { name: 'AES-GCM', iv: new Uint8Array(12) };
  const view = new DataView(algorithm.iv.buffer);
  const chunks = total / CHUNK_SIZE;
  return timed(async () => {
    for (let i = 0; i < chunks; i += inFlight) {
      const batch: Promise<ArrayBuffer>[] = [];
      for (let j = i; j < Math.min(chunks, i + inFlight); j++) {
        view.setUint32(8, j);
        batch.push(crypto.subtle.encrypt(algorithm, key, chunk));
      }
      await Promise.all(batch);
    }
  });
}

/**
 * The ceiling of a stream: the test source through a TransformStream that seals each 1 MiB write as
 * 64 raw crypto.subtle calls into a fresh buffer, into a sink. What any stream on WebCrypto pays
 * here before the format adds anything.
 */
async function subtleStream(total: number): Promise<number> {
  const key = await crypto.subtle.importKey('raw', new Uint8Array(32), 'AES-GCM', false, ['encrypt']);
  const algorithm = { name: 'AES-GCM', iv: new Uint8Array(12) };
  const view = new DataView(algorithm.iv.buffer);
  let counter = 0;
  const seal = async (plain: Uint8Array) => {
    const n = Math.ceil(plain.length / CHUNK_SIZE);
    const out = new Uint8Array(plain.length + n * 16);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      view.setUint32(8, counter++);
      const dest = out.subarray(i * SEALED_CHUNK_SIZE);
      const input = plain.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE) as Bytes;
      pending.push(crypto.subtle.encrypt(algorithm, key, input).then((r) => dest.set(new Uint8Array(r))));
    }
    await Promise.all(pending);
    return out;
  };
  return timed(() =>
    generated(total)
      .pipeThrough(new TransformStream({ transform: async (c, ctl) => ctl.enqueue(await seal(c)) }))
      .pipeTo(new WritableStream({ write() {} })),
  );
}

/**
 * subtleStream with the crypto.subtle calls in `workers` module Workers (/worker.js): each 1 MiB
 * write is transferred to a Worker, sealed there, and transferred back, `window` writes in flight.
 * Whether taking the calls off the page's thread helps on this machine.
 */
async function workerStream(total: number, workers: number, window: number): Promise<number> {
  const pool = Array.from({ length: workers }, () => new Worker('/worker.js', { type: 'module' }));
  const waiting = new Map<number, (sealed: Uint8Array) => void>();
  for (const w of pool)
    w.onmessage = (e: MessageEvent<[number, Uint8Array]>) => waiting.get(e.data[0])!(e.data[1]);
  let next = 0;
  const inFlight: Promise<Uint8Array>[] = [];
  try {
    return await timed(() =>
      generated(total)
        .pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            async transform(c, ctl) {
              const id = next++;
              inFlight.push(
                new Promise((resolve) => {
                  waiting.set(id, resolve);
                  pool[id % workers]!.postMessage([id, c], [c.buffer]);
                }),
              );
              while (inFlight.length >= window) ctl.enqueue(await inFlight.shift()!);
            },
            async flush(ctl) {
              while (inFlight.length > 0) ctl.enqueue(await inFlight.shift()!);
            },
          }),
        )
        .pipeTo(new WritableStream({ write() {} })),
    );
  } finally {
    for (const w of pool) w.terminate();
  }
}

/** PayloadSealer over reused buffers, 64 chunks (1 MiB) per call. */
async function sealer(total: number): Promise<number> {
  const { sealer } = await createSealer({ recipients: [KEY], backend: 'webcrypto' });
  const plain = pattern(RUN * CHUNK_SIZE, 3);
  const out = new Uint8Array(sealedLength(plain.length, false));
  return timed(async () => {
    for (let done = 0; done < total; done += plain.length) await sealer.seal(plain, out, false);
  });
}

/** A sealed object of `total` pattern bytes, kept for the decryption figures. */
let sealedObject: { total: number; bytes: Uint8Array } | undefined;

async function sealedOf(total: number): Promise<Uint8Array> {
  if (sealedObject?.total === total) return sealedObject.bytes;
  const parts: Uint8Array[] = [];
  await generated(total)
    .pipeThrough(encryptStream({ recipients: [KEY], backend: 'webcrypto' }))
    .pipeTo(new WritableStream({ write: (c) => void parts.push(c) }));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  sealedObject = { total, bytes };
  return bytes;
}

/** PayloadOpener over reused buffers, 64 sealed chunks per call, over a sealed object of `total` bytes. */
async function opener(total: number): Promise<number> {
  const sealed = await sealedOf(total);
  const h = readHeaderLength(sealed)!;
  const { opener, payloadStart } = await createOpener(sealed.subarray(0, openPrefixLength(h)), {
    keys: [KEY],
    backend: 'webcrypto',
  });
  const payload = sealed.subarray(payloadStart);
  const step = RUN * SEALED_CHUNK_SIZE;
  const out = new Uint8Array(RUN * CHUNK_SIZE);
  return timed(async () => {
    let at = 0;
    for (; at + step < payload.length; at += step)
      await opener.open(payload.subarray(at, at + step), out, false);
    await opener.open(payload.subarray(at), out, true);
  });
}

/** Where a stream probe reads from: the test source, or a file on disk as a page reads a picked `File`. */
type Source = 'generated' | 'file';

/**
 * The file inputs that the harness fills (Playwright's setInputFiles, as a user picking a file):
 * `plain` with `total` bytes of the test source, `sealed` with them sealed under {@link KEY}.
 */
const inputs = { plain: fileInput('plain'), sealed: fileInput('sealed') };

function fileInput(id: string): HTMLInputElement {
  const input = document.createElement('input');
  input.type = 'file';
  input.id = id;
  document.body.append(input);
  return input;
}

function pickedFile(input: HTMLInputElement): File {
  const file = input.files?.[0];
  if (!file) throw new Error(`no file in #${input.id}: the harness sets it before a file probe`);
  return file;
}

/** The plaintext source of `total` bytes. */
function plaintext(total: number, source: Source): ReadableStream<Uint8Array> {
  if (source === 'generated') return generated(total);
  const file = pickedFile(inputs.plain);
  if (file.size !== total) throw new Error(`#plain holds ${file.size} bytes, not ${total}`);
  return file.stream();
}

/**
 * encryptStream from the source (`generated`: fresh 1 MiB writes made on the page's thread; `file`:
 * a file on disk, picked through an `<input type=file>` and read with `File.stream()`) into a sink; with `workers` (0: none), the
 * stream starts that many sealing Workers (and ends them).
 */
async function encrypt(total: number, workers = 0, source: Source = 'generated'): Promise<number> {
  const input = plaintext(total, source);
  return timed(() =>
    input
      .pipeThrough(encryptStream({ recipients: [KEY], backend: 'webcrypto', workers: workers || undefined }))
      .pipeTo(new WritableStream({ write() {} })),
  );
}

/** The sealed source: fresh 1 MiB copies of the sealed object (`generated`), or the picked sealed file (`file`). */
async function sealedSource(total: number, source: Source): Promise<ReadableStream<Uint8Array>> {
  if (source === 'file') return pickedFile(inputs.sealed).stream();
  const sealed = await sealedOf(total);
  let at = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (at >= sealed.length) return c.close();
        c.enqueue(sealed.slice(at, at + (1 << 20)));
        at += 1 << 20;
      },
    },
    { highWaterMark: 0 },
  );
}

/** decryptStream of a sealed object of `total` bytes from the source, into a sink (`workers` and `source` as in encrypt). */
async function decrypt(total: number, workers = 0, source: Source = 'generated'): Promise<number> {
  const input = await sealedSource(total, source);
  let out = 0;
  const ms = await timed(() =>
    input
      .pipeThrough(decryptStream({ keys: [KEY], backend: 'webcrypto', workers: workers || undefined }))
      .pipeTo(new WritableStream({ write: (c) => void (out += c.length) })),
  );
  if (out !== total) throw new Error(`decryptStream gave ${out} bytes, expected ${total}`);
  return ms;
}

/** The probes by name, as the harness calls them. */
export const probes = { subtle, subtleStream, workerStream, sealer, opener, encrypt, decrypt };

Object.assign(globalThis, { throughput: probes });
document.title = 'ready';
