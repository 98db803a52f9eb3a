/**
 * Raw 256-bit keys: generation, text forms, key IDs and key-encryption keys (SPEC §3).
 * @module
 */
import { randomBytes, toHex, utf8 } from './bytes.ts';
import { SealstreamError } from './errors.ts';
import { hkdfExpand } from './kdf.ts';

/** Length of a raw key and of a data key, in bytes. */
export const KEY_LENGTH = 32;

/** A raw key as bytes, or as text in any form {@link parseKey} accepts. */
export type KeyInput = Uint8Array | string;

const KEY_ID_INFO = utf8('sealstream/v1 key-id');
const KEY_WRAP_INFO = utf8('sealstream/v1 key-wrap');

/**
 * Generates a new random 256-bit key (the equivalent of `openssl rand 32`).
 * @returns 32 bytes from the platform CSPRNG.
 * @example
 * const key = generateKey();
 * console.log(formatKey(key)); // e.g. "q3Rk...=" (44 characters)
 */
export function generateKey(): Uint8Array {
  return randomBytes(KEY_LENGTH);
}

/**
 * Parses a 256-bit key from text: padded or unpadded standard base64, base64url, or 64 hex digits.
 * Hex digits may be in either case. Spaces, tabs, CR and LF around the key (such as a file's trailing
 * newline) are ignored; any other character, inside or around, is an error (SPEC §3.1).
 * @param text - The key as text.
 * @returns The 32 key bytes.
 * @throws {SealstreamError} `INVALID_KEY` when the text is not exactly one 32-byte key.
 * @example
 * const key = parseKey(process.env.SEALSTREAM_KEY!);
 */
export function parseKey(text: string): Uint8Array {
  if (typeof text !== 'string') throw invalidKey(`expected a string, got ${typeof text}`);
  // Only ASCII whitespace around the key (a file's newline, CRLF, indentation); nothing inside it.
  const t = text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  if (/^[0-9a-fA-F]{64}$/.test(t)) {
    const out = new Uint8Array(KEY_LENGTH);
    for (let i = 0; i < KEY_LENGTH; i++) out[i] = Number.parseInt(t.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  const standard = /^[A-Za-z0-9+/]+={0,2}$/.test(t);
  const url = /^[A-Za-z0-9_-]+={0,2}$/.test(t);
  if (!standard && !url) {
    throw invalidKey(
      `expected base64, base64url or 64 hex digits (${t.length} characters, not in any of these forms${whatIsWrong(t)})`,
    );
  }
  const body = t.replace(/=+$/, '');
  const padding = t.length - body.length;
  if (body.length !== 43 || (padding !== 0 && padding !== 1)) {
    throw invalidKey(
      `expected 32 bytes (43 base64 characters plus optional "="), got ${t.length} characters`,
    );
  }
  const bytes = fromBase64(body.replace(/-/g, '+').replace(/_/g, '/'));
  // Reject non-zero trailing bits: every key has exactly one text per alphabet.
  if (toBase64(bytes).replace(/=+$/, '') !== body.replace(/-/g, '+').replace(/_/g, '/')) {
    throw invalidKey(
      'the last base64 character has non-zero trailing bits: this is not a canonical encoding',
    );
  }
  return bytes;
}

/**
 * What keeps key text from parsing when it is an invisible or easily missed character (SPEC §3.1
 * accepts none of them): said by kind and position, never by showing the text.
 */
function whatIsWrong(t: string): string {
  if (t.startsWith('\uFEFF')) {
    return ': it starts with a byte-order mark (U+FEFF), which some editors write at the start of a file; save the file without it';
  }
  const space = t.search(/\s/u);
  if (space >= 0) {
    return t.charCodeAt(space) > 0x7f
      ? `: character ${space + 1} is a non-ASCII space (such as a no-break space from a copied web page)`
      : `: there is whitespace inside it, at character ${space + 1} (a key is one word; only spaces and newlines around it are ignored)`;
  }
  const other = t.search(/[^\x21-\x7e]/u);
  if (other >= 0) return `: character ${other + 1} is not printable ASCII`;
  if (/[+/]/.test(t) && /[-_]/.test(t)) {
    return ': it mixes the standard (+/) and url (-_) base64 alphabets';
  }
  return '';
}

/**
 * Formats a key as padded standard base64, the form Exoscale's and AWS's SSE-C docs show
 * and `openssl rand -base64 32` prints.
 * @throws {SealstreamError} `INVALID_KEY` when `key` is not 32 bytes.
 */
export function formatKey(key: Uint8Array): string {
  return toBase64(checkKey(key));
}

/**
 * The key ID of a raw key (SPEC §3.2): 16 hex digits that identify the key without revealing it.
 * @example
 * keyId(key); // "3f9a1c2b7d4e5f60"
 */
export function keyId(key: KeyInput): string {
  return toHex(keyIdBytes(toKey(key)));
}

/** Key ID bytes of a raw key (SPEC §3.2). */
export function keyIdBytes(key: Uint8Array): Uint8Array {
  return hkdfExpand(key, KEY_ID_INFO, 8);
}

/** The AES-KW key-encryption key derived from a raw key (SPEC §3.3). */
export function rawKeyKek(key: Uint8Array): Uint8Array {
  return hkdfExpand(key, KEY_WRAP_INFO, KEY_LENGTH);
}

/** Validates a key given as bytes or text and returns its bytes. */
export function toKey(key: KeyInput): Uint8Array {
  return typeof key === 'string' ? parseKey(key) : checkKey(key);
}

function checkKey(key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array)) throw invalidKey(`expected Uint8Array or string, got ${describe(key)}`);
  if (key.length !== KEY_LENGTH) {
    throw invalidKey(
      `expected ${KEY_LENGTH} bytes, got ${key.length}${
        isKeyTextAsBytes(key)
          ? ': these bytes are the text of a key (a key file read without an encoding?): give the text as a string, e.g. readFile(path, "utf8")'
          : ''
      }`,
    );
  }
  return key;
}

/**
 * Whether bytes given as a raw key are the text of one (raw or age) in ASCII: the mistake of reading
 * a key file as bytes, which otherwise reads as "expected 32 bytes, got 45" and nothing more.
 */
function isKeyTextAsBytes(bytes: Uint8Array): boolean {
  if (
    bytes.length > 256 ||
    bytes.some((b) => b > 0x7e || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d))
  ) {
    return false;
  }
  const text = String.fromCharCode(...bytes).trim();
  if (/^AGE-SECRET-KEY-/.test(text)) return true;
  try {
    parseKey(text);
    return true;
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  return value === null
    ? 'null'
    : typeof value === 'object'
      ? value.constructor?.name || 'object'
      : typeof value;
}

function invalidKey(detail: string): SealstreamError {
  return new SealstreamError('INVALID_KEY', `invalid key: ${detail}`);
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
