/**
 * `@sealstream/sos/presign`: the server side of presigned transfers. A page's own server creates
 * a multipart upload, presigns its part URLs, completes or aborts it, and presigns GETs and HEADs;
 * the page seals and moves the bytes itself (`@sealstream/sos/presigned`), so it never holds store
 * credentials and the server never sees plaintext or keys.
 * @module
 */
import {
  AbortMultipartUploadCommand,
  type CORSRule,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutBucketCorsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { PresignedTransferError } from './presigned/errors.ts';
import { MAX_PARTS, type UploadedPart } from './presigned/upload.ts';

/** Where an object is. */
export interface PresignLocation {
  bucket: string;
  key: string;
}

/** How long a presigned URL stays valid, in seconds: 1 to 604 800 (7 days); default 900. */
export interface PresignExpiry {
  expiresIn?: number;
}

/**
 * The CORS rule a bucket needs for pages at `origins` to upload and download through presigned
 * URLs. ExposeHeaders matters: without `ETag` a page cannot complete a multipart upload, without
 * `Content-Range` it cannot read ranges (the browser hides both unless they are listed).
 */
export function browserCorsRule(origins: string[]): CORSRule {
  if (!Array.isArray(origins) || origins.length === 0 || origins.some((o) => typeof o !== 'string' || !o)) {
    throw new PresignedTransferError('INVALID_ARGUMENT', '"origins" expected a non-empty list of origins');
  }
  return {
    AllowedOrigins: origins,
    AllowedMethods: ['GET', 'HEAD', 'PUT'],
    AllowedHeaders: ['Range', 'If-Match', 'Content-Type'],
    ExposeHeaders: ['ETag', 'Content-Range', 'Content-Length', 'Accept-Ranges', 'x-amz-version-id'],
    MaxAgeSeconds: 3600,
  };
}

/** Sets {@link browserCorsRule} as the bucket's CORS configuration (replacing any other rule). */
export async function allowBrowserAccess(client: S3Client, bucket: string, origins: string[]): Promise<void> {
  await client.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: { CORSRules: [browserCorsRule(origins)] },
    }),
  );
}

/** Creates a multipart upload for a page to fill; returns its id. */
export async function createPresignedUpload(
  client: S3Client,
  location: PresignLocation & { contentType?: string },
): Promise<{ uploadId: string }> {
  const out = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: location.bucket,
      Key: location.key,
      ContentType: location.contentType ?? 'application/octet-stream',
    }),
  );
  if (!out.UploadId) {
    throw new PresignedTransferError('SERVER_FAULT', `the store created no upload id for ${location.key}`);
  }
  return { uploadId: out.UploadId };
}

/** A presigned PUT URL for part `partNumber` (1 to 10 000) of an upload. */
export async function presignUploadPart(
  client: S3Client,
  request: PresignLocation & PresignExpiry & { uploadId: string; partNumber: number },
): Promise<string> {
  const { partNumber } = request;
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      `"partNumber" expected 1 to ${MAX_PARTS}, got ${partNumber}`,
    );
  }
  const command = new UploadPartCommand({
    Bucket: request.bucket,
    Key: request.key,
    UploadId: request.uploadId,
    PartNumber: partNumber,
  });
  return getSignedUrl(client, command, { expiresIn: expiry(request.expiresIn) });
}

/** Completes an upload with the parts the page reports; returns the object's ETag and version. */
export async function completePresignedUpload(
  client: S3Client,
  request: PresignLocation & { uploadId: string; parts: UploadedPart[] },
): Promise<{ etag: string | undefined; versionId: string | undefined }> {
  const parts = request.parts;
  if (
    !Array.isArray(parts) ||
    parts.length === 0 ||
    parts.length > MAX_PARTS ||
    parts.some((p, i) => p?.partNumber !== i + 1 || typeof p.etag !== 'string' || p.etag.length === 0)
  ) {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      '"parts" expected parts numbered 1, 2, 3... in order, each with its ETag',
    );
  }
  const out = await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: request.bucket,
      Key: request.key,
      UploadId: request.uploadId,
      MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
    }),
  );
  // RGW answers with an empty ETag here; undefined says the same without pretending.
  return { etag: out.ETag || undefined, versionId: out.VersionId || undefined };
}

/**
 * Aborts an upload and checks that no part is left: S3 may keep a part that was still arriving
 * when the abort came, so the abort is repeated until ListParts says the upload is gone.
 * @throws {PresignedTransferError} `UPLOAD_NOT_ABORTED` with `uploadId`, `bucket` and `key`.
 */
export async function abortPresignedUpload(
  client: S3Client,
  request: PresignLocation & { uploadId: string },
): Promise<void> {
  const { bucket, key, uploadId } = request;
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    } catch (err) {
      if (!isNoSuchUpload(err)) last = err;
    }
    try {
      await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    } catch (err) {
      if (isNoSuchUpload(err)) return;
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
  }
  throw new PresignedTransferError(
    'UPLOAD_NOT_ABORTED',
    `multipart upload ${uploadId} of ${bucket}/${key} could not be aborted: abort it later (aws s3api abort-multipart-upload --bucket ${bucket} --key ${key} --upload-id ${uploadId}) or let a lifecycle rule expire it`,
    { uploadId, bucket, key, cause: last },
  );
}

/** A presigned GET URL (a page reads it with Range requests). */
export async function presignGet(
  client: S3Client,
  request: PresignLocation & PresignExpiry,
): Promise<string> {
  return getSignedUrl(client, new GetObjectCommand({ Bucket: request.bucket, Key: request.key }), {
    expiresIn: expiry(request.expiresIn),
  });
}

/** A presigned HEAD URL. */
export async function presignHead(
  client: S3Client,
  request: PresignLocation & PresignExpiry,
): Promise<string> {
  return getSignedUrl(client, new HeadObjectCommand({ Bucket: request.bucket, Key: request.key }), {
    expiresIn: expiry(request.expiresIn),
  });
}

function expiry(seconds: number | undefined): number {
  const s = seconds ?? 900;
  if (!Number.isInteger(s) || s < 1 || s > 604_800) {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      `"expiresIn" expected 1 to 604800 seconds, got ${s}`,
    );
  }
  return s;
}

function isNoSuchUpload(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchUpload' || e?.Code === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}
