/**
 * How an object in a store is protected, found with one small ranged GET of its start (two when
 * it is stored with SSE-C and keys were given, one per key tried): client-side (the sealstream
 * header's recipients and identity, read without any key by core's `inspectSealed` over the
 * store's byte source, which reads only what the header needs), SSE-C (and whether a given key is
 * the one), or neither. Used by `ls` and `rekey -r`.
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { type HeaderInfo, inspectSealed, isSealstreamError } from '@sealstream/core';
import { headObject, isSosError, openObjectSource } from '@sealstream/sos';
import { interrupted } from './io.ts';

/** What the start of an object's content says about it. */
export type Content =
  /** A sealstream header, read without any key. */
  | { kind: 'sealed'; header: HeaderInfo }
  /** Starts with the sealstream magic, but the header does not parse. */
  | { kind: 'invalid'; code: string }
  /** Anything else: stored as the store keeps it. */
  | { kind: 'plain' }
  /** Not known: the object is SSE-C and no given key opens it. */
  | { kind: 'unknown' };

/** How one object is protected. */
export interface Protection {
  /** SSE-C: `undefined` when the object is not stored with SSE-C; else which given key opens it (`matched`: its index), if any. */
  sseC: { matched: number | undefined } | undefined;
  /** The content inside (under SSE-C: read with the matching key, else unknown). */
  content: Content;
}

/** One object to look at. */
export interface ObjectRef {
  client: S3Client;
  bucket: string;
  key: string;
  /** Size from the listing: an empty object is described with a HEAD, a range of it does not exist. */
  size: number;
}

/**
 * Finds how an object is protected.
 * @param sseCKeys - SSE-C keys to try, in order, if the object is stored with SSE-C.
 * @throws S3 and transport errors other than the SSE-C answers it interprets (e.g. `NoSuchKey`).
 */
export async function probeProtection(
  object: ObjectRef,
  sseCKeys: readonly Uint8Array[],
): Promise<Protection> {
  try {
    return { sseC: undefined, content: await readContent(object, undefined) };
  } catch (err) {
    if (!isSosError(err, 'SSE_C_KEY_REQUIRED')) throw err;
  }
  for (const [i, key] of sseCKeys.entries()) {
    try {
      return { sseC: { matched: i }, content: await readContent(object, key) };
    } catch (err) {
      if (!isSosError(err, 'SSE_C_KEY_MISMATCH')) throw err;
    }
  }
  return { sseC: { matched: undefined }, content: { kind: 'unknown' } };
}

/** Reads the start of the content and classifies it. */
async function readContent(object: ObjectRef, sseCKey: Uint8Array | undefined): Promise<Content> {
  const location = { client: object.client, bucket: object.bucket, key: object.key };
  const encryption = sseCKey === undefined ? ('none' as const) : { sseC: { key: sseCKey } };
  if (object.size === 0) {
    await headObject({ ...location, encryption });
    return { kind: 'plain' };
  }
  // one GET of the first bytes core reads (more only for a header longer than them)
  const source = await openObjectSource({ ...location, encryption, signal: interrupted });
  try {
    const facts = await inspectSealed(source, { signal: interrupted });
    return facts === undefined ? { kind: 'plain' } : { kind: 'sealed', header: facts.header };
  } catch (err) {
    // the store's own errors are errors; a header that does not parse is what the object is
    if (isSealstreamError(err) && !isSosError(err)) return { kind: 'invalid', code: err.code };
    throw err;
  }
}

/** How a header binds its object: to its own location, to another one, or not at all. */
export function bindingOf(
  header: HeaderInfo,
  bucket: string,
  key: string,
): 'bound' | 'elsewhere' | 'unbound' {
  if (header.identity === undefined) return 'unbound';
  return header.identity === `${bucket}/${key}` ? 'bound' : 'elsewhere';
}

/**
 * Makes text from an object (its key, an identity from a header) safe to print on a terminal:
 * control characters, C1 codes, line and paragraph separators and bidirectional overrides become
 * visible escapes, and a backslash is doubled so the escapes are unambiguous.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to make visible
  return text.replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) =>
    c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * JSON text that is also safe on a terminal: `JSON.stringify` escapes C0 controls only, so C1
 * codes, separators and bidirectional overrides are escaped here too (still valid JSON).
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
