/**
 * The encryption of objects in a store, from the flags: client-side keys (`--key-file`, ...),
 * SSE-C with one key (`--sse-c-file`, or `--sse-c KEY` as mc takes it) or by path prefix
 * (`--encrypt-key 'alias/bucket/prefix=KEY,...'`, or `SEALSTREAM_ENCRYPT_KEY`).
 *
 * Nothing is stored in plaintext by omission: an upload needs an encryption option, or the
 * explicit `--no-encryption`; a key map must cover every object a command reads or writes (the
 * transport's `SSE_C_NO_KEY_FOR_PATH` rule), so a typo in a bucket or a prefix fails instead of
 * storing plaintext; and a map entry must name an alias this command uses.
 * @module
 */
import {
  type Encryption,
  isSosZone,
  parseSseCKeyMap,
  SOS_ZONES,
  SosError,
  type SseCKeyMap,
} from '@sealstream/sos';
import { CliError, EXIT, usage } from './exit.ts';
import {
  type GatheredKeys,
  gatherKeys,
  type KeyFlags,
  parseKeyText,
  readKeyFile,
  warnKeyOnCommandLine,
} from './keys.ts';
import { formatLocation, type RemoteLocation } from './location.ts';
import type { Reporter } from './report.ts';

/** SSE-C flags. */
export interface SseCFlags {
  sseC?: string;
  sseCFile?: string;
  encryptKey?: string;
}

/** Encryption settings resolved from the flags, applied per object. */
export interface StoreEncryption {
  /** Client-side keys, when any were given. */
  keys: GatheredKeys | undefined;
  /** Bind objects to `bucket/key` (client-side). */
  bind: boolean;
  /** One SSE-C key for every object. */
  sseCKey: Uint8Array | undefined;
  /** SSE-C keys by path prefix, and where the map came from (for messages). */
  sseCMap: { map: SseCKeyMap; from: string } | undefined;
  /** `--no-encryption`: the user asked for objects to be stored as they are. */
  noEncryption: boolean;
}

/** Reads every key-related flag once. */
export async function storeEncryption(
  flags: KeyFlags & SseCFlags & { bind?: boolean; encryption?: boolean },
  reporter: Reporter,
  purpose: 'seal' | 'open',
): Promise<StoreEncryption> {
  const keys = await gatherKeys(flags, reporter, purpose);
  const given = [flags.sseC, flags.sseCFile, flags.encryptKey].filter((f) => f !== undefined).length;
  if (given > 1) throw usage('give one of --sse-c, --sse-c-file and --encrypt-key');
  let sseCKey: Uint8Array | undefined;
  let sseCMap: StoreEncryption['sseCMap'];
  if (flags.sseC !== undefined) {
    warnKeyOnCommandLine(reporter, '--sse-c', 'prefer --sse-c-file FILE');
    sseCKey = parseKeyText(flags.sseC, '--sse-c');
  } else if (flags.sseCFile !== undefined) {
    const list = await readKeyFile(flags.sseCFile, '--sse-c-file');
    if (list.length !== 1)
      throw usage(`--sse-c-file ${flags.sseCFile} must hold exactly one key, it holds ${list.length}`);
    sseCKey = list[0];
  } else {
    const text = flags.encryptKey ?? nonEmpty(process.env.SEALSTREAM_ENCRYPT_KEY);
    const from = flags.encryptKey !== undefined ? '--encrypt-key' : 'SEALSTREAM_ENCRYPT_KEY';
    if (flags.encryptKey !== undefined) {
      warnKeyOnCommandLine(
        reporter,
        '--encrypt-key',
        'prefer the SEALSTREAM_ENCRYPT_KEY environment variable',
      );
    }
    if (text !== undefined) sseCMap = { map: keyMapOf(text, from), from };
  }
  const noEncryption = flags.encryption === false;
  if (
    noEncryption &&
    (keys.recipients.length > 0 || sseCKey !== undefined || flags.encryptKey !== undefined)
  ) {
    throw usage('--no-encryption stores objects as they are: drop it, or drop the keys given with it');
  }
  return {
    keys: keys.recipients.length > 0 ? keys : undefined,
    bind: flags.bind === true,
    sseCKey,
    sseCMap: noEncryption ? undefined : sseCMap,
    noEncryption,
  };
}

/**
 * Parses a key map and checks that every entry names an alias this command uses: `s3`, or an
 * SOS zone. An entry under another alias would never match: a silent no-op, hence an error.
 * @throws {SosError} `INVALID_KEY_MAP`, naming the entry by its prefix, never its key.
 */
function keyMapOf(text: string, from: string): SseCKeyMap {
  // An entry that does not parse may be a key itself (a bare key, `s3/bkt:KEY`, `s3/bkt/KEY`):
  // it is named by its position only. Entries are tried one by one to find which one it is.
  text.split(',').forEach((entry, i) => {
    if (entry.trim() === '') return; // a stray comma: the whole map's parse says so
    try {
      parseSseCKeyMap(entry);
    } catch (cause) {
      throw new SosError(
        'INVALID_KEY_MAP',
        `${from}: entry ${i + 1} of the SSE-C key map is not alias/bucket[/prefix]=KEY with a 256-bit key (base64, or 64 hex digits); the entry is not shown, as it may hold a key`,
        { cause },
      );
    }
  });
  let map: SseCKeyMap;
  try {
    map = parseSseCKeyMap(text);
  } catch (err) {
    // every entry parsed alone: what is left (empty map, stray comma, the same prefix twice) names prefixes only
    if (err instanceof SosError) throw new SosError(err.code, `${from}: ${err.message}`);
    throw err;
  }
  for (const { prefix } of map.entries) {
    const alias = prefix.slice(0, prefix.indexOf('/'));
    if (alias !== 's3' && !isSosZone(alias)) {
      throw new SosError(
        'INVALID_KEY_MAP',
        `${from}: the entry for ${JSON.stringify(prefix)} names the alias ${JSON.stringify(alias)}, which no location uses: the alias is s3 for s3:// URLs, or the zone of sos:// URLs (${SOS_ZONES.join(', ')})`,
      );
    }
  }
  return map;
}

/**
 * The `encryption` option of the transport for one object.
 * @param direction - `upload`: storing an object without any encryption needs `--no-encryption`.
 * @throws {CliError} usage error for an upload with no encryption option at all.
 * @throws {CliError} exit 3 (the transport's `SSE_C_NO_KEY_FOR_PATH`) when a key map is given and
 *   none of its entries covers the object.
 */
export function encryptionFor(
  settings: StoreEncryption,
  location: RemoteLocation,
  direction: 'upload' | 'download',
): Encryption {
  const sseCKey = settings.sseCKey ?? (settings.sseCMap && keyFromMap(settings.sseCMap, location, direction));
  const sseC = sseCKey ? { key: sseCKey } : undefined;
  const clientSide = settings.keys
    ? {
        keys: settings.keys.recipients,
        identity: settings.bind,
        maxWorkFactor: settings.keys.maxWorkFactor,
      }
    : undefined;
  if (clientSide) return sseC ? { clientSide, sseC } : { clientSide };
  if (sseC) return { sseC };
  if (direction === 'upload' && !settings.noEncryption) {
    throw new CliError(
      EXIT.USAGE,
      `refusing to store ${formatLocation(location)} unencrypted: no key was given`,
      {
        hint: 'give --key-file FILE (client-side), --sse-c-file FILE or --encrypt-key (SSE-C); or pass --no-encryption to store the data as it is',
      },
    );
  }
  return 'none';
}

/**
 * The map's key for an object. None is the transport's `SSE_C_NO_KEY_FOR_PATH` (the error's
 * cause), as a CLI error whose hint fits the direction.
 */
function keyFromMap(
  given: { map: SseCKeyMap; from: string },
  location: RemoteLocation,
  direction: 'upload' | 'download',
): Uint8Array {
  const key = given.map.keyFor(location.alias, location.bucket, location.key);
  if (key !== undefined) return key;
  const path = `${location.alias}/${location.bucket}/${location.key}`;
  const covered = given.map.entries.map((e) => e.prefix).join(', ');
  const message = `no SSE-C key in the key map (${given.from}) covers ${path}; the map covers ${covered}`;
  throw new CliError(EXIT.KEY, message, {
    cause: new SosError('SSE_C_NO_KEY_FOR_PATH', message),
    hint:
      direction === 'upload'
        ? 'fix the bucket or prefix in the map, or give the key with --sse-c-file FILE; to store the data as it is, pass --no-encryption (and no map)'
        : 'fix the bucket or prefix in the map, or give the key with --sse-c-file FILE',
  });
}

/** Short description of how an object is protected, for reports. */
export function protectionOf(encryption: Encryption): { clientSide: boolean; sseC: boolean } {
  return encryption === 'none'
    ? { clientSide: false, sseC: false }
    : { clientSide: encryption.clientSide !== undefined, sseC: encryption.sseC !== undefined };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
