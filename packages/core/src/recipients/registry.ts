/**
 * The recipient types this version knows (SPEC §5). Stanzas of any other type are skipped by
 * readers and kept as they are by rewrapping.
 * @module
 */
import type { Stanza } from '../stanza.ts';
import { keyStanzaFormat } from './key.ts';
import type { RecipientInfo, StanzaFormat } from './plugin.ts';
import { publicKeyStanzaFormats } from './public-key.ts';
import { scryptStanzaFormat } from './scrypt.ts';

/** Every known stanza format, one per recipient type. */
const FORMATS: ReadonlyMap<string, StanzaFormat> = new Map(
  [keyStanzaFormat, scryptStanzaFormat, ...publicKeyStanzaFormats].map((f) => [f.stanzaType, f]),
);

/**
 * Checks a stanza against its type's rules when the type is known; unknown types pass (SPEC §5).
 * @throws {SealstreamError} `HEADER_INVALID`.
 */
export function checkStanza(stanza: Stanza, where: string): void {
  FORMATS.get(stanza.type)?.check(stanza, where);
}

/** What can be shown of a stanza without a secret. */
export function describeStanza(stanza: Stanza): RecipientInfo {
  return FORMATS.get(stanza.type)?.describe(stanza) ?? { type: 'unknown', name: stanza.type };
}
