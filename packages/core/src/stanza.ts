/**
 * Recipient stanzas as the header carries them (SPEC §5): a type name and fields, nothing more.
 * The header parser works with these; only the recipient modules (recipients/) know what a
 * type's fields mean.
 * @module
 */
import { SealstreamError } from './errors.ts';

/**
 * One stanza of the recipients block: a msgpack map whose first key is `"type"` (SPEC §5).
 * `fields` holds every entry in header order, `"type"` first, values as decoded (binary as
 * `Uint8Array`), so a stanza of an unknown type is written back exactly as it was read.
 */
export interface Stanza {
  /** The stanza type, e.g. `key` or `scrypt`. */
  readonly type: string;
  /** All entries in header order, `type` first. */
  readonly fields: ReadonlyMap<unknown, unknown>;
}

/**
 * Builds a stanza of `type` with `entries` after the type, in this order.
 * @example
 * makeStanza('key', [['kid', kid], ['wrap', wrap]]);
 */
export function makeStanza(type: string, entries: readonly (readonly [string, unknown])[]): Stanza {
  return { type, fields: new Map<unknown, unknown>([['type', type], ...entries]) };
}

/**
 * The values of a stanza's fields after `type`, checking that it has exactly `names`, in this
 * order (SPEC §5: a stanza of a known type whose fields do not match is invalid).
 * @throws {SealstreamError} `HEADER_INVALID` naming the stanza.
 */
export function stanzaValues(stanza: Stanza, names: readonly string[], where: string): unknown[] {
  const keys = [...stanza.fields.keys()];
  const expected = ['type', ...names];
  if (keys.length !== expected.length || keys.some((k, i) => k !== expected[i])) {
    throw stanzaInvalid(`${where} must have exactly the fields ${expected.join(', ')} in this order`);
  }
  return names.map((n) => stanza.fields.get(n));
}

/**
 * A binary field of exactly `length` bytes, copied (the decoded value may share a caller's buffer).
 * @throws {SealstreamError} `HEADER_INVALID`.
 */
export function binaryField(value: unknown, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw stanzaInvalid(`${what} must be ${length} bytes`);
  }
  return new Uint8Array(value);
}

/** The error for a stanza whose fields break its type's rules. */
export function stanzaInvalid(detail: string): SealstreamError {
  return new SealstreamError('HEADER_INVALID', `malformed header: ${detail}`);
}
