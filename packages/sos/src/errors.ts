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
  /**
   * The store has no such object (or no such version of it): S3's `NoSuchKey`, `NoSuchVersion`,
   * or a 404 to a HEAD, which cannot tell a missing object from a missing bucket. `cause` is the
   * SDK's error.
   */
  | 'NOT_FOUND'
  /** The store has no such bucket (S3's `NoSuchBucket`): a misspelt name, or another zone or endpoint. */
  | 'BUCKET_NOT_FOUND'
  /**
   * The multipart upload is gone (S3's `NoSuchUpload`): aborted (by hand, a lifecycle rule, another
   * upload of the same key) or completed while parts were still sent to it.
   */
  | 'UPLOAD_NOT_FOUND'
  /**
   * The store refused the operation to these credentials (S3's `AccessDenied`): the key's rights,
   * a bucket policy or ACL. Also a 403 to a HEAD, which gives no reason (wrong credentials too).
   */
  | 'ACCESS_DENIED'
  /**
   * The store refused the credentials themselves: an unknown access key ID (`InvalidAccessKeyId`),
   * a wrong secret key (`SignatureDoesNotMatch`), an expired or invalid session token
   * (`ExpiredToken`, `InvalidToken`); or none were found to sign with (`CredentialsProviderError`).
   */
  | 'BAD_CREDENTIALS'
  /** A byte range outside the object (HTTP 416). */
  | 'RANGE_NOT_SATISFIABLE'
  /** The operation was aborted through its `AbortSignal`. */
  | 'ABORTED'
  /** A connect, idle-read or request timeout elapsed (after the SDK's retries, where it retries). */
  | 'TIMEOUT'
  /**
   * The store answered something unusable (no UploadId, no body, 5xx after retries) or its
   * connection failed (reset, closed early) after retries.
   */
  | 'SERVER_FAULT'
  /** The object changed during a read or re-key: its ETag/version pin failed (412, or another ETag). */
  | 'OBJECT_CHANGED'
  /** A download ended early and the retries from where it stopped were exhausted. */
  | 'DOWNLOAD_INCOMPLETE'
  /** A failed multipart upload could not be aborted; see {@link UploadNotAbortedError}. */
  | 'UPLOAD_NOT_ABORTED'
  /** Resuming: the source file differs from the one the journal was written for (size, mtime or content). */
  | 'SOURCE_CHANGED'
  /** Resuming: the caller's keys do not open the journaled header, or the SSE-C key (or mode) differs. */
  | 'RESUME_KEY_MISMATCH'
  /** Resume was asked for a body that cannot be read again from any offset (a stream, stdin, bytes). */
  | 'NOT_RESUMABLE'
  /** The resume journal is unreadable, corrupt, of another format version, or for another object. */
  | 'JOURNAL_INVALID'
  /** Another live run (another process, or this one) is continuing the upload of this resume journal. */
  | 'JOURNAL_LOCKED';

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

/**
 * A multipart upload failed and aborting it failed too (an outage, a timeout): its parts stay on
 * the server, billed, until aborted. `uploadId`, `bucket` and `key` say which; the message gives
 * the command. `cause` is the error that failed the upload.
 */
export class UploadNotAbortedError extends SosError {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  /** Why the abort failed. */
  readonly abortError: unknown;

  constructor(
    upload: { bucket: string; key: string; uploadId: string },
    failure: unknown,
    abortError: unknown,
  ) {
    super(
      'UPLOAD_NOT_ABORTED',
      `upload of ${upload.bucket}/${upload.key} failed (${describeError(failure)}) and its multipart upload ` +
        `could not be aborted (${describeError(abortError)}): no object was created, but its parts stay on the server ` +
        `until aborted. Abort it later with: sealstream uploads abort s3://${upload.bucket}/${upload.key} ` +
        `--upload-id ${upload.uploadId} (or aws s3api abort-multipart-upload --bucket ${upload.bucket} ` +
        `--key ${JSON.stringify(upload.key)} --upload-id ${upload.uploadId}, or abortIncompleteUpload() with this ` +
        'uploadId); a bucket lifecycle rule AbortIncompleteMultipartUpload also removes such uploads',
      { cause: failure },
    );
    this.name = 'UploadNotAbortedError';
    this.bucket = upload.bucket;
    this.key = upload.key;
    this.uploadId = upload.uploadId;
    this.abortError = abortError;
  }
}

/**
 * A resumable upload failed (or was aborted through its signal) and, as asked, its multipart upload
 * was kept with its journal: calling `putObject` again with the same `resume.journal` continues it.
 * `code` is that of the failure when it has one of ours (`ABORTED`, `TIMEOUT`, `SERVER_FAULT`, ...),
 * else `UPLOAD_NOT_ABORTED` (its parts stay on the server either way); `cause` is the failure.
 */
export class UploadResumableError extends SosError {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  /** Path of the journal that resumes it. */
  readonly journal: string;

  constructor(upload: { bucket: string; key: string; uploadId: string; journal: string }, failure: unknown) {
    super(
      failure instanceof SosError ? failure.code : 'UPLOAD_NOT_ABORTED',
      `upload of ${upload.bucket}/${upload.key} stopped (${describeError(failure)}); no object was created. ` +
        `Its parts are kept on the server: run the same upload again with the journal ${upload.journal} to continue ` +
        'where it stopped (`sealstream cp` does it by itself), or abandon it with `resume.restart` / `sealstream uploads abort`, ' +
        `or aws s3api abort-multipart-upload --bucket ${upload.bucket} --key ${JSON.stringify(upload.key)} --upload-id ${upload.uploadId}`,
      { cause: failure },
    );
    this.name = 'UploadResumableError';
    this.bucket = upload.bucket;
    this.key = upload.key;
    this.uploadId = upload.uploadId;
    this.journal = upload.journal;
  }
}

/** A short description of an error for a message: code or name, then its message. */
export function describeError(err: unknown): string {
  if (err instanceof SosError) return `${err.code}: ${err.message}`;
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  const label = e?.code ?? e?.name ?? 'error';
  return `${label}${e?.message ? `: ${e.message}` : ''}`;
}
