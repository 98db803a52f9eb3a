/**
 * Test page for @sealstream/core in Chromium: vectors, round trips with the Node side through the
 * test server, random access over HTTP Range, throughput and memory probes. Each function is
 * called by browser/test/core.test.ts through `page.evaluate`.
 */
import {
  type BackendName,
  decrypt,
  decryptStream,
  encryptStream,
  isSealstreamError,
  openHeader,
  openPrefixLength,
  readHeaderLength,
  resolveBackend,
} from '@sealstream/core';
import { fromHex, generated, pattern, toHex } from './pattern.ts';

interface Vector {
  name: string;
  keys: string[];
  /** Raw keys as text the reader parses, and age private keys (SPEC §3.1, §5.6). */
  keyTexts?: string[];
  privateKeys?: string[];
  passphrases: string[];
  identity?: string;
  maxWorkFactor?: number;
  maxTotalWorkFactor?: number;
  file: string;
}

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
    const options = {
      keys: [
        ...v.keys.map(fromHex),
        ...(v.keyTexts ?? []),
        ...(v.privateKeys ?? []),
        ...v.passphrases.map((passphrase) => ({ passphrase })),
      ],
      identity: v.identity,
      maxWorkFactor: v.maxWorkFactor,
      maxTotalWorkFactor: v.maxTotalWorkFactor,
      backend,
    };
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

/** Seals `total` bytes with encryptStream and throws the output away; MB/s (10^6 bytes per second). */
async function sealThroughput(total: number, backend: BackendName) {
  const t0 = performance.now();
  let out = 0;
  await generated(total)
    .pipeThrough(encryptStream({ recipients: [new Uint8Array(32).fill(1)], backend }))
    .pipeTo(new WritableStream({ write: (c) => void (out += c.length) }));
  const seconds = (performance.now() - t0) / 1000;
  return { mbPerSecond: total / 1e6 / seconds, seconds, sealed: out };
}

/**
 * A prototype of several chunks in flight: AES-GCM over `total` bytes in 16 KiB calls to
 * crypto.subtle.encrypt, `inFlight` of them awaited together (what a batched WebCrypto backend
 * would do). Measures the ceiling, not the format: nonces are not the format's.
 */
async function subtleInFlight(total: number, inFlight: number) {
  const key = await crypto.subtle.importKey('raw', new Uint8Array(32), 'AES-GCM', false, ['encrypt']);
  const chunk = pattern(16384, 3) as Uint8Array<ArrayBuffer>;
  const chunks = Math.ceil(total / chunk.length);
  const t0 = performance.now();
  for (let i = 0; i < chunks; i += inFlight) {
    const batch: Promise<ArrayBuffer>[] = [];
    for (let j = i; j < Math.min(chunks, i + inFlight); j++) {
      const iv = new Uint8Array(12);
      new DataView(iv.buffer).setUint32(8, j);
      batch.push(crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, chunk));
    }
    await Promise.all(batch);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { mbPerSecond: (chunks * chunk.length) / 1e6 / seconds, inFlight };
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

/** The test source alone (pattern slices through a stream into a sink): the cost outside sealing. */
async function sourceThroughput(total: number) {
  const t0 = performance.now();
  await generated(total).pipeTo(new WritableStream({ write: () => {} }));
  return { mbPerSecond: total / 1e6 / ((performance.now() - t0) / 1000) };
}

/**
 * encryptStream fed one premade buffer of `chunkBytes` over and over (no source cost), to see how
 * the size of the writes into the stream matters.
 */
async function sealChunksThroughput(total: number, chunkBytes: number) {
  const block = pattern(chunkBytes, 9);
  let sent = 0;
  const source = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (sent >= total) return c.close();
        c.enqueue(block);
        sent += block.length;
      },
    },
    { highWaterMark: 0 },
  );
  const t0 = performance.now();
  await source
    .pipeThrough(encryptStream({ recipients: [new Uint8Array(32).fill(1)], backend: 'webcrypto' }))
    .pipeTo(new WritableStream({ write: () => {} }));
  return { mbPerSecond: sent / 1e6 / ((performance.now() - t0) / 1000), chunkBytes };
}

/**
 * subtleInFlight as the WebCrypto backend does it: a fresh nonce per chunk and each result copied
 * into an output batch, `inFlight` chunks awaited together.
 */
async function subtleWithCopies(total: number, inFlight: number) {
  const key = await crypto.subtle.importKey('raw', new Uint8Array(32), 'AES-GCM', false, ['encrypt']);
  const plain = pattern(inFlight * 16384, 3) as Uint8Array<ArrayBuffer>;
  const out = new Uint8Array(inFlight * 16400);
  const chunks = Math.ceil(total / 16384);
  const t0 = performance.now();
  for (let i = 0; i < chunks; i += inFlight) {
    const batch: Promise<void>[] = [];
    for (let j = 0; j < Math.min(inFlight, chunks - i); j++) {
      const iv = new Uint8Array(12);
      new DataView(iv.buffer).setUint32(8, i + j);
      const params = { name: 'AES-GCM', iv, additionalData: new Uint8Array(0) };
      batch.push(
        crypto.subtle
          .encrypt(params, key, plain.subarray(j * 16384, (j + 1) * 16384))
          .then((r) => out.set(new Uint8Array(r), j * 16400)),
      );
    }
    await Promise.all(batch);
  }
  return { mbPerSecond: (chunks * 16384) / 1e6 / ((performance.now() - t0) / 1000), inFlight };
}

Object.assign(globalThis, {
  coreTest: {
    vectors,
    sealToServer,
    openFromServer,
    readRange,
    sealThroughput,
    subtleInFlight,
    sourceThroughput,
    sealChunksThroughput,
    subtleWithCopies,
    streamThrough,
    automaticBackend,
    roundTrip,
  },
});
document.title = 'ready';
