/**
 * Test page for @sealstream/core in Chromium: vectors, round trips with the Node side through the
 * test server, random access over HTTP Range and the memory probe. Each function is
 * called by browser/test/core.test.ts through `page.evaluate`.
 */
import {
  type BackendName,
  CHUNK_SIZE,
  createOpener,
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
async function sealToServer(name: string, size: number, seed: number, keyHex: string, backend: BackendName) {
  const plain = pattern(size, seed);
  const sealed = await collect(
    streamOf(plain, 1 << 20).pipeThrough(encryptStream({ recipients: [fromHex(keyHex)], backend })),
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
async function openFromServer(name: string, keys: string[], backend: BackendName) {
  const res = await fetch(`/blob/${encodeURIComponent(name)}`);
  const plain = await collect(res.body!.pipeThrough(decryptStream({ keys: keys.map(fromHex), backend })));
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
async function streamThrough(total: number) {
  const key = new Uint8Array(32).fill(2);
  let out = 0;
  await generated(total)
    .pipeThrough(encryptStream({ recipients: [key], backend: 'webcrypto' }))
    .pipeThrough(decryptStream({ keys: [key], backend: 'webcrypto' }))
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
async function sealFixed(size: number, writeSize: number, keyHex: string, backend: BackendName) {
  const plain = pattern(size, 21);
  const options = () => ({ recipients: [fromHex(keyHex)], backend, _random: fixedRandom() });
  const streamed = await collect(streamOf(plain, writeSize).pipeThrough(encryptStream(options())));
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
async function openTampered(size: number, flipChunk: number, writeSize: number) {
  const key = new Uint8Array(32).fill(6);
  const plain = pattern(size, 22);
  const sealed = await encrypt(plain, { recipients: [key], backend: 'webcrypto' });
  const start = openPrefixLength(readHeaderLength(sealed)!);
  sealed[start + flipChunk * SEALED_CHUNK_SIZE + 100]! ^= 1;
  const options = { keys: [key], backend: 'webcrypto' as const };

  const streamed = await collect(streamOf(sealed, writeSize).pipeThrough(decryptStream(options)));
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

Object.assign(globalThis, {
  coreTest: {
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
