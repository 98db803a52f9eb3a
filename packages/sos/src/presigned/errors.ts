/**
 * Errors of presigned transfers (the page side and the server helper). Codes that the Node
 * transport also has keep its names (agreed across the transport: TIMEOUT, SERVER_FAULT,
 * OBJECT_CHANGED, UPLOAD_NOT_ABORTED, SOURCE_CHANGED, ABORTED), so one `switch (err.code)` serves both.
 * @module
 */
import { SealstreamError } from '@sealstream/core/errors';

/** Stable error codes of presigned transfers. */
export type PresignedErrorCode =
  /**
   * The store answered, but the browser hid a response header the transfer needs (`ETag`,
   * `Content-Range`): the bucket's CORS rule does not list it in ExposeHeaders.
   */
  | 'CORS_HEADER_HIDDEN'
  /**
   * The request failed without an answer: the network is down, or the store refused the CORS
   * preflight (origin, method or header not allowed). A browser does not say which.
   */
  | 'NETWORK_ERROR'
  /** 403: the presigned URL expired, was signed for another request, or its credentials lack the right. */
  | 'ACCESS_DENIED'
  /** 404: no such object, bucket or multipart upload. */
  | 'NOT_FOUND'
  /** 416: a range past the end of the object. */
  | 'RANGE_NOT_SATISFIABLE'
  /** The object changed between two reads (412 on If-Match, or another ETag). */
  | 'OBJECT_CHANGED'
  /** The store answered something unusable: 5xx after retries, no ETag, a wrong Content-Range. */
  | 'SERVER_FAULT'
  /** A request timed out (after retries). */
  | 'TIMEOUT'
  /** A failed upload could not be aborted: `uploadId`, `bucket` and `key` say which, to abort it later. */
  | 'UPLOAD_NOT_ABORTED'
  /**
   * The source Blob could not be read to its end, or gave other than its size: the file was changed,
   * moved or removed after it was picked. The upload is aborted; pick the file again.
   */
  | 'SOURCE_CHANGED'
  /** The transfer was aborted through its AbortSignal. */
  | 'ABORTED'
  /** An option has the wrong type or value. */
  | 'INVALID_ARGUMENT';

/** What a {@link PresignedTransferError} may carry about the upload or object it concerns. */
export interface PresignedErrorDetails {
  /** HTTP status of the answer, when there was one. */
  status?: number;
  /** The hidden header, for `CORS_HEADER_HIDDEN`. */
  header?: string;
  /** The multipart upload left behind, for `UPLOAD_NOT_ABORTED`. */
  uploadId?: string;
  bucket?: string;
  key?: string;
  cause?: unknown;
}

/** An error of a presigned transfer, with a stable `code`. */
export class PresignedTransferError extends SealstreamError<PresignedErrorCode> {
  readonly status: number | undefined;
  readonly header: string | undefined;
  readonly uploadId: string | undefined;
  readonly bucket: string | undefined;
  readonly key: string | undefined;

  constructor(code: PresignedErrorCode, message: string, details: PresignedErrorDetails = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'PresignedTransferError';
    this.status = details.status;
    this.header = details.header;
    this.uploadId = details.uploadId;
    this.bucket = details.bucket;
    this.key = details.key;
  }
}

/** True when `err` is a {@link PresignedTransferError}, optionally with the given code. */
export function isPresignedTransferError(
  err: unknown,
  code?: PresignedErrorCode,
): err is PresignedTransferError {
  return err instanceof PresignedTransferError && (code === undefined || err.code === code);
}
