/**
 * Wrapping a data key for a list of recipients (SPEC §5).
 * @module
 */
import type { CipherBackend } from '../aead/backend.ts';
import { randomBytes } from '../bytes.ts';
import type { Stanza } from '../stanza.ts';
import type { StanzaWrapper } from './plugin.ts';

/** Wraps `dataKey` for each recipient, one stanza each, in order. */
export async function wrapDataKey(
  dataKey: Uint8Array,
  wrappers: readonly StanzaWrapper[],
  backend: CipherBackend,
  random: (n: number) => Uint8Array = randomBytes,
): Promise<Stanza[]> {
  const stanzas: Stanza[] = [];
  for (const w of wrappers) stanzas.push(await w.wrap(dataKey, { backend, random }));
  return stanzas;
}

/**
 * The wrappers without repeats: a recipient whose key ID is in `present` (already in the header) or
 * comes earlier in the list is left out, so one key given twice (a recipients file with a line
 * repeated, a key in two forms) gets one stanza. Recipients without a key ID (passphrases) are
 * always kept: two passphrases cannot be told apart without running scrypt.
 */
export function distinctWrappers(
  wrappers: readonly StanzaWrapper[],
  present: Iterable<string> = [],
): StanzaWrapper[] {
  const ids = new Set(present);
  return wrappers.filter((w) => {
    if (w.keyId === undefined) return true;
    if (ids.has(w.keyId)) return false;
    ids.add(w.keyId);
    return true;
  });
}
