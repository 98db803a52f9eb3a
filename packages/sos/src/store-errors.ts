/**
 * The store's own refusals (no such key, bucket or upload; access denied; credentials refused)
 * as {@link SosError}s with stable codes, so that callers switch on `code` instead of the AWS SDK's
 * exception names. The SDK's error stays the `cause`, `$metadata` and all.
 * @module
 */
import { SosError, type SosErrorCode } from './errors.ts';
import { httpStatus } from './sse-c.ts';
import { mapTransportError } from './timeouts.ts';

/** What a failed request was about, for the message. */
export interface StoreTarget {
  /** The operation and its object as other messages name them: `get photos/a.jpg`. */
  what: string;
  bucket: string;
  /** The object's key; none for a request on the bucket alone (a listing). */
  key?: string | undefined;
  versionId?: string | undefined;
  uploadId?: string | undefined;
}

/** One row of the decision table: the store's answers it takes, the code, and what it means. */
interface Row {
  /** S3 error codes (the SDK's exception `name`). */
  names: readonly string[];
  code: SosErrorCode;
  /** What happened and what to do; `answer` is e.g. `404 NoSuchKey`. */
  explain: (target: StoreTarget, answer: string) => string;
}

/**
 * The decision table, by the S3 error code of the answer. Only answers whose meaning is certain
 * are here: any other stays the SDK's error, since a guessed code is worse than none.
 */
const ROWS: readonly Row[] = [
  {
    // a read of a missing key or version: AWS says NoSuchVersion for a version, Ceph RGW NoSuchKey
    names: ['NoSuchKey', 'NoSuchVersion'],
    code: 'NOT_FOUND',
    explain: (t, answer) =>
      `${t.bucket} has no object ${objectOf(t)} (the store answered ${answer}): check the key${t.versionId === undefined ? '' : ' and the version ID'}`,
  },
  {
    // a bucket operation's first check: a misspelt name, or a bucket of another zone or endpoint
    names: ['NoSuchBucket'],
    code: 'BUCKET_NOT_FOUND',
    explain: (t, answer) =>
      `there is no bucket ${t.bucket} at this endpoint (the store answered ${answer}): check the bucket's name, and the zone or endpoint (a bucket lives in one zone)`,
  },
  {
    // the multipart upload was aborted (by hand, by a lifecycle rule, by another writer's cleanup
    // of the same key) or completed while this run still sent parts to it
    names: ['NoSuchUpload'],
    code: 'UPLOAD_NOT_FOUND',
    explain: (t, answer) =>
      `the store no longer has the multipart upload${t.uploadId === undefined ? '' : ` ${t.uploadId}`} of ${where(t)} ` +
      `(the store answered ${answer}): it was aborted (by hand, by a lifecycle rule, or by another upload of the same key) ` +
      'or completed meanwhile; upload again',
  },
  {
    // the credentials are valid but not allowed this: the user's rights, a bucket policy or ACL
    names: ['AccessDenied', 'AllAccessDisabled'],
    code: 'ACCESS_DENIED',
    explain: (t, answer) =>
      `the store denied access to ${where(t)} (the store answered ${answer}): these credentials are not allowed this operation there; ` +
      "check the access key's rights and the bucket's policy or ACL",
  },
  {
    // a key ID the store does not know: misspelt, deleted, or one of another store
    names: ['InvalidAccessKeyId'],
    code: 'BAD_CREDENTIALS',
    explain: (_t, answer) =>
      `the store does not know the access key ID (the store answered ${answer}): check the access key ID and secret key, and that they are this store's`,
  },
  {
    // the signature is made with the secret key: a wrong secret for the key ID
    names: ['SignatureDoesNotMatch'],
    code: 'BAD_CREDENTIALS',
    explain: (_t, answer) =>
      `the store refused the request's signature (the store answered ${answer}): the secret key is not the one of this access key ID; check the access key ID and secret key`,
  },
  {
    // temporary credentials past their expiry, or a session token that is not one
    names: ['ExpiredToken', 'InvalidToken', 'TokenRefreshRequired'],
    code: 'BAD_CREDENTIALS',
    explain: (_t, answer) =>
      `the store refused the session token (the store answered ${answer}): the temporary credentials expired or are not valid; get new ones (access key ID, secret key and session token)`,
  },
  {
    // no answer at all: the SDK's provider chain found no credentials, so nothing was sent
    names: ['CredentialsProviderError'],
    code: 'BAD_CREDENTIALS',
    explain: () =>
      'no credentials were found to sign the request with: give the access key ID and secret key (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, or the client\'s "credentials")',
  },
];

const BY_NAME = new Map(ROWS.flatMap((row) => row.names.map((name) => [name, row] as const)));

/**
 * Names the SDK gives an answer without a body, whose status is then all there is: HEAD answers
 * never have one (404 comes as `NotFound`, 403 as `Forbidden` or `Unknown`).
 */
const BODILESS = new Set(['NotFound', 'Forbidden', 'Unknown', 'UnknownError', '']);

/**
 * Turns the store's refusal of a request into a {@link SosError}; anything else (our own errors,
 * which keep precedence: `SSE_C_*`, `OBJECT_CHANGED`, `RANGE_NOT_SATISFIABLE`, `TIMEOUT`,
 * `SERVER_FAULT`...; 5xx answers; 4xx answers not in the table) is returned unchanged. Decision
 * table, by the answer's S3 error code:
 * - `NoSuchKey`, `NoSuchVersion`: `NOT_FOUND`;
 * - `NoSuchBucket`: `BUCKET_NOT_FOUND`;
 * - `NoSuchUpload`: `UPLOAD_NOT_FOUND`;
 * - `AccessDenied`, `AllAccessDisabled`: `ACCESS_DENIED`;
 * - `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `ExpiredToken`, `InvalidToken`,
 *   `TokenRefreshRequired`, and the SDK's `CredentialsProviderError` (no credentials found):
 *   `BAD_CREDENTIALS`;
 * - an answer without a body (every HEAD), by its status alone: 404 `NOT_FOUND` (the object, or
 *   its bucket, is missing: the answer cannot say which), 403 `ACCESS_DENIED` (denied, or the
 *   credentials are wrong: the answer cannot say which either).
 *
 * The message names the operation, the bucket and key, and what to do; never a secret (no text
 * of the SDK's error is quoted, only its status and S3 error code). `cause` is the SDK's error.
 */
export function mapStoreError(err: unknown, target: StoreTarget): unknown {
  if (err instanceof SosError || typeof err !== 'object' || err === null) return err;
  const name = (err as { name?: unknown }).name;
  const status = httpStatus(err);
  const label = typeof name === 'string' ? name : '';
  const row = BY_NAME.get(label);
  // a name alone is trusted only where the SDK gives it without an answer (the provider chain)
  if (row !== undefined && (status !== undefined || label === 'CredentialsProviderError')) {
    return new SosError(row.code, `${target.what}: ${row.explain(target, answerOf(status, label))}`, {
      cause: err,
    });
  }
  if (!BODILESS.has(label)) return err;
  if (status === 404) {
    const explain =
      target.key === undefined
        ? `there is no bucket ${target.bucket} at this endpoint (the store answered 404 without a reason): check the bucket's name, and the zone or endpoint`
        : `${target.bucket} has no object ${objectOf(target)}, or there is no bucket ${target.bucket} (the store answered 404 ` +
          'to a HEAD, which carries no reason): check the key and the bucket';
    return new SosError(
      target.key === undefined ? 'BUCKET_NOT_FOUND' : 'NOT_FOUND',
      `${target.what}: ${explain}`,
      {
        cause: err,
      },
    );
  }
  if (status === 403) {
    return new SosError(
      'ACCESS_DENIED',
      `${target.what}: the store refused access to ${where(target)} (it answered 403 without a reason, as it does to a HEAD): ` +
        "either these credentials are not allowed this operation there (check the access key's rights and the bucket's policy or ACL), " +
        'or the access key ID or secret key is wrong',
      { cause: err },
    );
  }
  return err;
}

function answerOf(status: number | undefined, name: string): string {
  return status === undefined ? name : `${status} ${name}`;
}

function where(t: StoreTarget): string {
  return t.key === undefined ? `bucket ${t.bucket}` : `${t.bucket}/${t.key}`;
}

function objectOf(t: StoreTarget): string {
  if (t.key === undefined) return 'such object';
  return t.versionId === undefined ? t.key : `${t.key} in version ${t.versionId}`;
}

/**
 * A failed request's error as the public operations throw it: transport faults first (timeouts,
 * connections lost after retries: `TIMEOUT`, `SERVER_FAULT`), then the store's refusals
 * ({@link mapStoreError}); anything else unchanged.
 */
export function mapRequestError(err: unknown, target: StoreTarget): unknown {
  return mapStoreError(mapTransportError(err, target.what), target);
}
