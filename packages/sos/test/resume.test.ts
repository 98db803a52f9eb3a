/**
 * Resumable uploads against the real RGW (over TLS, through the fault proxy that counts the bytes
 * sent): an upload interrupted at several points is continued from its journal, and the result is
 * the object an uninterrupted upload gives, with nothing left behind and no key on disk.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListMultipartUploadsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  bytesSource,
  decrypt,
  generateKey,
  inspectSealed,
  openSealed,
  resumeSealing,
} from '@sealstream/core';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openPayload } from '../../core/src/open.ts';
import {
  createSosClient,
  type Encryption,
  type PutObjectOptions,
  type PutObjectResult,
  putObject,
  sseCParams,
} from '../src/index.ts';
import type { Journal } from '../src/resume/journal.ts';
import { listParts } from '../src/resume/put.ts';
import { collect, scratchDir, useTestBucket } from './helpers.ts';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.ts';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
/** 5 parts of 5 MiB with every layer (the last one short), and a plaintext not a multiple of a chunk. */
const SIZE = 21 * MiB + 12_345;

let direct: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  direct = c;
  bucket = b;
});

const dir = scratchDir('resume');

let fileCounter = 0;
/** A fresh source file of `size` random bytes. */
function sourceFile(size = SIZE): { path: string; data: Uint8Array } {
  const path = join(dir, `source-${fileCounter++}.bin`);
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) data.set(createHash('sha256').update(`${path}${i}`).digest(), i);
  writeFileSync(path, data);
  // whole seconds: a test can put the mtime back exactly after changing the content
  utimesSync(path, 1_000_000, 1_000_000);
  return { path, data };
}

/** A client through a fresh fault proxy, which counts the bytes sent. */
async function proxied(): Promise<{ proxy: FaultProxy; client: S3Client; close: () => Promise<void> }> {
  const s3 = inject('s3');
  const proxy = await startFaultProxy(s3.endpoint);
  const client = createSosClient({
    endpoint: proxy.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ca: s3.caFile,
    timeouts: { connectMs: 5000, idleMs: 10_000, requestMs: 60_000, cleanupMs: 5000 },
  });
  return {
    proxy,
    client,
    close: async () => {
      client.destroy();
      await proxy.close();
    },
  };
}

/** Calls `interrupt` once `condition()` holds (polled every 2 ms); returns a stop function. */
function abortWhen(controller: AbortController, condition: () => boolean, interrupt: () => void): () => void {
  const timer = setInterval(() => {
    if (controller.signal.aborted) return clearInterval(timer);
    if (condition()) {
      interrupt();
      clearInterval(timer);
    }
  }, 2);
  return () => clearInterval(timer);
}

async function uploadsOf(key: string): Promise<number> {
  const out = await direct.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  return (out.Uploads ?? []).filter((u) => u.Key === key).length;
}

async function stored(key: string, encryption: Encryption): Promise<Uint8Array> {
  const sseC = typeof encryption === 'object' && encryption.sseC && 'key' in encryption.sseC;
  const out = await direct.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      ...(sseC ? sseCParams((encryption as { sseC: { key: Uint8Array } }).sseC.key) : {}),
    }),
  );
  return collect(out.Body!.transformToWebStream());
}

const readJournal = (path: string): Journal => JSON.parse(readFileSync(path, 'utf8'));
const exists = (path: string) => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};

/** Every spelling of `key` that must never appear in a journal. */
function spellings(key: Uint8Array): string[] {
  const b = Buffer.from(key);
  return [
    b.toString('latin1'),
    b.toString('base64'),
    b.toString('base64').replace(/=+$/, ''),
    b.toString('base64url'),
    b.toString('hex'),
    b.toString('hex').toUpperCase(),
  ];
}

function expectNoKey(journalText: string, keys: Uint8Array[]): void {
  for (const key of keys) {
    for (const s of spellings(key))
      expect(journalText.includes(s), 'a key spelling in the journal').toBe(false);
  }
}

type Mode = 'client-side' | 'sse-c' | 'both' | 'none';
function encryptionFor(mode: Mode, clientKey: Uint8Array, sseKey: Uint8Array): Encryption {
  switch (mode) {
    case 'client-side':
      return { clientSide: { keys: clientKey, identity: true } };
    case 'sse-c':
      return { sseC: { key: sseKey } };
    case 'both':
      return { clientSide: { keys: clientKey }, sseC: { key: sseKey } };
    case 'none':
      return 'none';
  }
}

/** The measurements of one interruption point, printed at the end (and in the report). */
const measured: string[] = [];
afterAll(() => {
  if (measured.length > 0) console.log(`bytes re-sent per interruption point:\n${measured.join('\n')}`);
});

/** Bytes an uninterrupted upload of a SIZE file sends through the proxy, per mode (measured once). */
const cleanBytes = new Map<Mode, number>();
async function cleanUpload(mode: Mode, clientKey: Uint8Array, sseKey: Uint8Array): Promise<number> {
  const known = cleanBytes.get(mode);
  if (known !== undefined) return known;
  const { path } = sourceFile();
  const { proxy, client, close } = await proxied();
  try {
    const key = `clean-${mode}`;
    await putObject({
      client,
      bucket,
      key,
      body: path,
      encryption: encryptionFor(mode, clientKey, sseKey),
      partSize: PART,
      queueSize: 2,
      resume: { journal: join(dir, `clean-${mode}.journal`) },
    });
    cleanBytes.set(mode, proxy.forwarded.up);
    return proxy.forwarded.up;
  } finally {
    await close();
  }
}

/**
 * Where the first attempt stops. `progress` sees the stored bytes (onProgress); `sent` the bytes
 * through the proxy.
 */
interface Interruption {
  name: string;
  /** How: the caller's AbortSignal (default), or the store becoming unreachable (until the resume). */
  how?: 'abort' | 'outage';
  /** Stop once this holds; `loaded` is what the server stored, `sent` what went through the proxy. */
  when: (loaded: number, sent: number, sealedSize: number) => boolean;
}

const POINTS: Interruption[] = [
  { name: 'during part 1', when: (_l, sent) => sent >= 2 * MiB },
  { name: 'between parts (2 stored)', when: (loaded) => loaded >= 2 * PART },
  { name: 'during the last part', when: (_l, sent, total) => sent >= total - MiB },
  { name: 'before complete (all parts stored)', when: (loaded, _s, total) => loaded >= total },
  {
    name: 'during complete (store unreachable)',
    how: 'outage',
    when: (loaded, _s, total) => loaded >= total,
  },
];

/**
 * Runs a first attempt interrupted at `point`, then resumes it; checks everything about the result.
 * @returns What the resumed putObject reported.
 */
async function interruptAndResume(
  mode: Mode,
  point: Interruption,
  between?: (journalPath: string, journal: Journal) => Promise<void>,
  label = point.name,
): Promise<PutObjectResult> {
  const clientKey = generateKey();
  const sseKey = generateKey();
  const encryption = encryptionFor(mode, clientKey, sseKey);
  const clean = await cleanUpload(mode, generateKey(), generateKey());
  const { path, data } = sourceFile();
  const key = `resume-${mode}-${point.name.replace(/\W+/g, '-')}`;
  const journal = join(dir, `${key}.journal`);
  const { proxy, client, close } = await proxied();
  try {
    // first attempt: interrupted
    const controller = new AbortController();
    let loaded = 0;
    let total = Number.POSITIVE_INFINITY;
    const versions: string[] = [];
    const interrupt = () => {
      if (point.how === 'outage') proxy.outage('reset');
      else controller.abort(new Error('interrupted by the test'));
    };
    const stop = abortWhen(controller, () => point.when(loaded, proxy.forwarded.up, total), interrupt);
    const put = (extra: Partial<PutObjectOptions>) =>
      putObject({ client, bucket, key, body: path, encryption, partSize: PART, queueSize: 2, ...extra });
    const first = await put({
      signal: controller.signal,
      onProgress: (p) => {
        loaded = p.loaded;
        total = p.total ?? total;
        // every version of the journal (one per part) is searched for keys below
        if (exists(journal)) versions.push(readFileSync(journal, 'utf8'));
        if (point.when(loaded, proxy.forwarded.up, total)) interrupt();
      },
      resume: { journal },
    }).catch((e) => e);
    stop();
    expect(first.name, String(first)).toBe('UploadResumableError');
    // the store gone: a reset or a timeout, whichever the SDK meets first
    expect(point.how === 'outage' ? ['SERVER_FAULT', 'TIMEOUT'] : ['ABORTED']).toContain(first.code);
    proxy.outage(false);
    expect(first.message).toContain(journal);
    expect(first.message).not.toContain('no parts were left');
    expect(await uploadsOf(key), 'the upload is kept for the resume').toBe(1);
    expect(exists(journal)).toBe(true);
    const text = readFileSync(journal, 'utf8');
    const j: Journal = JSON.parse(text);
    expect(statSync(journal).mode & 0o777).toBe(0o600);
    // no key in the journal: the client-side key, the SSE-C key, the data key
    const keys = [clientKey, sseKey];
    if (j.header !== undefined) {
      const opened = await openPayload(Buffer.from(j.header, 'base64'), { keys: clientKey });
      keys.push(opened.dataKey);
    }
    for (const version of [...versions, text]) expectNoKey(version, keys);
    expect(text).not.toContain(sseCParams(sseKey).SSECustomerKeyMD5);
    const sentFirst = proxy.forwarded.up;
    await between?.(journal, j);

    // the resume
    let info: unknown;
    const result = await put({
      resume: { journal, onResume: (i) => (info = i) },
      onProgress: () => {
        if (exists(journal)) expectNoKey(readFileSync(journal, 'utf8'), keys);
      },
    });
    const sentTotal = proxy.forwarded.up;
    expect(info).toEqual({
      uploadId: j.uploadId,
      partsSkipped: result.resumed?.partsSkipped,
      bytesSkipped: result.resumed?.bytesSkipped,
      partsTotal: j.plan.parts,
    });
    expect(exists(journal), 'the journal is removed').toBe(false);
    expect(await uploadsOf(key), 'no multipart upload left').toBe(0);
    expect(result.plaintextSize).toBe(SIZE);

    // the object: decrypts to the file; its sealed bytes are those of an uninterrupted seal with that header
    const raw = await stored(key, encryption);
    expect(raw.length).toBe(result.size);
    if (j.header !== undefined) {
      const header = Buffer.from(j.header, 'base64');
      const identity = mode === 'client-side' ? `${bucket}/${key}` : undefined;
      const sealing = await resumeSealing(header, { keys: clientKey, identity, size: SIZE });
      const expected = new Uint8Array(sealing.sealedSize);
      await sealing.sealRange(0, expected.length, expected, async (offset, into) =>
        into.set(data.subarray(offset, offset + into.length)),
      );
      expect(Buffer.compare(raw, expected), 'sealed bytes of an uninterrupted seal').toBe(0);
      const facts = await inspectSealed(bytesSource(raw));
      expect(facts?.size).toBe(SIZE);
      const opened = await openSealed(bytesSource(raw), {
        keys: clientKey,
        ...(identity ? { identity } : {}),
      });
      expect(Buffer.compare(await opened.read(), data)).toBe(0);
      expect(Buffer.compare(await decrypt(raw, { keys: clientKey }), data)).toBe(0);
    } else {
      expect(Buffer.compare(raw, data)).toBe(0);
    }
    const resent = sentFirst + (sentTotal - sentFirst) - clean;
    measured.push(
      `  ${mode.padEnd(11)} ${label.padEnd(44)} first attempt sent ${(sentFirst / MiB).toFixed(2)} MiB, ` +
        `resume sent ${((sentTotal - sentFirst) / MiB).toFixed(2)} MiB, skipped ${result.resumed?.partsSkipped} parts; ` +
        `re-sent ${(resent / MiB).toFixed(2)} MiB (${(resent / PART).toFixed(2)} parts) over an uninterrupted upload`,
    );
    await direct.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    return result;
  } finally {
    await close();
  }
}

describe('an interrupted upload resumes into the same object (client-side)', () => {
  it.each(POINTS)('$name', async (point) => {
    const result = await interruptAndResume('client-side', point);
    expect(result.resumed).toBeDefined();
  });
});

describe.each(['sse-c', 'both', 'none'] as const)('the same with encryption %s', (mode) => {
  it('between parts', async () => {
    await interruptAndResume(mode, POINTS[1]!);
  });
});

describe('holes and disagreements between the journal and the server', () => {
  it('a part the server holds but the journal lost (adopted by its MD5), and a journaled part the server holds differently (sent again)', async () => {
    const result = await interruptAndResume(
      'client-side',
      POINTS[3]!,
      async (journalPath, j) => {
        // part 3 was stored but never journaled (a kill between the answer and the journal write)
        const edited = { ...j, parts: j.parts.filter((p) => p.number !== 3) };
        writeFileSync(journalPath, JSON.stringify(edited), { mode: 0o600 });
        // part 2 on the server is not what the journal says (another ETag): it must be sent again
        await direct.send(
          new UploadPartCommand({
            Bucket: j.bucket,
            Key: j.key,
            UploadId: j.uploadId,
            PartNumber: 2,
            Body: new Uint8Array(PART),
          }),
        );
      },
      'part 3 not journaled, part 2 differs',
    );
    // part 3 is recognized by its content (its ETag is the MD5 of the part it must be); part 2 is not
    expect(result.resumed?.partsSkipped).toBe(4);
    expect(result.resumed?.bytesResent).toBe(PART);
  });

  it('an upload completed with its journal still there (killed after the completion) is recognized', async () => {
    const result = await interruptAndResume(
      'client-side',
      POINTS[3]!,
      async (_path, j) => {
        await direct.send(
          new CompleteMultipartUploadCommand({
            Bucket: j.bucket,
            Key: j.key,
            UploadId: j.uploadId,
            MultipartUpload: {
              Parts: [...j.parts]
                .sort((a, b) => a.number - b.number)
                .map((p) => ({ PartNumber: p.number, ETag: p.etag })),
            },
          }),
        );
      },
      'completed, journal left behind',
    );
    expect(result.resumed).toEqual({ partsSkipped: 5, bytesSkipped: result.size, bytesResent: 0 });
  });
});

it('ListParts is read page after page', async () => {
  const key = 'paged';
  const { UploadId } = await direct.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  try {
    for (let n = 1; n <= 5; n++) {
      await direct.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: new Uint8Array(n) }),
      );
    }
    const parts = await listParts(direct, { bucket, key, uploadId: UploadId! }, undefined, undefined, 2);
    expect([...(parts?.keys() ?? [])].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(parts?.get(4)?.Size).toBe(4);
  } finally {
    await direct.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
  }
  expect(await listParts(direct, { bucket, key, uploadId: UploadId! }, undefined, undefined)).toBeUndefined();
});

/** `putObject` of `body` to `key` of the test bucket (no proxy), in 5 MiB parts. */
function putFile(
  key: string,
  body: PutObjectOptions['body'],
  encryption: Encryption,
  extra: Partial<PutObjectOptions> = {},
): Promise<PutObjectResult> {
  return putObject({ client: direct, bucket, key, body, encryption, partSize: PART, ...extra });
}

/** A first attempt interrupted after 2 parts: its journal, for the refusals. */
async function interrupted(
  encryption: Encryption,
  key: string,
): Promise<{ path: string; journal: string; j: Journal; data: Uint8Array }> {
  const { path, data } = sourceFile(12 * MiB);
  const journal = join(dir, `${key}.journal`);
  const controller = new AbortController();
  const err = await putFile(key, path, encryption, {
    queueSize: 1,
    signal: controller.signal,
    onProgress: (p) => p.loaded >= PART && controller.abort(),
    resume: { journal },
  }).catch((e) => e);
  expect(err.name).toBe('UploadResumableError');
  return { path, journal, j: readJournal(journal), data };
}

describe('refusals', () => {
  const clientKey = generateKey();
  const sseKey = generateKey();

  it('a changed source: SOURCE_CHANGED (size, content with the mtime kept); restart starts over', async () => {
    const encryption: Encryption = { clientSide: { keys: clientKey } };
    const key = 'changed-source';
    const { path, journal, j, data } = await interrupted(encryption, key);
    const put = (extra = {}) => putFile(key, path, encryption, { resume: { journal, ...extra } });
    // same size and mtime, first byte changed
    const changed = new Uint8Array(data);
    changed[0]! ^= 1;
    writeFileSync(path, changed);
    utimesSync(path, j.source.mtimeMs / 1000, j.source.mtimeMs / 1000);
    const sameMtime = await put().catch((e) => e);
    expect(sameMtime.code).toBe('SOURCE_CHANGED');
    expect(sameMtime.message).toContain('content changed');
    writeFileSync(path, Buffer.concat([data, Buffer.from('x')]));
    const err = await put().catch((e) => e);
    expect(err.code).toBe('SOURCE_CHANGED');
    expect(err.message).toContain('restart');
    expect(exists(journal)).toBe(true);
    expect(await uploadsOf(key)).toBe(1);
    const out = await put({ restart: true });
    expect(out.resumed).toBeUndefined();
    expect(out.plaintextSize).toBe(data.length + 1);
    expect(await uploadsOf(key)).toBe(0);
    expect(exists(journal)).toBe(false);
  });

  it('another client-side key, another SSE-C key, another mode: RESUME_KEY_MISMATCH, nothing lost', async () => {
    const encryption: Encryption = { clientSide: { keys: clientKey }, sseC: { key: sseKey } };
    const key = 'other-key';
    const { path, journal, data } = await interrupted(encryption, key);
    const put = (enc: Encryption) => putFile(key, path, enc, { tags: { kept: 'yes' }, resume: { journal } });
    for (const other of [
      { clientSide: { keys: generateKey() }, sseC: { key: sseKey } },
      { clientSide: { keys: { passphrase: 'not the key' } }, sseC: { key: sseKey } },
      { clientSide: { keys: clientKey }, sseC: { key: generateKey() } },
      { clientSide: { keys: clientKey } },
      'none' as const,
    ]) {
      const err = await put(other).catch((e) => e);
      expect(err.code, JSON.stringify(Object.keys(other))).toBe('RESUME_KEY_MISMATCH');
    }
    expect(await uploadsOf(key)).toBe(1);
    const out = await put(encryption);
    expect(out.resumed?.partsSkipped).toBe(1);
    const tags = await direct.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
    expect(tags.TagSet).toEqual([{ Key: 'kept', Value: 'yes' }]);
    const got = await stored(key, encryption);
    expect(Buffer.compare(await decrypt(got, { keys: clientKey }), data)).toBe(0);
  });

  it('the server forgot the upload (aborted meanwhile): started over', async () => {
    const encryption: Encryption = { sseC: { key: sseKey } };
    const key = 'forgotten';
    const { path, journal, j, data } = await interrupted(encryption, key);
    await direct.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: j.uploadId }));
    let called = false;
    const out = await putFile(key, path, encryption, {
      resume: { journal, onResume: () => (called = true) },
    });
    expect(called).toBe(false);
    expect(out.resumed).toBeUndefined();
    expect(Buffer.compare(await stored(key, encryption), data)).toBe(0);
    expect(exists(journal)).toBe(false);
  });

  it('the server forgot the upload: started over with other keys, another mode or a changed file, no restart needed', async () => {
    const encryption: Encryption = { clientSide: { keys: clientKey }, sseC: { key: sseKey } };
    const cases: [string, Encryption, boolean][] = [
      ['other client-side key', { clientSide: { keys: generateKey() }, sseC: { key: sseKey } }, false],
      ['other SSE-C key', { clientSide: { keys: clientKey }, sseC: { key: generateKey() } }, false],
      ['another mode', { clientSide: { keys: generateKey() } }, false],
      ['a changed file', encryption, true],
    ];
    for (const [label, other, changeFile] of cases) {
      const key = `forgotten-${label.replace(/\W+/g, '-')}`;
      const { path, journal, j, data } = await interrupted(encryption, key);
      await direct.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: j.uploadId }));
      const body = changeFile ? Buffer.concat([data, Buffer.from('changed')]) : data;
      if (changeFile) writeFileSync(path, body);
      let called = false;
      const out = await putFile(key, path, other, { resume: { journal, onResume: () => (called = true) } });
      expect(called, label).toBe(false);
      expect(out.resumed, label).toBeUndefined();
      expect(out.plaintextSize, label).toBe(body.length);
      expect(exists(journal), label).toBe(false);
      expect(await uploadsOf(key), label).toBe(0);
      const keys = (other as { clientSide: { keys: Uint8Array } }).clientSide.keys;
      const got = await stored(key, other);
      expect(Buffer.compare(await decrypt(got, { keys }), body), label).toBe(0);
      await direct.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
  });

  it('a file changed during the upload: not completed (SOURCE_CHANGED), kept for a restart', async () => {
    const { path, data } = sourceFile(12 * MiB);
    const journal = join(dir, 'changed-during.journal');
    const key = 'changed-during';
    const encryption: Encryption = { clientSide: { keys: { passphrase: 'correct horse' } } };
    const err = await putFile(key, path, encryption, {
      queueSize: 1,
      onProgress: (p) => {
        // the file is rewritten with other bytes in its middle after the first part went up
        if (p.loaded === PART) writeFileSync(path, Buffer.concat([data, Buffer.from('more')]));
      },
      resume: { journal },
    }).catch((e) => e);
    expect(err.name).toBe('UploadResumableError');
    expect(err.code).toBe('SOURCE_CHANGED');
    expect(await uploadsOf(key)).toBe(1);
    const again = (restart: boolean) => putFile(key, path, encryption, { resume: { journal, restart } });
    expect((await again(false).catch((e) => e)).code).toBe('SOURCE_CHANGED');
    const out = await again(true);
    expect(out.plaintextSize).toBe(data.length + 4);
    expect(await uploadsOf(key)).toBe(0);
    const got = await stored(key, 'none');
    expect(
      Buffer.from(await decrypt(got, { keys: { passphrase: 'correct horse' } }))
        .subarray(data.length)
        .toString(),
    ).toBe('more');
  });

  it('a misspelt resume option (restrat) is INVALID_ARGUMENT, nothing sent, no journal', async () => {
    const { path } = sourceFile(6 * MiB);
    const journal = join(dir, 'misspelt.journal');
    for (const resume of [
      { journal, restrat: true },
      { journal, onresume: () => {} },
    ]) {
      const err = await putFile('misspelt', path, 'none', { resume } as never).catch((e) => e);
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toContain('is not an option');
    }
    expect(exists(journal)).toBe(false);
    expect(await uploadsOf('misspelt')).toBe(0);
  });

  it('bodies that cannot be read again: NOT_RESUMABLE, nothing sent', async () => {
    const journal = join(dir, 'not-resumable.journal');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const body of [Readable.from([new Uint8Array(10)]), new Uint8Array(10), fifo, '/dev/null', dir]) {
      const err = await putFile('not-resumable', body, 'none', { resume: { journal } }).catch((e) => e);
      expect(err.code, String(body)).toBe('NOT_RESUMABLE');
    }
    expect(exists(journal)).toBe(false);
    expect(await uploadsOf('not-resumable')).toBe(0);
  });

  it('a journal that is not ours, corrupt, or for another object: JOURNAL_INVALID, left in place', async () => {
    const { path } = sourceFile(MiB);
    const journal = join(dir, 'bad.journal');
    const other = { format: 'sealstream-upload-journal', version: 1 };
    for (const content of [
      'not json',
      '{"some":"thing"}',
      JSON.stringify({ ...other, version: 2 }),
      JSON.stringify(other),
    ]) {
      writeFileSync(journal, content);
      const err = await putFile('bad', path, 'none', { resume: { journal } }).catch((e) => e);
      expect(err.code, content).toBe('JOURNAL_INVALID');
      expect(readFileSync(journal, 'utf8')).toBe(content);
    }
    // a valid journal for another key
    const first = await interrupted('none', 'journal-owner');
    const err = await putFile('not-the-owner', first.path, 'none', {
      resume: { journal: first.journal },
    }).catch((e) => e);
    expect(err.code).toBe('JOURNAL_INVALID');
    await putFile('journal-owner', first.path, 'none', { resume: { journal: first.journal, restart: true } });
    expect(await uploadsOf('journal-owner')).toBe(0);
  });

  it('a small file goes up in one PutObject, with no journal', async () => {
    const { path, data } = sourceFile(1000);
    const journal = join(dir, 'small.journal');
    const out = await putFile('small', path, { clientSide: { keys: clientKey } }, { resume: { journal } });
    expect(out.partSize).toBe(0);
    expect(exists(journal)).toBe(false);
    expect(Buffer.compare(await decrypt(await stored('small', 'none'), { keys: clientKey }), data)).toBe(0);
  });
});
