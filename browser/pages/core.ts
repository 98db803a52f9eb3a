/**
 * Test page for @sealstream/core in Chromium: vectors, round trips with the Node side through the
 * test server, random access over HTTP Range and the memory probe. Each function is
 * called by browser/test/core.test.ts through `page.evaluate`.
 */
import {
  type BackendName,
  CHUNK_SIZE,
  createOpener,
  createWorkerPool,
  decrypt,
  decryptStream,
  encrypt,
  encryptStream,
  isSealstreamError,
  openHeader,
  openPrefixLength,
  readHeaderLength,
  resolveBackend,
  SEALED_CHUNK_SIZE,
  type WorkerPool,
  type WorkersOption,
} from '@sealstream/core';
import type { Vector } from '../../packages/core/scripts/generate-vectors.ts';
import { vectorOpenOptions } from '../../packages/core/test/vector-options.ts';
import { fromHex, generated, pattern, toHex } from './pattern.ts';

/** What a decryption produced: its error code (or 'success'), and the output's length and SHA-256. */
export interface Outcome {
  name: string;
  mode: 'whole' | 'streamed';
  code: string;
  length: number;
  sha256: string;
}

/**
 * Sealing Workers started on this page and not terminated yet: the Worker global is wrapped to count
 * them, so that a test can check that a stream ends its Workers however it ends.
 */
const liveWorkers = new Set<Worker>();
const PageWorker = globalThis.Worker;
globalThis.Worker = class CountedWorker extends PageWorker {
  constructor(url: string | URL, options?: WorkerOptions) {
    super(url, options);
    liveWorkers.add(this);
  }
  override terminate() {
    liveWorkers.delete(this);
    super.terminate();
  }
};

/** How a test names the `workers` option: a count, 'auto', 'pool' (one pool shared by every call), or none. */
export type WorkersArg = number | 'auto' | 'pool' | undefined;
let sharedPool: WorkerPool | undefined;
function workersOption(arg: WorkersArg): WorkersOption | undefined {
  if (arg !== 'pool') return arg;
  // the Worker's script named by the page, as a site that serves it elsewhere would
  sharedPool ??= createWorkerPool({
    size: 2,
    createWorker: () => new Worker('/seal-worker.js', { type: 'module' }),
  });
  return sharedPool;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

const codeOf = (err: unknown) =>
  err === undefined ? 'success' : isSealstreamError(err) ? err.code : `not a SealstreamError: ${String(err)}`;

async function collect(stream: ReadableStream<Uint8Array>): Promise<{ bytes: Uint8Array; error?: unknown }> {
  const parts: Uint8Array[] = [];
  let error: unknown;
  try {
    for await (const part of stream as unknown as AsyncIterable<Uint8Array>) parts.push(part.slice());
  } catch (e) {
    error = e;
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    bytes.set(p, offset);
    offset += p.length;
  }
  return { bytes, error };
}

function streamOf(bytes: Uint8Array, writeSize: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(c) {
      if (offset >= bytes.length) return c.close();
      c.enqueue(bytes.slice(offset, offset + writeSize));
      offset += writeSize;
    },
  });
}

/** Every vector, whole and streamed in 1000-byte writes, on one backend. */
async function vectors(backend: BackendName): Promise<Outcome[]> {
  const list: Vector[] = await (await fetch('/vectors.json')).json();
  const out: Outcome[] = [];
  for (const v of list) {
    const options = vectorOpenOptions(v, backend);
    const file = fromHex(v.file);
    let whole: Uint8Array = new Uint8Array(0);
    let error: unknown;
    try {
      whole = await decrypt(file, options);
    } catch (e) {
      error = e;
    }
    out.push({
      name: v.name,
      mode: 'whole',
      code: codeOf(error),
      length: whole.length,
      sha256: await sha256(whole),
    });
    const streamed = await collect(streamOf(file, 1000).pipeThrough(decryptStream(options)));
    out.push({
      name: v.name,
      mode: 'streamed',
      code: codeOf(streamed.error),
      length: streamed.bytes.length,
      sha256: await sha256(streamed.bytes),
    });
  }
  return out;
}

/** Seals `size` pattern bytes to `keyHex` and uploads the object to the test server as `name`. */
async function sealToServer(
  name: string,
  size: number,
  seed: number,
  keyHex: string,
  backend: BackendName,
  workers?: WorkersArg,
) {
  const plain = pattern(size, seed);
  const sealed = await collect(
    streamOf(plain, 1 << 20).pipeThrough(
      encryptStream({ recipients: [fromHex(keyHex)], backend, workers: workersOption(workers) }),
    ),
  );
  if (sealed.error) throw sealed.error;
  const res = await fetch(`/blob/${encodeURIComponent(name)}`, {
    method: 'PUT',
    body: sealed.bytes as Uint8Array<ArrayBuffer>,
  });
  if (!res.ok) throw new Error(`upload failed: ${res.status}`);
  return { sealedLength: sealed.bytes.length, sha256: await sha256(plain) };
}

/** Downloads `name` from the test server and decrypts it as a stream. */
async function openFromServer(name: string, keys: string[], backend: BackendName, workers?: WorkersArg) {
  const res = await fetch(`/blob/${encodeURIComponent(name)}`);
  const plain = await collect(
    res.body!.pipeThrough(
      decryptStream({ keys: keys.map(fromHex), backend, workers: workersOption(workers) }),
    ),
  );
  return { code: codeOf(plain.error), length: plain.bytes.length, sha256: await sha256(plain.bytes) };
}

/** Ranged GET of [start, end) from the test server; returns the bytes and the object's total size. */
async function fetchRange(name: string, start: number, end: number) {
  const res = await fetch(`/blob/${encodeURIComponent(name)}`, {
    headers: { range: `bytes=${start}-${end - 1}` },
  });
  if (res.status !== 206) throw new Error(`expected 206, got ${res.status}`);
  const total = Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1]);
  return { bytes: new Uint8Array(await res.arrayBuffer()), total };
}

/** Random access: opens the header with one small ranged read, then reads plaintext [start, end). */
async function readRange(name: string, keyHex: string, start: number, end: number) {
  const first = await fetchRange(name, 0, 4096);
  const h = readHeaderLength(first.bytes);
  if (h === undefined) throw new Error('header longer than the first read');
  const prefix =
    first.bytes.length >= openPrefixLength(h)
      ? first.bytes
      : (await fetchRange(name, 0, openPrefixLength(h))).bytes;
  const opened = await openHeader(prefix, { keys: [fromHex(keyHex)] });
  const plan = opened.planRange({ start, end }, first.total);
  const sealed = await fetchRange(name, plan.ciphertextStart, plan.ciphertextEnd);
  const plain = await opened.decryptRange(plan, sealed.bytes);
  return {
    hex: toHex(plain),
    fetched: plan.ciphertextEnd - plan.ciphertextStart,
    size: opened.plaintextSize(first.total),
  };
}

/** Seals then opens `total` bytes as one pipeline, for the memory probe; returns plaintext bytes out. */
async function streamThrough(total: number, workers?: WorkersArg) {
  const key = new Uint8Array(32).fill(2);
  let out = 0;
  await generated(total)
    .pipeThrough(encryptStream({ recipients: [key], backend: 'webcrypto', workers: workersOption(workers) }))
    .pipeThrough(decryptStream({ keys: [key], backend: 'webcrypto', workers: workersOption(workers) }))
    .pipeTo(new WritableStream({ write: (c) => void (out += c.length) }));
  return out;
}

/** Which backend the automatic choice gives here, or the error code it throws. */
function automaticBackend() {
  try {
    return { name: resolveBackend().name, secure: globalThis.isSecureContext };
  } catch (err) {
    return { code: codeOf(err), message: (err as Error).message, secure: globalThis.isSecureContext };
  }
}

/** A small round trip on the automatic or a named backend, or the error code it ends with. */
async function roundTrip(backend?: BackendName) {
  try {
    const key = new Uint8Array(32).fill(5);
    const plain = pattern(40000, 9);
    const sealed = await collect(
      streamOf(plain, 4096).pipeThrough(encryptStream({ recipients: [key], backend })),
    );
    if (sealed.error) throw sealed.error;
    const back = await decrypt(sealed.bytes, { keys: [key], backend });
    return { ok: toHex(back) === toHex(plain) };
  } catch (err) {
    return { code: codeOf(err), message: (err as Error).message };
  }
}

/** Deterministic randomness for sealing the same bytes in the page and in Node (tests only; Node's side is in webcrypto-runs.test.ts). */
function fixedRandom(): (length: number) => Uint8Array {
  let n = 0;
  return (length) => pattern(length, 1000 + n++);
}

/**
 * Seals pattern(size, 21) to `keyHex` with fixed randomness, streamed in `writeSize` writes and whole
 * with encrypt(): both SHA-256s and the length, for comparison with Node's backends.
 */
async function sealFixed(
  size: number,
  writeSize: number,
  keyHex: string,
  backend: BackendName,
  workers?: WorkersArg,
) {
  const plain = pattern(size, 21);
  const options = () => ({ recipients: [fromHex(keyHex)], backend, _random: fixedRandom() });
  const streamed = await collect(
    streamOf(plain, writeSize).pipeThrough(encryptStream({ ...options(), workers: workersOption(workers) })),
  );
  if (streamed.error) throw streamed.error;
  const whole = await encrypt(plain, options());
  return { length: whole.length, whole: await sha256(whole), streamed: await sha256(streamed.bytes) };
}

/**
 * Seals pattern(size, 22) in the page, flips one bit of sealed chunk `flipChunk`, and opens it three
 * ways on WebCrypto: decryptStream fed `writeSize` writes (what it released before failing, and
 * whether that is the plaintext's prefix), decrypt() (whole), and one PayloadOpener call over the
 * whole payload (what its output holds after the failure).
 */
async function openTampered(size: number, flipChunk: number, writeSize: number, workers?: WorkersArg) {
  const key = new Uint8Array(32).fill(6);
  const plain = pattern(size, 22);
  const sealed = await encrypt(plain, { recipients: [key], backend: 'webcrypto' });
  const start = openPrefixLength(readHeaderLength(sealed)!);
  sealed[start + flipChunk * SEALED_CHUNK_SIZE + 100]! ^= 1;
  const options = { keys: [key], backend: 'webcrypto' as const };

  const streamed = await collect(
    streamOf(sealed, writeSize).pipeThrough(decryptStream({ ...options, workers: workersOption(workers) })),
  );
  const released = streamed.bytes;
  const prefixOk = toHex(released) === toHex(plain.subarray(0, released.length));

  let wholeCode = 'success';
  try {
    await decrypt(sealed, options);
  } catch (err) {
    wholeCode = codeOf(err);
  }

  const { opener, payloadStart } = await createOpener(sealed.subarray(0, start), options);
  const out = new Uint8Array(size).fill(0xaa);
  let openerCode = 'success';
  try {
    await opener.open(sealed.subarray(payloadStart), out, true);
  } catch (err) {
    openerCode = codeOf(err);
  }
  const cut = flipChunk * CHUNK_SIZE;
  return {
    streamCode: codeOf(streamed.error),
    released: released.length,
    prefixOk,
    wholeCode,
    openerCode,
    openerBefore: toHex(out.subarray(0, cut)) === toHex(plain.subarray(0, cut)),
    openerFailedZeroed: out.subarray(cut, cut + CHUNK_SIZE).every((b) => b === 0),
    openerAfterUntouched: out.subarray(cut + CHUNK_SIZE).every((b) => b === 0xaa),
  };
}

/**
 * Starts a stream (`workers: 2` unless told) over `total` generated bytes (encrypting, or decrypting what was
 * sealed) and stops it mid-way as `how` says: the reader cancels, the pipe is aborted by a signal, or
 * the input turns out tampered. Returns the Workers alive while it ran and after it stopped.
 */
async function stopMidStream(
  how: 'cancel' | 'abort' | 'tampered' | 'complete',
  total: number,
  workers: WorkersArg | null = 2, // null: none, the page-thread stream
) {
  const key = new Uint8Array(32).fill(8);
  let during = 0;
  if (how === 'tampered') {
    const sealed = await encrypt(pattern(total, 3), { recipients: [key], backend: 'webcrypto' });
    sealed[sealed.length - 5 * SEALED_CHUNK_SIZE]! ^= 1;
    const opened = await collect(
      streamOf(sealed, 1 << 20).pipeThrough(
        decryptStream({
          keys: [key],
          backend: 'webcrypto',
          workers: workersOption(workers ?? undefined),
          onOpen: () => {},
        }),
      ),
    );
    during = liveWorkers.size; // the stream has ended (with its error): nothing may be left
    return { during, after: liveWorkers.size, code: codeOf(opened.error), released: opened.bytes.length };
  }
  const sealing = generated(total).pipeThrough(
    encryptStream({ recipients: [key], backend: 'webcrypto', workers: workersOption(workers ?? undefined) }),
  );
  if (how === 'abort') {
    const controller = new AbortController();
    let seen = 0;
    const piped = sealing
      .pipeTo(
        new WritableStream({
          write(c) {
            seen += c.length;
            during = Math.max(during, liveWorkers.size);
            if (seen > 4 << 20) controller.abort(new Error('stop'));
          },
        }),
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    await piped;
  } else {
    const reader = sealing.getReader();
    let seen = 0;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      seen += r.value.length;
      during = Math.max(during, liveWorkers.size);
      if (how === 'cancel' && seen > 4 << 20) {
        await reader.cancel(new Error('stop'));
        break;
      }
    }
  }
  // terminate() is called synchronously by the stream's cancel/flush: one turn is enough
  await new Promise((r) => setTimeout(r, 0));
  return { during, after: liveWorkers.size, code: 'success', released: 0 };
}

/** sealFixed with no Worker global on the page (as in a Worker, or a runtime without them). */
async function sealFixedWithoutWorkerGlobal(size: number, keyHex: string) {
  const saved = globalThis.Worker;
  // biome-ignore lint/suspicious/noExplicitAny: removing a global for the length of one call
  delete (globalThis as any).Worker;
  try {
    return await sealFixed(size, 1 << 20, keyHex, 'webcrypto', 2);
  } finally {
    globalThis.Worker = saved;
  }
}

/**
 * A consumer that goes away while the stream still works (`workers: 2` unless told): the reader
 * cancels after the first chunk while the whole input is written at once, or a pipe runs into a sink
 * that fails. Returns what each side settled with, as names: a `TypeError` here would be the
 * stream's own enqueue into a readable side that is gone, reported instead of the consumer's reason.
 */
async function goneConsumer(direction: 'encrypt' | 'decrypt', workers: WorkersArg | null = 2) {
  const key = new Uint8Array(32).fill(9);
  const plain = pattern(8 << 20, 5);
  const input =
    direction === 'encrypt' ? plain : await encrypt(plain, { recipients: [key], backend: 'webcrypto' });
  const make = () =>
    direction === 'encrypt'
      ? encryptStream({
          recipients: [key],
          backend: 'webcrypto',
          workers: workersOption(workers ?? undefined),
        })
      : decryptStream({ keys: [key], backend: 'webcrypto', workers: workersOption(workers ?? undefined) });
  const settled = (p: Promise<unknown>) =>
    p.then(
      () => 'resolved',
      (e: unknown) =>
        e instanceof TypeError ? `TypeError: ${e.message}` : ((e as Error)?.message ?? String(e)),
    );
  const stream = make();
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const written = settled(writer.write(input));
  const closed = settled(writer.close());
  await reader.read();
  const cancelled = settled(reader.cancel(new Error('the consumer is gone')));
  const broken = new Error('the sink broke');
  const piped = settled(
    streamOf(input, 1 << 20)
      .pipeThrough(make())
      .pipeTo(
        new WritableStream({
          write() {
            throw broken;
          },
        }),
      ),
  );
  return { cancelled: await cancelled, written: await written, closed: await closed, piped: await piped };
}

/** The shared pool's Workers and whether closing it ends them. */
function closeSharedPool() {
  const before = liveWorkers.size;
  sharedPool?.close();
  sharedPool = undefined;
  return { before, after: liveWorkers.size };
}

Object.assign(globalThis, {
  coreTest: {
    stopMidStream,
    goneConsumer,
    sealFixedWithoutWorkerGlobal,
    closeSharedPool,
    liveWorkers: () => liveWorkers.size,
    vectors,
    sealToServer,
    openFromServer,
    readRange,
    streamThrough,
    sealFixed,
    openTampered,
    automaticBackend,
    roundTrip,
  },
});
document.title = 'ready';
