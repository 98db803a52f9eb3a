/**
 * SSE-C keys by object path, in the form MinIO's `mc --encrypt-key` uses:
 * `alias/bucket/prefix=KEY,alias/bucket/other/prefix=KEY2`.
 * @module
 */
import { parseKey } from '@sealstream/core';
import { SosError } from './errors.ts';

/** One entry of an {@link SseCKeyMap}. */
export interface SseCKeyMapEntry {
  /** `alias/bucket/` followed by an object-key prefix (possibly empty). */
  readonly prefix: string;
  readonly key: Uint8Array;
}

/** SSE-C keys by path prefix; the longest matching prefix picks the key. */
export interface SseCKeyMap {
  /** Entries, longest prefix first. */
  readonly entries: readonly SseCKeyMapEntry[];
  /**
   * The key for an object, or `undefined` when no prefix covers it.
   * @param alias - The name the map uses for the endpoint (`mc`'s alias).
   */
  keyFor(alias: string, bucket: string, objectKey: string): Uint8Array | undefined;
}

/**
 * Parses a key map: comma-separated `alias/bucket[/prefix]=KEY` entries. Keys may be in any form
 * the core's `parseKey()` accepts (base64 padded or not, base64url, 64 hex digits). An entry
 * without an object prefix (`alias/bucket`) covers the whole bucket. Nested prefixes are allowed
 * (the longest match wins); the same prefix twice is an overlap and rejected, since which key
 * applies would depend on the order of entries.
 * @param text - The map, e.g. from an environment variable.
 * @returns The parsed map.
 * @throws {SosError} `INVALID_KEY_MAP` naming the entry by its position, never by its text: a
 *   malformed entry may be a key alone, a key run into its path, or a key cut at one of its own `=`.
 * @example
 * const map = parseSseCKeyMap('sos/backups/db/=' + dbKey + ',sos/backups/=' + defaultKey);
 * map.keyFor('sos', 'backups', 'db/2024.tar'); // dbKey's bytes
 */
export function parseSseCKeyMap(text: string): SseCKeyMap {
  if (typeof text !== 'string') {
    throw new SosError('INVALID_KEY_MAP', `SSE-C key map expected a string, got ${typeof text}`);
  }
  if (text.trim() === '') throw new SosError('INVALID_KEY_MAP', 'SSE-C key map is empty');
  const seen = new Map<string, number>();
  const entries: SseCKeyMapEntry[] = [];
  text.split(',').forEach((raw, index) => {
    // by position only: the text of a malformed entry may hold its key (see the @throws above)
    const where = `SSE-C key map entry ${index + 1}`;
    const entry = raw.trim();
    if (entry === '') throw new SosError('INVALID_KEY_MAP', `${where} is empty (stray comma?)`);
    const split = splitEntry(entry);
    if (split === undefined) {
      throw new SosError(
        'INVALID_KEY_MAP',
        entry.includes('=')
          ? `${where} expected alias/bucket/prefix=KEY with a 256-bit key (base64 or 64 hex digits)`
          : `${where} has no "=KEY": expected alias/bucket/prefix=KEY, entries separated by ","`,
      );
    }
    const prefix = normalizePrefix(split.path, where);
    const first = seen.get(prefix);
    if (first !== undefined) {
      throw new SosError('INVALID_KEY_MAP', `${where} overlaps entry ${first + 1}: same prefix`);
    }
    seen.set(prefix, index);
    entries.push({ prefix, key: split.key });
  });
  entries.sort((a, b) => b.prefix.length - a.prefix.length);
  return {
    entries,
    keyFor(alias, bucket, objectKey) {
      const path = `${alias}/${bucket}/${objectKey}`;
      return entries.find((e) => path.startsWith(e.prefix))?.key;
    },
  };
}

/**
 * Splits `path=KEY` at the first `=` after which a valid key follows: object prefixes may contain
 * `=`, and padded base64 keys end with it.
 */
function splitEntry(entry: string): { path: string; key: Uint8Array } | undefined {
  for (let i = entry.indexOf('='); i > 0; i = entry.indexOf('=', i + 1)) {
    try {
      return { path: entry.slice(0, i), key: parseKey(entry.slice(i + 1)) };
    } catch {
      // not a key after this "="; try the next one
    }
  }
  return undefined;
}

function normalizePrefix(path: string, where: string): string {
  const [alias, bucket, ...rest] = path.split('/');
  if (!alias || !bucket) {
    throw new SosError('INVALID_KEY_MAP', `${where} expected alias/bucket[/prefix] before "="`);
  }
  if (/\s/.test(alias) || /\s/.test(bucket)) {
    throw new SosError('INVALID_KEY_MAP', `${where}: alias and bucket must not contain spaces`);
  }
  // no bucket name holds "=" or ";": here a key was run into the path (`a/b=KEY;a/c=KEY2`)
  if (/[=;]/.test(alias) || /[=;]/.test(bucket)) {
    throw new SosError(
      'INVALID_KEY_MAP',
      `${where}: alias and bucket cannot hold "=" or ";" (entries are separated by ",")`,
    );
  }
  // "alias/bucket" covers the bucket: match it as "alias/bucket/" so it does not also cover "alias/bucket2/..."
  return `${alias}/${bucket}/${rest.join('/')}`;
}
