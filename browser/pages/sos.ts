/**
 * Test page for the browser entry of @sealstream/sos (the AWS SDK over fetch) against the local
 * RGW: client-side and SSE-C uploads and downloads, progress, abort. Called by browser/test/sos.test.ts.
 */
import { isSealstreamError } from '@sealstream/core';
import { createSosClient, type Encryption, getObject, putObject, type UploadProgress } from '@sealstream/sos';
import { fromHex, generated, toHex } from './pattern.ts';

interface Store {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

interface Protection {
  /** Client-side key, hex. */
  keyHex?: string;
  /** SSE-C key, hex. */
  sseCHex?: string;
  identity?: boolean;
}

const failure = (err: unknown) => ({
  code: isSealstreamError(err) ? err.code : `not a SealstreamError: ${String(err)}`,
  name: (err as Error).name,
  message: (err as Error).message,
  header: (err as { header?: string }).header,
  causeName: (err as { cause?: { name?: string } }).cause?.name,
});

function clientOf(store: Store) {
  return createSosClient({
    endpoint: store.endpoint,
    region: store.region,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
  });
}

function encryptionOf(p: Protection): Encryption {
  const clientSide = p.keyHex ? { keys: [fromHex(p.keyHex)], identity: p.identity ?? false } : undefined;
  const sseC = p.sseCHex ? { key: fromHex(p.sseCHex) } : undefined;
  return { ...(clientSide ? { clientSide } : {}), ...(sseC ? { sseC } : {}) } as Encryption;
}

interface UploadArgs extends Protection {
  store: Store;
  bucket: string;
  key: string;
  size: number;
  partSize?: number;
  queueSize?: number;
  /** Abort once this many bytes reached the store. */
  abortAfterBytes?: number;
  /** Pass a Blob (as a file picker gives) instead of a stream. */
  asBlob?: boolean;
}

async function upload(args: UploadArgs) {
  const progress: UploadProgress[] = [];
  const controller = new AbortController();
  let body: Blob | ReadableStream<Uint8Array> = generated(args.size);
  if (args.asBlob) body = await new Response(body).blob();
  try {
    const result = await putObject({
      client: clientOf(args.store),
      bucket: args.bucket,
      key: args.key,
      body,
      encryption: encryptionOf(args),
      ...(args.partSize ? { partSize: args.partSize } : {}),
      ...(args.queueSize ? { queueSize: args.queueSize } : {}),
      signal: controller.signal,
      onProgress: (p) => {
        progress.push({ ...p });
        if (args.abortAfterBytes !== undefined && p.loaded >= args.abortAfterBytes) controller.abort();
      },
    });
    return { ok: true as const, result, progress };
  } catch (err) {
    return { ok: false as const, error: failure(err), progress };
  }
}

interface DownloadArgs extends Protection {
  store: Store;
  bucket: string;
  key: string;
  range?: string;
}

/** Downloads an object (or a range) through the SDK: its length, SHA-256, and first bytes. */
async function download(args: DownloadArgs) {
  try {
    const got = await getObject({
      client: clientOf(args.store),
      bucket: args.bucket,
      key: args.key,
      encryption: encryptionOf(args),
      ...(args.range ? { range: args.range } : {}),
    });
    const whole = new Uint8Array(await new Response(got.body).arrayBuffer());
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', whole));
    return {
      ok: true as const,
      size: got.size,
      objectSize: got.objectSize,
      length: whole.length,
      sha256: toHex(digest),
      head: toHex(whole.subarray(0, 32)),
      keyIds: got.header?.keyIds,
    };
  } catch (err) {
    return { ok: false as const, error: failure(err) };
  }
}

/** The file input the harness picks files in (Playwright's setInputFiles, as a user picking a file). */
const picker = Object.assign(document.createElement('input'), { type: 'file', id: 'pick' });
document.body.append(picker);

/** Uploads the picked file as it is (a `File`, read from disk as the upload goes). */
async function uploadPicked(args: Omit<UploadArgs, 'size' | 'asBlob' | 'abortAfterBytes'>) {
  const file = picker.files?.[0];
  if (!file) throw new Error('no file in #pick: the test picks one first');
  try {
    const result = await putObject({
      client: clientOf(args.store),
      bucket: args.bucket,
      key: args.key,
      body: file,
      encryption: encryptionOf(args),
      ...(args.partSize ? { partSize: args.partSize } : {}),
    });
    return { ok: true as const, result };
  } catch (err) {
    return { ok: false as const, error: failure(err) };
  }
}

/** What the page has of Node: nothing (the entry must not need it). */
function nodeGlobals() {
  const g = globalThis as Record<string, unknown>;
  return { Buffer: typeof g.Buffer, process: typeof g.process };
}

Object.assign(globalThis, { sosTest: { upload, uploadPicked, download, nodeGlobals } });
document.title = 'ready';
