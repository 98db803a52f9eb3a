/**
 * Rewrapping: a new recipients block for the same data key (SPEC §5). The rules for keeping, adding,
 * removing and duplicates are decided here once, for every caller.
 * @module
 */
import type { CipherBackend } from './aead/backend.ts';
import { randomBytes } from './bytes.ts';
import { SealstreamError } from './errors.ts';
import { type Recipient, toWrappers } from './recipients/input.ts';
import { describeStanza } from './recipients/registry.ts';
import { distinctWrappers, wrapDataKey } from './recipients/wrap.ts';
import type { Stanza } from './stanza.ts';

/** What a rewrap changes. */
export interface RewrapOptions {
  /** Recipients to wrap the data key for. */
  recipients?: Recipient | Recipient[];
  /** Keep the current stanzas and add the new ones (default: replace them). */
  keepExisting?: boolean;
  /** Key IDs whose stanzas are removed; the other stanzas are kept (implies `keepExisting`). */
  remove?: string[];
}

/**
 * The stanzas of a rewrapped header:
 * - without `keepExisting` or `remove`, only the new recipients;
 * - otherwise the current stanzas in their order (minus those `remove` names; unknown types are kept
 *   as they are), then the new recipients;
 * - a new recipient whose key ID is already in the block is not added again, and one given twice is
 *   added once (recipients without a key ID, passphrases, are always added);
 * - every key ID in `remove` must name a stanza of the header, and the result must hold 1 to 64 stanzas.
 *
 * Nothing checks that the keys that opened the object still open the result: removing their stanzas,
 * or replacing every stanza with public keys whose private keys are elsewhere, is how access is
 * revoked or handed over. A caller acting for a user who may lock themselves out says so (the CLI's
 * `rekey` warns when only public keys remain).
 * @throws {SealstreamError} `INVALID_ARGUMENT`, `INVALID_KEY`.
 */
export async function rewrapStanzas(
  existing: readonly Stanza[],
  dataKey: Uint8Array,
  options: RewrapOptions,
  backend: CipherBackend,
  random: (n: number) => Uint8Array = randomBytes,
): Promise<Stanza[]> {
  if (!options || typeof options !== 'object') {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      'a rewrap needs options: { recipients, keepExisting?, remove? }',
    );
  }
  const given = options.remove ?? [];
  if (!Array.isArray(given) || given.some((id) => typeof id !== 'string')) {
    throw new SealstreamError('INVALID_ARGUMENT', 'remove must be a list of key IDs');
  }
  // key IDs are hex, shown in lower case: one copied in upper case (or with a stray space) is the same ID
  const remove = given.map((id) => id.trim().toLowerCase());
  if (options.recipients === undefined && remove.length === 0) {
    throw new SealstreamError('INVALID_ARGUMENT', 'a rewrap needs recipients to add or key IDs to remove');
  }
  const wrappers = options.recipients === undefined ? [] : toWrappers(options.recipients);
  const idOf = (s: Stanza) => {
    const info = describeStanza(s);
    return 'keyId' in info ? info.keyId : undefined;
  };
  const present = new Set(existing.map(idOf));
  for (const id of remove) {
    if (!present.has(id)) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `cannot remove key ID ${JSON.stringify(id.slice(0, 64))}: no recipient of this object has it`,
      );
    }
  }
  const keep = options.keepExisting === true || remove.length > 0;
  const kept = keep ? existing.filter((s) => !remove.includes(idOf(s) ?? '')) : [];
  const keptIds = kept.map(idOf).filter((id) => id !== undefined);
  const fresh = distinctWrappers(wrappers, keptIds);
  return [...kept, ...(await wrapDataKey(dataKey, fresh, backend, random))];
}
