/**
 * Multipart uploads through lib-storage's `Upload`, with part sizes within SOS limits and a
 * guarantee that a failed or aborted upload leaves no parts behind.
 * @module
 */
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandOutput,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { SosError } from './errors.ts';
import { httpStatus } from './sse-c.ts';

const MiB = 1024 * 1024;
/** SOS (and S3) multipart limits. */
export const LIMITS = {
  minPartSize: 5 * MiB,
  maxPartSize: 5 * 1024 * MiB,
  maxParts: 10_000,
  maxObjectSize: 4 * 1024 * 1024 * MiB,
} as const;
/** Part size when the caller gives none and the size allows it. */
export const DEFAULT_PART_SIZE = 8 * MiB;
/** Parts uploaded in parallel by default. */
export const DEFAULT_QUEUE_SIZE = 4;

/** Progress of an upload, in bytes sent to the server. */
export interface UploadProgress {
  loaded: number;
  total: number | undefined;
}

/**
 * Chooses a part size: the requested one (default 8 MiB), grown in whole MiB so that an object of
 * `size` bytes fits in 10,000 parts.
 * @throws {SosError} `INVALID_ARGUMENT` for a part size outside 5 MiB..5 GiB or an object over 4 TiB.
 */
export function choosePartSize(size: number | undefined, requested?: number): number {
  if (
    requested !== undefined &&
    (!Number.isSafeInteger(requested) || requested < LIMITS.minPartSize || requested > LIMITS.maxPartSize)
  ) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"partSize" expected an integer from 5 MiB to 5 GiB, got ${requested}`,
    );
  }
  if (size !== undefined && size > LIMITS.maxObjectSize) {
    throw new SosError('INVALID_ARGUMENT', `object of ${size} bytes exceeds the 4 TiB limit of SOS`);
  }
  const wanted = requested ?? DEFAULT_PART_SIZE;
  if (size === undefined) return wanted;
  const needed = Math.ceil(Math.ceil(size / LIMITS.maxParts) / MiB) * MiB;
  return Math.min(LIMITS.maxPartSize, Math.max(wanted, needed));
}

/** Options of {@link uploadObject}. */
export interface UploadObjectOptions {
  client: S3Client;
  /** PutObject parameters; `Body` is the data, `ContentLength` its size when known. */
  params: PutObjectCommandInput;
  partSize: number;
  queueSize: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: UploadProgress) => void) | undefined;
  /**
   * Checks the answer to each PutObject/UploadPart (e.g. that SSE-C was applied); throwing fails
   * the upload, so a multipart upload is aborted before any object appears.
   */
  /** Called after a failure, once nothing is in flight (e.g. to destroy the source stream). */
  onFailure?: (() => void) | undefined;
  checkPart?: ((output: { SSECustomerAlgorithm?: string; SSECustomerKeyMD5?: string }) => void) | undefined;
}

/** What {@link uploadObject} reports. */
export interface UploadResult {
  etag: string | undefined;
  versionId: string | undefined;
  /** True when the object went up as one PutObject rather than a multipart upload. */
  singlePart: boolean;
  /** Echo of the server's SSE-C answer on the final request. */
  sseCustomerAlgorithm: string | undefined;
  sseCustomerKeyMD5: string | undefined;
}

/**
 * Uploads with lib-storage, memory bounded by about `queueSize x partSize`.
 *
 * lib-storage's `done()` rejects as soon as its abort signal fires, before parts in flight have
 * settled and before it aborts the multipart upload; and a part in flight is not cancelled. So
 * the client is wrapped: parts get the abort signal, every request is tracked, and after any
 * failure this waits for them all, then aborts the multipart upload itself (a second abort is
 * harmless). Afterwards no part is left on the server and no object was created.
 * @throws {SosError} `ABORTED` when `signal` fires; otherwise the underlying error.
 */
export async function uploadObject(options: UploadObjectOptions): Promise<UploadResult> {
  const { client, params, signal } = options;
  const controller = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  let uploadId: string | undefined;
  const send = (command: Parameters<S3Client['send']>[0], sendOptions?: { abortSignal?: AbortSignal }) => {
    // parts and single puts are cancelled on abort; Create/Complete/Abort are left to finish
    const cancellable = command instanceof UploadPartCommand || command instanceof PutObjectCommand;
    let promise = client.send(command as never, {
      ...sendOptions,
      ...(cancellable ? { abortSignal: controller.signal } : {}),
    }) as Promise<unknown>;
    const checkPart = options.checkPart;
    if (cancellable && checkPart) {
      promise = promise.then((out) => {
        checkPart(out as Parameters<typeof checkPart>[0]);
        return out;
      });
    }
    if (command instanceof CreateMultipartUploadCommand) {
      promise.then(
        (out) => (uploadId = (out as CreateMultipartUploadCommandOutput).UploadId),
        () => {},
      );
    }
    inFlight.add(promise);
    promise.then(
      () => inFlight.delete(promise),
      () => inFlight.delete(promise),
    );
    return promise;
  };
  const tracked = new Proxy(client, {
    get: (target, property) => (property === 'send' ? send : Reflect.get(target, property, target)),
  });

  const upload = new Upload({
    client: tracked,
    params,
    partSize: options.partSize,
    queueSize: options.queueSize,
    leavePartsOnError: false,
    abortController: controller,
  });
  if (options.onProgress) {
    const onProgress = options.onProgress;
    upload.on('httpUploadProgress', (p) => onProgress({ loaded: p.loaded ?? 0, total: p.total }));
  }
  const onAbort = () => controller.abort();
  if (signal?.aborted) throw abortedError(signal);
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const out = (await upload.done()) as {
      ETag?: string;
      VersionId?: string;
      SSECustomerAlgorithm?: string;
      SSECustomerKeyMD5?: string;
    };
    return {
      etag: out.ETag || undefined,
      versionId: out.VersionId,
      singlePart: uploadId === undefined,
      sseCustomerAlgorithm: out.SSECustomerAlgorithm,
      sseCustomerKeyMD5: out.SSECustomerKeyMD5,
    };
  } catch (err) {
    controller.abort();
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    options.onFailure?.();
    if (uploadId !== undefined) {
      try {
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: params.Bucket, Key: params.Key, UploadId: uploadId }),
        );
      } catch (abortErr) {
        // 404 NoSuchUpload: lib-storage aborted it already
        if (httpStatus(abortErr) !== 404 && err instanceof Error && err.cause === undefined)
          err.cause = abortErr;
      }
    }
    if (signal?.aborted) throw abortedError(signal, err);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

function abortedError(signal: AbortSignal, cause?: unknown): SosError {
  return new SosError(
    'ABORTED',
    'upload aborted: no object was created and no parts were left on the server',
    {
      cause: signal.reason ?? cause,
    },
  );
}
