/**
 * Errors thrown by `@sealstream/sos`. Each is a {@link SosError}, a subclass of the core's
 * `SealstreamError`, so callers can `switch (err.code)` across both packages.
 * @module
 */
import { SealstreamError } from '@sealstream/core/errors';

/** Stable error codes of the transport package. */
export type SosErrorCode =
  /** The endpoint is plain http (or otherwise unusable) and was not explicitly allowed. */
  | 'INSECURE_ENDPOINT'
  /** An option has the wrong type or value. */
  | 'INVALID_ARGUMENT'
  /** A zone name that is not an Exoscale SOS zone. */
  | 'UNKNOWN_ZONE'
  /** An SSE-C key map (`alias/bucket/prefix=KEY,...`) is malformed or has overlapping entries. */
  | 'INVALID_KEY_MAP'
  /** No key in an SSE-C key map covers the object. */
  | 'SSE_C_NO_KEY_FOR_PATH'
  /** The object is stored with SSE-C and the request carried no key. */
  | 'SSE_C_KEY_REQUIRED'
  /** The object is stored with SSE-C under another key than the one given. */
  | 'SSE_C_KEY_MISMATCH'
  /** An SSE-C key was given but the server did not apply it (object not stored with SSE-C). */
  | 'SSE_C_NOT_APPLIED'
  /** A byte range outside the object (HTTP 416). */
  | 'RANGE_NOT_SATISFIABLE'
  /** The operation was aborted through its `AbortSignal`. */
  | 'ABORTED'
  /** A connect, idle-read or request timeout elapsed (after retries where retried). */
  | 'TIMEOUT'
  /** The store answered something unusable (no UploadId, no body, no ETag, 5xx after retries). */
  | 'SERVER_FAULT'
  /** The object changed during a read or rekey (ETag/version pin failed). */
  | 'OBJECT_CHANGED'
  /** A download ended early and retries from where it stopped were exhausted. */
  | 'DOWNLOAD_INCOMPLETE'
  /** A failed multipart upload could not be aborted; the error names the upload to abort later. */
  | 'UPLOAD_NOT_ABORTED';

/** Base class of every error this package throws; `code` is stable across versions. */
export class SosError extends SealstreamError<SosErrorCode> {
  constructor(code: SosErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'SosError';
  }
}

/** True when `err` is a {@link SosError}, optionally with the given code. */
export function isSosError(err: unknown, code?: SosErrorCode): err is SosError {
  return err instanceof SosError && (code === undefined || err.code === code);
}
