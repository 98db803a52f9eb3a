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
