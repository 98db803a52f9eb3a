/**
 * The ETag S3 gives an object completed from parts: the MD5 of the parts' binary MD5s, then `-`
 * and the part count. It lets a resumed upload recognize that the completion it was interrupted in
 * went through, without downloading anything.
 * @module
 */
import { createHash } from 'node:crypto';

const MD5_ETAG = /^"?([0-9a-f]{32})"?$/i;

/**
 * The multipart ETag (quoted, as stores send it) of an object made of parts with these ETags, in
 * part order; `undefined` when a part's ETag is not an MD5 (some stores and encryption modes).
 */
export function multipartEtag(partEtags: readonly string[]): string | undefined {
  const md5 = createHash('md5');
  for (const etag of partEtags) {
    const hex = MD5_ETAG.exec(etag)?.[1];
    if (hex === undefined) return undefined;
    md5.update(Buffer.from(hex, 'hex'));
  }
  return `"${md5.digest('hex')}-${partEtags.length}"`;
}

/** The ETag (quoted) a store gives a part or object stored as these bytes without SSE-C: their MD5. */
export function md5Etag(bytes: Uint8Array): string {
  return `"${createHash('md5').update(bytes).digest('hex')}"`;
}
