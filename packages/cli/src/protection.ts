/**
 * How an object in a store is protected, found with one small ranged GET of its start (two when
 * it is stored with SSE-C and keys were given, one per key tried): client-side (the sealstream
 * header's recipients and identity, read without any key), SSE-C (and whether a given key is
 * the one), or neither. Used by `ls` and `rekey -r`.
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { type HeaderInfo, inspectHeader, isSealstreamError, readHeaderLength } from '@sealstream/core';
import { getObject, headObject, isSosError } from '@sealstream/sos';
import { interrupted } from './io.ts';

/** Bytes read from the start of each object: a header with a few recipients fits (SPEC §4). */
const FIRST_READ = 4096;
const MAGIC = new TextEncoder().encode('sealstream');

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
  const read = async (start: number, end: number) => {
    const got = await getObject({
      ...location,
      encryption,
      range: `bytes=${start}-${end - 1}`,
      signal: interrupted,
    });
    return new Uint8Array(await new Response(got.body).arrayBuffer());
  };
  let head: Uint8Array = await read(0, Math.min(FIRST_READ, object.size));
  if (!startsWithMagic(head)) return { kind: 'plain' };
  try {
    const length = readHeaderLength(head);
    if (length !== undefined && length > head.byteLength && length <= object.size) {
      head = concat(head, await read(head.byteLength, length));
    }
    return { kind: 'sealed', header: inspectHeader(head) };
  } catch (err) {
    if (isSealstreamError(err) && !isSosError(err)) return { kind: 'invalid', code: err.code };
    throw err;
  }
}

function startsWithMagic(bytes: Uint8Array): boolean {
  return bytes.byteLength >= MAGIC.byteLength && MAGIC.every((b, i) => bytes[i] === b);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
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
