/**
 * SSE-C (server-side encryption with customer-provided keys): request parameters, checks on
 * the server's answer, and mapping of the server's errors to typed ones.
 * @module
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { md5 } from '@noble/hashes/legacy.js';
import { formatKey, parseKey } from '@sealstream/core';
import { SosError } from './errors.ts';

/** The request parameters that carry an SSE-C key (the SDK turns them into x-amz-server-side-encryption-customer-* headers). */
export interface SseCParams {
  SSECustomerAlgorithm: 'AES256';
  /** The key, base64. */
  SSECustomerKey: string;
  /** MD5 of the key, base64: the key's fingerprint as servers echo it. */
  SSECustomerKeyMD5: string;
}

/**
 * SSE-C request parameters for a 256-bit key.
 * @param key - 32 bytes, or text in any form the core's `parseKey()` accepts (base64 padded or
 *   not, base64url, 64 hex digits).
 * @throws {SealstreamError} `INVALID_KEY` when the key is not 32 bytes.
 * @example
 * await client.send(new GetObjectCommand({ Bucket, Key, ...sseCParams(process.env.SSE_C_KEY!) }));
 */
export function sseCParams(key: Uint8Array | string): SseCParams {
  const bytes = typeof key === 'string' ? parseKey(key) : key;
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"sseC.key" expected 32 bytes or key text, got ${bytes instanceof Uint8Array ? `${bytes.length} bytes` : typeof bytes}`,
    );
  }
  // MD5 is what S3 defines for the key's fingerprint; noble's, so browsers (no MD5 in WebCrypto) compute it too
  return {
    SSECustomerAlgorithm: 'AES256',
    SSECustomerKey: formatKey(bytes),
    SSECustomerKeyMD5: base64(md5(bytes)),
  };
}

/** The fields of an S3 response that echo SSE-C. */
interface SseCEcho {
  SSECustomerAlgorithm?: string | undefined;
  SSECustomerKeyMD5?: string | undefined;
}

/**
 * Checks that the server applied the SSE-C key: it echoes the algorithm and the key's MD5.
 * A server that ignores SSE-C headers (or an object stored without SSE-C) answers without them.
 * @throws {SosError} `SSE_C_NOT_APPLIED`
 */
export function assertSseCApplied(response: SseCEcho, params: SseCParams, what: string): void {
  if (response.SSECustomerAlgorithm !== 'AES256' || response.SSECustomerKeyMD5 !== params.SSECustomerKeyMD5) {
    throw new SosError(
      'SSE_C_NOT_APPLIED',
      `${what}: the server did not confirm SSE-C with the given key (answered algorithm=${response.SSECustomerAlgorithm ?? 'none'}): ` +
        'the object is not stored with SSE-C, or the server ignores SSE-C',
    );
  }
}

/** Clients that already forget the requests of their failed SSE-C calls. */
const forgetting = new WeakSet<S3Client>();

/**
 * Makes `client` keep SSE-C keys out of its errors. The SDK attaches the HTTP response to an
 * error (`$response`), and in Node that response's body is the socket's message, whose `req` is
 * the request with every header written out: the key and its MD5 among them, for anyone who logs
 * the error deeply (`util.inspect` with a depth, a logger's serializer, the `cause` of our own
 * errors). For each failed request that carried a key, the response loses its body (the SDK has
 * read what it needed from it by then); status and response headers stay. Idempotent.
 */
export function forgetSseCRequests(client: S3Client): void {
  if (forgetting.has(client)) return;
  forgetting.add(client);
  client.middlewareStack.add(
    (next, _context) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        const input = args.input as Record<string, unknown>;
        if (input.SSECustomerKey !== undefined || input.CopySourceSSECustomerKey !== undefined) {
          const response = (err as { $response?: { body?: unknown } } | undefined)?.$response;
          if (typeof response === 'object' && response !== null) response.body = undefined;
        }
        throw err;
      }
    },
    { step: 'initialize', name: 'sealstreamForgetSseCRequests', override: true },
  );
}

/** HTTP status of an SDK error, if it came from a response. */
export function httpStatus(err: unknown): number | undefined {
  const e = err as
    | { $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number } }
    | undefined;
  return e?.$metadata?.httpStatusCode ?? e?.$response?.statusCode;
}

/** The object a failed read was for: what {@link mapSseCError} asks again, without the key. */
export interface SseCObject {
  client: S3Client;
  bucket: string;
  key: string;
  versionId?: string | undefined;
}

/**
 * S3 error codes with which stores refuse a request for its SSE-C key (or lack of one): RGW
 * `InvalidArgument` (no key, wrong key), AWS and MinIO `InvalidRequest` (no key), AWS
 * `AccessDenied` (wrong key). A bodiless answer (HEAD) has no code at all, which the SDK names
 * after nothing (`Unknown`) or after the status.
 */
const SSE_C_REFUSALS = new Set(['InvalidArgument', 'InvalidRequest', 'AccessDenied']);
const NO_CODE = new Set(['Unknown', 'BadRequest', 'Forbidden', 'Error', '400', '403']);

/**
 * Whether an error's S3 code can be a refusal about SSE-C: one of {@link SSE_C_REFUSALS}, or no
 * code. Another code (`InvalidObjectName`, `AuthorizationHeaderMalformed`...) names another fault.
 */
function mayBeAboutSseC(err: unknown): boolean {
  const e = err as { Code?: unknown; name?: unknown } | undefined;
  const code = typeof e?.Code === 'string' ? e.Code : typeof e?.name === 'string' ? e.name : undefined;
  return code === undefined || NO_CODE.has(code) || SSE_C_REFUSALS.has(code);
}

/**
 * Asks for the object's first byte without any SSE-C key (a GET, whose refusal has a body and so
 * an error code, unlike a HEAD's): `plain` when the store hands it out, `sse-c` when it refuses
 * with 400 as stores refuse a missing key, `unknown` otherwise. An empty object has no first byte
 * (RGW answers 416 before it looks at SSE-C): a HEAD then says which, by its status alone.
 */
async function probeWithoutKey(object: SseCObject): Promise<'plain' | 'sse-c' | 'unknown'> {
  const { client, bucket, key, versionId } = object;
  const verdict = (err: unknown) =>
    httpStatus(err) === 400 && mayBeAboutSseC(err) ? ('sse-c' as const) : ('unknown' as const);
  try {
    const out = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, Range: 'bytes=0-0' }),
    );
    await out.Body?.transformToByteArray();
    return 'plain';
  } catch (err) {
    if (httpStatus(err) !== 416) return verdict(err);
  }
  return client
    .send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))
    .then(() => 'plain' as const, verdict);
}

/**
 * Turns a failed read of an object into a typed SSE-C error when the failure is about the key.
 *
 * Servers differ (Ceph RGW answers 400 `InvalidArgument` to both a missing and a wrong key, and
 * HEAD errors have no body; AWS answers 400 `InvalidRequest` to a missing key and 403 to a wrong
 * one), and a 400 may be about something else entirely (RGW answers 400 `InvalidObjectName` for a
 * name over 1024 bytes). So this looks at the status, whether the request carried a key and the
 * S3 error code (never at messages), and asks the store again when that is not enough:
 * - a status other than 400 and 403, or a code that names another fault: the original error;
 * - no key sent, 400: ambiguous (an SSE-C object, or a 400 with no code about something else), so
 *   the object's first byte is asked for without a key: refused with 400 means the object needs a
 *   key (`SSE_C_KEY_REQUIRED`); anything else keeps the original error;
 * - key sent, 400 or 403: ambiguous (a wrong key, a key for an object stored without SSE-C, or
 *   denied access), so the same question: refused with 400 means the object needs a key and ours
 *   is wrong (`SSE_C_KEY_MISMATCH`); handed out means it is not an SSE-C object
 *   (`SSE_C_NOT_APPLIED`); anything else keeps the original error.
 * @param context.object - The object the failed request was for, asked again without SSE-C.
 * @returns The error to throw (the original one when it is not about SSE-C).
 */
export async function mapSseCError(
  err: unknown,
  context: { what: string; sentKey: boolean; object: SseCObject },
): Promise<unknown> {
  const status = httpStatus(err);
  if (status !== 400 && status !== 403) return err;
  if (!context.sentKey && status !== 400) return err;
  if (!mayBeAboutSseC(err)) return err;
  const probed = await probeWithoutKey(context.object);
  if (!context.sentKey) {
    if (probed !== 'sse-c') return err;
    return new SosError(
      'SSE_C_KEY_REQUIRED',
      `${context.what}: the object is stored with SSE-C and the request carried no key (server answered ${describe(err)}); pass encryption: { sseC: { key } }`,
      { cause: err },
    );
  }
  if (probed === 'sse-c') {
    return new SosError(
      'SSE_C_KEY_MISMATCH',
      `${context.what}: the object is stored with SSE-C under another key than the one given (server answered ${describe(err)})`,
      { cause: err },
    );
  }
  if (probed === 'plain') {
    return new SosError(
      'SSE_C_NOT_APPLIED',
      `${context.what}: an SSE-C key was given but the object is not stored with SSE-C (server answered ${describe(err)})`,
      { cause: err },
    );
  }
  return err;
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string };
  const status = httpStatus(err);
  const code = e?.name && e.name !== 'Unknown' && e.name !== 'Error' ? ` ${e.name}` : '';
  return `${status ?? 'no status'}${code}`;
}
