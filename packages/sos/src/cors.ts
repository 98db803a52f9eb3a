/**
 * CORS for the browser entry, which talks to the store with the AWS SDK: the bucket rule it needs,
 * and the response headers each request must be able to read, so that a header the rule hides is
 * named instead of surfacing as a malformed completion, a missing size or an unconfirmed SSE-C key.
 * Runtime-neutral.
 * @module
 */
import type { CORSRule } from '@aws-sdk/client-s3';
import { SosError } from './errors.ts';

/** The SSE-C echo headers (see `assertSseCApplied`). */
const SSE_C_ECHO = [
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-server-side-encryption-customer-key-MD5',
];

/**
 * The CORS rule a bucket needs for the browser entry of `@sealstream/sos` (the SDK-based client)
 * used from `origins`: every method the transport sends (multipart uploads POST and DELETE), any
 * request header (the SDK signs several of its own), and the response headers it reads exposed.
 * (Presigned transfers need less: `browserCorsRule` of `@sealstream/sos/presign`.)
 * @throws {SosError} `INVALID_ARGUMENT` for an empty or malformed list of origins.
 */
export function sdkCorsRule(origins: string[]): CORSRule {
  if (!Array.isArray(origins) || origins.length === 0 || origins.some((o) => typeof o !== 'string' || !o)) {
    throw new SosError('INVALID_ARGUMENT', '"origins" expected a non-empty list of origins');
  }
  return {
    AllowedOrigins: origins,
    AllowedMethods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
    AllowedHeaders: ['*'],
    ExposeHeaders: [
      'ETag',
      'Content-Range',
      'Content-Length',
      'x-amz-version-id',
      ...SSE_C_ECHO,
      'x-amz-request-id',
    ],
    MaxAgeSeconds: 3600,
  };
}

/**
 * The response headers the transport reads from a successful answer, by operation (the SDK names
 * it in the `x-id` query parameter; HeadObject is the only HEAD it sends):
 * | operation | headers it must read |
 * | UploadPart | `ETag` (CompleteMultipartUpload lists them) |
 * | GetObject | `ETag` (later reads are pinned to it); with `Range`, also `Content-Range` (the size) |
 * | GetObject, HeadObject, PutObject, UploadPart carrying an SSE-C key | the SSE-C echo headers (proof the key was applied) |
 */
export function headersToRead(method: string, url: URL, requestHeaders: Headers): string[] {
  const operation = method.toUpperCase() === 'HEAD' ? 'HeadObject' : url.searchParams.get('x-id');
  const needed: string[] = [];
  if (operation === 'UploadPart') needed.push('ETag');
  if (operation === 'GetObject') {
    needed.push('ETag');
    if (requestHeaders.has('range')) needed.push('Content-Range');
  }
  const sseCOperations = ['GetObject', 'HeadObject', 'PutObject', 'UploadPart'];
  if (
    sseCOperations.includes(operation ?? '') &&
    requestHeaders.has('x-amz-server-side-encryption-customer-key')
  ) {
    needed.push(...SSE_C_ECHO);
  }
  return needed;
}

/**
 * Checks that a successful cross-origin answer lets the page read the headers the transport needs.
 * A header missing from a `cors` answer was hidden by the bucket's CORS rule (a browser shows only
 * a few headers unless ExposeHeaders lists them); one missing from a same-origin answer was never
 * sent, and is left to the transport's own checks.
 * @throws {SosError} `SERVER_FAULT` naming the hidden header and the rule to fix.
 */
export function checkExposedHeaders(request: Request, response: Response): void {
  if (response.type !== 'cors' || response.status < 200 || response.status > 299) return;
  for (const name of headersToRead(request.method, new URL(request.url), request.headers)) {
    if (response.headers.has(name)) continue;
    throw Object.assign(
      new SosError(
        'SERVER_FAULT',
        `${request.method} ${new URL(request.url).pathname}: the browser hid the ${name} response header: ` +
          `the bucket's CORS rule must list "${name}" in ExposeHeaders (see sdkCorsRule and the @sealstream/sos README, "CORS for browsers")`,
      ),
      { header: name },
    );
  }
}
