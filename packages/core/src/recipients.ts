/**
 * Recipients: who can open an object. Wrapping a data key into stanzas (SPEC §5).
 * @module
 */
import type { CipherBackend } from './aead/backend.ts';
import { randomBytes } from './bytes.ts';
import { SealstreamError } from './errors.ts';
import { type KeyStanza, MAX_LOG_N, MIN_LOG_N, type ScryptStanza, type Stanza } from './header.ts';
import { passphraseKek } from './kdf.ts';
import { type KeyInput, keyIdBytes, rawKeyKek, toKey } from './keys.ts';

/** Default scrypt work factor for new passphrase stanzas (SPEC §5.2). */
export const DEFAULT_WORK_FACTOR = 18;

/** A passphrase recipient. `workFactor` is scrypt's logN (10 to 22, default 18). */
export interface PassphraseRecipient {
  passphrase: string;
  workFactor?: number;
}

/**
 * Who an object is encrypted to: a raw 256-bit key (bytes or text), `{ key }`, or `{ passphrase }`.
 * A string is always parsed as a key, never taken as a passphrase.
 */
export type Recipient = KeyInput | { key: KeyInput } | PassphraseRecipient;

/** A recipient validated once, at the boundary. */
export type NormalizedRecipient =
  | { kind: 'key'; key: Uint8Array }
  | { kind: 'passphrase'; passphrase: string; logN: number };

/** Validates recipients given by a caller. */
export function normalizeRecipients(input: Recipient | Recipient[] | undefined): NormalizedRecipient[] {
  const list = input === undefined ? [] : Array.isArray(input) ? input : [input];
  if (list.length === 0) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      'at least one recipient (a key or a passphrase) is required',
    );
  }
  return list.map(normalizeRecipient);
}

/** Validates one recipient (or keyring entry). */
export function normalizeRecipient(r: Recipient): NormalizedRecipient {
  if (typeof r === 'string' || r instanceof Uint8Array) return { kind: 'key', key: toKey(r) };
  if (r && typeof r === 'object' && 'key' in r) return { kind: 'key', key: toKey(r.key) };
  if (r && typeof r === 'object' && 'passphrase' in r) {
    if (typeof r.passphrase !== 'string' || r.passphrase.length === 0) {
      throw new SealstreamError('INVALID_ARGUMENT', 'a passphrase must be a non-empty string');
    }
    const logN = r.workFactor ?? DEFAULT_WORK_FACTOR;
    if (!Number.isInteger(logN) || logN < MIN_LOG_N || logN > MAX_LOG_N) {
      throw new SealstreamError(
        'INVALID_ARGUMENT',
        `workFactor must be an integer from ${MIN_LOG_N} to ${MAX_LOG_N}, got ${logN}`,
      );
    }
    return { kind: 'passphrase', passphrase: r.passphrase, logN };
  }
  throw new SealstreamError(
    'INVALID_ARGUMENT',
    'a recipient must be a key (bytes or text), { key } or { passphrase }',
  );
}

/** Wraps the data key for each recipient (SPEC §5.1, §5.2). */
export async function wrapDataKey(
  dataKey: Uint8Array,
  recipients: NormalizedRecipient[],
  backend: CipherBackend,
  random: (n: number) => Uint8Array = randomBytes,
): Promise<Stanza[]> {
  const stanzas: Stanza[] = [];
  for (const r of recipients) {
    if (r.kind === 'key') {
      const stanza: KeyStanza = {
        type: 'key',
        kid: keyIdBytes(r.key),
        wrap: await backend.wrapKey(rawKeyKek(r.key), dataKey),
      };
      stanzas.push(stanza);
    } else {
      const salt = random(16);
      const kek = await passphraseKek(r.passphrase, salt, r.logN);
      const stanza: ScryptStanza = {
        type: 'scrypt',
        salt,
        logN: r.logN,
        wrap: await backend.wrapKey(kek, dataKey),
      };
      stanzas.push(stanza);
    }
  }
  return stanzas;
}
