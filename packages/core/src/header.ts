/**
 * The envelope header (SPEC §4, §5): byte layout, canonical msgpack encoding, strict parsing.
 * @module
 */
import { concat, readU32, utf8, writeU32 } from './bytes.ts';
import { SealstreamError } from './errors.ts';
import { decodeCanonical, encodeCanonical, type MsgValue } from './msgpack.ts';
import type { RecipientInfo } from './recipients/plugin.ts';
import { checkStanza, describeStanza } from './recipients/registry.ts';
import { CHUNK_SIZE } from './sizes.ts';
import type { Stanza } from './stanza.ts';

export type { RecipientInfo } from './recipients/plugin.ts';
export type { Stanza } from './stanza.ts';

/** The magic string at offset 0 (SPEC §4.1). */
export const MAGIC = utf8('sealstream');
/** The format version this code reads and writes. */
export const VERSION = 1;
/** The only suite of version 1 (SPEC §4.2). */
export const SUITE = 'cobblestone-256';
/** Limits of SPEC §4.1 and §5. */
export const MAX_CONTENT_HEADER = 16384;
export const MAX_RECIPIENTS_BLOCK = 65536;
export const MAX_STANZAS = 64;
export const MAX_IDENTITY_BYTES = 1024;
/** Largest possible header: 19 + 16384 + 65536 bytes. */
export const MAX_HEADER_LENGTH = 19 + MAX_CONTENT_HEADER + MAX_RECIPIENTS_BLOCK;

/** Magic, version and `u32(Lc)`: the bytes before the content header (SPEC §4.1). */
export const HEADER_PRELUDE_LENGTH = MAGIC.length + 1 + 4;
const PRELUDE = HEADER_PRELUDE_LENGTH;

/** The content header fields (SPEC §4.2). */
export interface ContentHeader {
  identity?: string;
}

/** A header parsed from bytes, with the exact bytes it came from. */
export interface ParsedHeader {
  version: number;
  suite: string;
  chunkSize: number;
  identity: string | undefined;
  stanzas: Stanza[];
  /** Header length `H`: the payload starts here. */
  headerLength: number;
  /** The payload context (SPEC §4.3), exactly as read. */
  context: Uint8Array;
}

/**
 * How many bytes the header occupies, as soon as `prefix` holds enough to tell (SPEC §4.1).
 * @returns The header length, or undefined when more bytes are needed.
 * @throws {SealstreamError} `HEADER_INVALID`, `UNSUPPORTED_VERSION` or `HEADER_TOO_LARGE` as soon as the prefix shows it;
 *   `INVALID_ARGUMENT` for anything but a `Uint8Array`.
 */
export function readHeaderLength(prefix: Uint8Array): number | undefined {
  if (!(prefix instanceof Uint8Array)) {
    // a string or an ArrayBuffer is the caller's mistake, not a file without the magic
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `expected the object's bytes as a Uint8Array, got ${typeof prefix}`,
    );
  }
  const m = Math.min(prefix.length, MAGIC.length);
  for (let i = 0; i < m; i++) {
    if (prefix[i] !== MAGIC[i]) {
      throw new SealstreamError(
        'HEADER_INVALID',
        'not a sealstream file: the magic bytes "sealstream" are missing',
      );
    }
  }
  if (prefix.length <= MAGIC.length) return undefined;
  const version = prefix[MAGIC.length]!;
  if (version !== VERSION) {
    throw new SealstreamError(
      'UNSUPPORTED_VERSION',
      version > VERSION
        ? `sealstream format version ${version} is not supported by this reader (it reads version ${VERSION}): upgrade sealstream`
        : // no version below 1 was ever written: the byte is damaged, or the file only mimics the magic
          `sealstream format version ${version} does not exist (the first is 1): the header is damaged or was not written by sealstream`,
    );
  }
  if (prefix.length < PRELUDE) return undefined;
  const lc = readU32(prefix, PRELUDE - 4);
  checkSectionLength('content header', lc, MAX_CONTENT_HEADER);
  if (prefix.length < PRELUDE + lc + 4) return undefined;
  const lr = readU32(prefix, PRELUDE + lc);
  checkSectionLength('recipients block', lr, MAX_RECIPIENTS_BLOCK);
  return PRELUDE + lc + 4 + lr;
}

function checkSectionLength(what: string, length: number, max: number): void {
  if (length === 0) throw new SealstreamError('HEADER_INVALID', `malformed header: the ${what} is empty`);
  if (length > max) {
    throw new SealstreamError(
      'HEADER_TOO_LARGE',
      `the ${what} claims ${length} bytes, more than the limit of ${max}`,
    );
  }
}

/**
 * Parses and validates a whole header (SPEC §4, §5). `bytes` may continue past the header.
 * @throws {SealstreamError} `TRUNCATED` when `bytes` ends inside the header; header errors otherwise.
 */
export function parseHeader(bytes: Uint8Array): ParsedHeader {
  const headerLength = readHeaderLength(bytes);
  if (headerLength === undefined || bytes.length < headerLength) {
    throw new SealstreamError('TRUNCATED', 'the data ends inside the sealstream header: it was truncated');
  }
  const lc = readU32(bytes, PRELUDE - 4);
  const contextEnd = PRELUDE + lc;
  const content = decodeCanonical(bytes.subarray(PRELUDE, contextEnd), 'content header');
  const fields = parseContent(content);
  const stanzaList = decodeCanonical(bytes.subarray(contextEnd + 4, headerLength), 'recipients block');
  return {
    version: VERSION,
    ...fields,
    stanzas: parseStanzas(stanzaList),
    headerLength,
    context: new Uint8Array(bytes.subarray(0, contextEnd)), // a copy: `bytes` may be a caller's Buffer
  };
}

function parseContent(
  value: unknown,
): Omit<ParsedHeader, 'version' | 'stanzas' | 'headerLength' | 'context'> {
  if (!(value instanceof Map)) throw invalid('the content header is not a map');
  const keys = [...value.keys()];
  for (const k of keys) {
    if (k !== 'suite' && k !== 'chunk' && k !== 'id')
      throw invalid(`unknown content header field ${safe(k)}`);
  }
  if (keys.indexOf('suite') > 0 || keys.indexOf('chunk') > 1 || keys.indexOf('id') > 2) {
    throw invalid('the content header fields must be suite, chunk and optionally id, in this order');
  }
  const suite = value.get('suite');
  const chunkSize = value.get('chunk');
  const identity = value.get('id');
  if (typeof suite !== 'string') throw invalid('the content header has no suite string');
  if (typeof chunkSize !== 'number') throw invalid('the content header has no chunk size');
  if (suite !== SUITE || chunkSize !== CHUNK_SIZE) {
    throw new SealstreamError(
      'UNSUPPORTED_SUITE',
      `suite ${safe(suite)} with ${chunkSize}-byte chunks is not supported (expected ${SUITE} with ${CHUNK_SIZE})`,
    );
  }
  if (identity !== undefined) checkIdentity(identity, invalid);
  return { suite, chunkSize, identity: identity as string | undefined };
}

/**
 * Checks an object identity (SPEC §4.2, §7): a well-formed string (no lone surrogate, so its UTF-8 is
 * exact) of 1 to 1024 bytes of UTF-8. It is compared byte for byte, never normalized.
 */
export function checkIdentity(
  identity: unknown,
  fail: (message: string) => Error,
): asserts identity is string {
  if (typeof identity !== 'string') throw fail('the identity must be a string');
  const bytes = utf8(identity);
  if (utf8Decoder.decode(bytes) !== identity) {
    throw fail('the identity is not well-formed Unicode (it holds a lone surrogate)');
  }
  if (bytes.length < 1 || bytes.length > MAX_IDENTITY_BYTES) {
    throw fail(`the identity must be 1 to ${MAX_IDENTITY_BYTES} bytes of UTF-8, got ${bytes.length}`);
  }
}

const utf8Decoder = new TextDecoder();

function parseStanzas(value: unknown): Stanza[] {
  if (!Array.isArray(value)) throw invalid('the recipients block is not an array');
  if (value.length < 1 || value.length > MAX_STANZAS) {
    throw invalid(`the recipients block must hold 1 to ${MAX_STANZAS} stanzas, got ${value.length}`);
  }
  return value.map((s, i) => parseStanza(s, i));
}

function parseStanza(value: unknown, index: number): Stanza {
  const where = `recipient stanza ${index}`;
  if (!(value instanceof Map)) throw invalid(`${where} is not a map`);
  const type = value.get('type');
  if (typeof type !== 'string' || value.keys().next().value !== 'type') {
    throw invalid(`${where} does not start with a string "type"`);
  }
  const stanza: Stanza = { type, fields: value };
  checkStanza(stanza, where);
  return stanza;
}

function invalid(detail: string): SealstreamError {
  return new SealstreamError('HEADER_INVALID', `malformed header: ${detail}`);
}

function safe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : typeof value;
}

/** Encodes magic, version and content header: the payload context (SPEC §4.3). */
export function encodeContext(content: ContentHeader): Uint8Array {
  const map = new Map<string, MsgValue>([
    ['suite', SUITE],
    ['chunk', CHUNK_SIZE],
  ]);
  if (content.identity !== undefined) map.set('id', content.identity);
  const body = encodeCanonical(map);
  const out = new Uint8Array(PRELUDE + body.length);
  out.set(MAGIC, 0);
  out[MAGIC.length] = VERSION;
  writeU32(out, PRELUDE - 4, body.length);
  out.set(body, PRELUDE);
  return out;
}

/** Encodes the length-prefixed recipients block (SPEC §5). */
export function encodeRecipientsBlock(stanzas: Stanza[]): Uint8Array {
  if (stanzas.length < 1 || stanzas.length > MAX_STANZAS) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `an object needs 1 to ${MAX_STANZAS} recipients, got ${stanzas.length}`,
    );
  }
  const body = encodeCanonical(stanzas.map((s) => s.fields as Map<string, MsgValue>));
  if (body.length > MAX_RECIPIENTS_BLOCK) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `the recipients block would be ${body.length} bytes, over the limit`,
    );
  }
  const prefix = new Uint8Array(4);
  writeU32(prefix, 0, body.length);
  return concat(prefix, body);
}

/** What can be known of an encrypted object without any key. */
export interface HeaderInfo {
  /** Format version (1). */
  version: number;
  /** Payload suite, `cobblestone-256`. */
  suite: string;
  /** Plaintext chunk size, 16384. */
  chunkSize: number;
  /** The object identity the payload is bound to, if any (SPEC §7). */
  identity: string | undefined;
  /** One entry per recipient stanza, in header order. */
  recipients: RecipientInfo[];
  /** Key IDs of the recipients that have one (raw keys), in header order. */
  keyIds: string[];
  /** Header length: the payload starts at this offset. */
  headerLength: number;
}

/** Describes a parsed header. */
export function describeHeader(h: ParsedHeader): HeaderInfo {
  const recipients = h.stanzas.map(describeStanza);
  return {
    version: h.version,
    suite: h.suite,
    chunkSize: h.chunkSize,
    identity: h.identity,
    recipients,
    keyIds: recipients.flatMap((r) => ('keyId' in r ? [r.keyId] : [])),
    headerLength: h.headerLength,
  };
}

/**
 * Reads what the header says, without any key: version, suite, chunk size, key IDs, identity.
 * @param bytes - The start of an encrypted object, at least the whole header.
 * @throws {SealstreamError} `TRUNCATED` if `bytes` ends inside the header; header errors otherwise.
 * @example
 * const info = inspectHeader(firstBytes);
 * console.log(info.keyIds, info.identity);
 */
export function inspectHeader(bytes: Uint8Array): HeaderInfo {
  return describeHeader(parseHeader(bytes));
}
