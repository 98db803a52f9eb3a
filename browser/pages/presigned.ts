/**
 * Test page for presigned transfers (@sealstream/sos/presigned) against the local RGW, through the
 * web example's API client. Called by browser/test/presigned.test.ts.
 */
import { type BackendName, isSealstreamError } from '@sealstream/core';
import {
  openSealed,
  PresignedSource,
  type SealedUploadProgress,
  uploadSealed,
} from '@sealstream/sos/presigned';
import { apiPresigner, objectUrl } from '../../examples/web/page/api-client.ts';
import { fromHex, generated, pattern, toHex } from './pattern.ts';

const failure = (err: unknown) => ({
  code: isSealstreamError(err) ? err.code : `not a SealstreamError: ${String(err)}`,
  message: (err as Error).message,
  header: (err as { header?: string }).header,
  uploadId: (err as { uploadId?: string }).uploadId,
});

interface UploadArgs {
  key: string;
  size: number;
  keyHex: string;
  identity?: string;
  partSize?: number;
  partsInFlight?: number;
  /** Abort once this many parts are acknowledged. */
  abortAfterParts?: number;
  /** Pass a Blob (a File, as a file picker gives) instead of a stream. */
  asBlob?: boolean;
  backend?: BackendName;
}

async function upload(args: UploadArgs) {
  const progress: SealedUploadProgress[] = [];
  const controller = new AbortController();
  const source = args.asBlob
    ? new Blob([pattern(args.size, 7) as Uint8Array<ArrayBuffer>])
    : generated(args.size);
  try {
    const result = await uploadSealed(source, {
      encryption: { recipients: [fromHex(args.keyHex)], identity: args.identity, backend: args.backend },
      presigner: apiPresigner(args.key),
      partSize: args.partSize,
      partsInFlight: args.partsInFlight,
      name: args.key,
      signal: controller.signal,
      onProgress: (p: SealedUploadProgress) => {
        progress.push(p);
        if (args.abortAfterParts !== undefined && p.partsUploaded >= args.abortAfterParts) controller.abort();
      },
    });
    return { ok: true as const, result, progress };
  } catch (err) {
    return { ok: false as const, error: failure(err), progress };
  }
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

/** Downloads `key` through a presigned URL: the whole plaintext's length and SHA-256, and a range. */
async function download(key: string, keyHex: string, range?: [number, number], identity?: string) {
  try {
    const source = await PresignedSource.open(() => objectUrl(key), { name: key });
    const object = await openSealed(source, { keys: [fromHex(keyHex)], identity });
    const parts: Uint8Array[] = [];
    let length = 0;
    for await (const part of object.stream() as unknown as AsyncIterable<Uint8Array>) {
      parts.push(part.slice());
      length += part.length;
    }
    const whole = new Uint8Array(length);
    let offset = 0;
    for (const p of parts) {
      whole.set(p, offset);
      offset += p.length;
    }
    const slice = range ? toHex(await object.read({ start: range[0], end: range[1] })) : undefined;
    return {
      ok: true as const,
      size: object.size,
      length,
      sha256: await sha256(whole),
      slice,
      keyId: object.keyId,
    };
  } catch (err) {
    return { ok: false as const, error: failure(err) };
  }
}

/** Opens a presigned URL as a source only (first ranged read), for the CORS and expiry cases. */
async function openSource(url: string) {
  try {
    const source = await PresignedSource.open(url);
    return { ok: true as const, size: source.size, etag: source.etag };
  } catch (err) {
    return { ok: false as const, error: failure(err) };
  }
}

/** SHA-256 of pattern bytes, as the page generates them. */
async function expectedSha(size: number, blob: boolean) {
  if (blob) return sha256(pattern(size, 7));
  const template = pattern(1 << 20, 7);
  const all = new Uint8Array(size);
  for (let i = 0; i < size; i += template.length)
    all.set(template.subarray(0, Math.min(template.length, size - i)), i);
  return sha256(all);
}

Object.assign(globalThis, { presignedTest: { upload, download, openSource, expectedSha } });
document.title = 'ready';
