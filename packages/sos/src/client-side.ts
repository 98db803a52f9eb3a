/**
 * Client-side encryption paths: objects are sealed with `@sealstream/core` before they leave the
 * process and opened after they arrive; the server only ever stores ciphertext.
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  FIRST_READ,
  inspectSealed,
  Keyring,
  type KeysInput,
  openSealed,
  type Recipient,
  type SealedFacts,
  type SealedObject,
  SealstreamError,
} from '@sealstream/core';
import type { ResolvedEncryption } from './encryption.ts';
import { SosError } from './errors.ts';
import { notSatisfiable, type ParsedRange, type ResolvedRange, resolveRange } from './range.ts';
import { type FetchStats, S3RangeSource } from './s3-source.ts';
import { assertSseCApplied, httpStatus, mapSseCError } from './sse-c.ts';
import { mapStoreError } from './store-errors.ts';

/** Client-side encryption settings. */
export interface ClientSideOptions {
  /**
   * On upload: the recipients (raw keys as bytes or text, `{ key }`, `{ passphrase }`), one or
   * several. On download: the keys to try (the same forms, or a `Keyring`).
   */
  keys: KeysInput;
  /**
   * Bind the object to its location: `true` binds `bucket/key` into the header and requires it on
   * read (an object moved or swapped in the bucket then fails with `IDENTITY_MISMATCH`); a string
   * binds that identity instead. Default: not bound.
   */
  identity?: boolean | string;
  /**
   * On download and rekey: the highest passphrase work factor (scrypt logN) to accept; default
   * the core's limit of 20 (SPEC §5.2). Raise it only for objects whose writer you trust.
   */
  maxWorkFactor?: number;
}

/** The identity to bind or expect, if any. */
export function identityFor(options: ClientSideOptions, bucket: string, key: string): string | undefined {
  if (options.identity === true) return `${bucket}/${key}`;
  if (typeof options.identity === 'string') return options.identity;
  return undefined;
}

/** Recipients for sealing: any key form but a keyring (a keyring is for opening). */
export function recipientsOf(options: ClientSideOptions): Recipient | Recipient[] {
  if (options.keys instanceof Keyring) {
    throw new SosError(
      'INVALID_ARGUMENT',
      '"encryption.clientSide.keys" for an upload expected keys or passphrases, not a Keyring',
    );
  }
  return options.keys;
}

/** Where to fetch from, and how. */
export interface Fetcher {
  client: S3Client;
  bucket: string;
  key: string;
  versionId: string | undefined;
  encryption: ResolvedEncryption;
  signal: AbortSignal | undefined;
  /** Ciphertext bytes fetched so far (shared by copies, for reporting). */
  stats: FetchStats;
}

/** A fetcher of one object (a version, when given) with a fresh byte count. */
export function fetcherFor(
  where: { client: S3Client; bucket: string; key: string },
  encryption: ResolvedEncryption,
  versionId: string | undefined,
  signal: AbortSignal | undefined,
): Fetcher {
  const { client, bucket, key } = where;
  return { client, bucket, key, versionId, encryption, signal, stats: { bytesFetched: 0 } };
}

/**
 * The object as a byte source pinned to the first answer's ETag/version (see {@link S3RangeSource}),
 * opened with one GET of the bytes core's reader reads first ({@link FIRST_READ}, 4 KiB: the header
 * of all but the largest objects, and the whole of a small one), kept to serve the reads inside
 * them; with SSE-C every answer must confirm the key.
 * @throws {SealstreamError} `TRUNCATED` for an empty object; {@link SosError} SSE-C and transport
 *   errors, and the store's refusals (`NOT_FOUND`, `ACCESS_DENIED`, ...).
 */
export async function openS3Source(f: Fetcher): Promise<S3RangeSource> {
  const what = `get ${f.bucket}/${f.key}`;
  const sseC = f.encryption.sseC;
  try {
    const { source } = await S3RangeSource.open(
      {
        client: f.client,
        bucket: f.bucket,
        key: f.key,
        versionId: f.versionId,
        sseC,
        ...(sseC ? { check: (out) => assertSseCApplied(out, sseC, what) } : {}),
      },
      0,
      FIRST_READ,
      { signal: f.signal, stats: f.stats },
    );
    return source;
  } catch (err) {
    if (httpStatus(err) === 416) {
      throw new SealstreamError(
        'TRUNCATED',
        `${f.bucket}/${f.key} is empty: it is not a sealstream object or was truncated`,
        { cause: err },
      );
    }
    const sseCError = await mapSseCError(err, {
      what,
      sentKey: sseC !== undefined,
      object: f,
    });
    throw mapStoreError(sseCError, { what, bucket: f.bucket, key: f.key, versionId: f.versionId });
  }
}

/**
 * Opens a client-side encrypted object from the store with core's reader: the header is read,
 * the key found (a passphrase's scrypt runs once), the commitment and identity checked.
 */
export async function openS3Sealed(
  f: Fetcher,
  options: ClientSideOptions,
  parallel?: number,
): Promise<{ source: S3RangeSource; sealed: SealedObject }> {
  const source = await openS3Source(f);
  const identity = identityFor(options, f.bucket, f.key);
  const sealed = await openSealed(source, {
    keys: options.keys,
    ...(identity !== undefined ? { identity } : {}),
    ...(options.maxWorkFactor !== undefined ? { maxWorkFactor: options.maxWorkFactor } : {}),
    ...(parallel !== undefined ? { parallel } : {}),
    ...(f.signal !== undefined ? { signal: f.signal } : {}),
  });
  return { source, sealed };
}

/** What `headObject` learns from the header of a client-side encrypted object, without keys. */
export async function describeObject(f: Fetcher): Promise<SealedFacts> {
  const source = await openS3Source(f);
  const facts = await inspectSealed(source, f.signal ? { signal: f.signal } : {});
  if (facts === undefined) {
    throw new SealstreamError(
      'HEADER_INVALID',
      `${f.bucket}/${f.key} is not a sealstream object: the magic bytes "sealstream" are missing`,
    );
  }
  return facts;
}

/**
 * Opens an object for reading, whole or a plaintext range, through core's reader over ranged GETs:
 * one GET for the header (and the whole of a small object), then, for a read longer than one
 * window, one GET of the chunks streamed and opened 1 MiB at a time as they arrive (resumed where
 * it broke off); a shorter read is one window. A range that touches the end includes the final
 * chunk, so truncation is detected.
 * A range ending past the plaintext is clamped to it, as a server clamps a stored range.
 */
export async function openObject(
  f: Fetcher,
  options: ClientSideOptions,
  range: ParsedRange | undefined,
  parallel: number,
): Promise<{
  body: ReadableStream<Uint8Array>;
  size: number;
  objectSize: number;
  range: ResolvedRange | undefined;
  source: S3RangeSource;
  sealed: SealedObject;
}> {
  const { source, sealed } = await openS3Sealed(f, options, parallel);
  const objectSize = sealed.size;
  const streamOptions = f.signal ? { signal: f.signal } : {};
  if (range === undefined) {
    return {
      body: sealed.stream(undefined, streamOptions),
      size: objectSize,
      objectSize,
      range: undefined,
      source,
      sealed,
    };
  }
  let resolved: ResolvedRange;
  try {
    resolved = resolveRange(range, objectSize);
  } catch (err) {
    throw notSatisfiable(range, objectSize, err);
  }
  const body = sealed.stream(resolved, streamOptions);
  return { body, size: resolved.end - resolved.start, objectSize, range: resolved, source, sealed };
}
