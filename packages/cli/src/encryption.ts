/**
 * The encryption of objects in a store, from the flags: client-side keys (`--key-file`, `-i`,
 * `--recipient`, ...), SSE-C with one key (`--sse-c-file FILE`; aws-cli's `--sse-c AES256
 * --sse-c-key KEY|fileb://FILE`; or `--sse-c KEY`, this CLI's older spelling) or by path prefix
 * (mc's `--enc-c 'alias/bucket/prefix=KEY'`, repeatable; `--encrypt-key 'alias/bucket/prefix=KEY,...'`,
 * mc's older spelling; or `SEALSTREAM_ENCRYPT_KEY`).
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
  hasKeyFlags,
  type KeyFlags,
  parseKeyText,
  readRawKeyFile,
  warnKeyOnCommandLine,
} from './keys.ts';
import { formatLocation, type RemoteLocation } from './location.ts';
import type { Reporter } from './report.ts';

/** SSE-C flags. */
export interface SseCFlags {
  /** `--sse-c AES256` (aws-cli: the algorithm; `true` when given without a value), or `--sse-c KEY`. */
  sseC?: string | boolean;
  /** aws-cli's `--sse-c-key KEY`, `fileb://FILE` or `file://FILE`. */
  sseCKey?: string;
  sseCFile?: string;
  encryptKey?: string;
  /** mc's `--enc-c 'alias/bucket/prefix=KEY'`, repeatable. */
  encC?: string[];
}

/** The algorithm value of aws-cli's `--sse-c`: the only one S3 has. */
const SSE_C_ALGORITHM = 'AES256';

/** Length of a key given as its 32 characters (aws-cli's `--sse-c-key`, mc's older keys); no key text has it. */
const RAW_TEXT_KEY_LENGTH = 32;

/**
 * A key written as its 32 bytes in ASCII, as aws-cli's `--sse-c-key` and mc take it, or undefined
 * for any other text. Base64 keys are 43 or 44 characters and hex keys 64: never 32.
 */
function asciiKey(text: string): Uint8Array | undefined {
  const bytes = Buffer.from(text, 'utf8');
  return text.length === RAW_TEXT_KEY_LENGTH && bytes.length === RAW_TEXT_KEY_LENGTH
    ? new Uint8Array(bytes)
    : undefined;
}

/**
 * The single SSE-C key of the flags, from every spelling:
 * - `--sse-c-file FILE`: a key file (text, or the key's 32 bytes);
 * - aws-cli: `--sse-c AES256` (or `--sse-c` alone) with `--sse-c-key KEY` (32 characters taken
 *   as the key's bytes, as aws-cli does; base64 or hex as everywhere here), `--sse-c-key
 *   fileb://FILE` (the key's 32 bytes) or `file://FILE` (a key file);
 * - `--sse-c KEY`: the key itself, this CLI's older spelling. `AES256` is never a key (a key is
 *   32 bytes), so the two meanings of `--sse-c` cannot be confused.
 * @throws {CliError} usage error for conflicting or incomplete spellings.
 */
async function singleSseCKey(flags: SseCFlags, reporter: Reporter): Promise<Uint8Array | undefined> {
  const algorithm = flags.sseC === true || flags.sseC === SSE_C_ALGORITHM;
  const keyText = algorithm ? undefined : (flags.sseC as string | undefined);
  const given = [
    keyText,
    flags.sseCFile,
    flags.sseCKey,
    flags.encryptKey,
    flags.encC?.length ? flags.encC : undefined,
  ];
  if (given.filter((f) => f !== undefined).length > 1) {
    throw usage(
      'give one SSE-C key: one of --sse-c KEY, --sse-c-key, --sse-c-file, --enc-c and --encrypt-key',
    );
  }
  if (algorithm && flags.sseCKey === undefined && flags.sseCFile === undefined) {
    throw usage(
      `--sse-c ${SSE_C_ALGORITHM} names the algorithm (as in aws-cli): give the key with --sse-c-key KEY|fileb://FILE or --sse-c-file FILE`,
    );
  }
  if (keyText !== undefined) {
    warnKeyOnCommandLine(reporter, '--sse-c', 'prefer --sse-c-file FILE');
    return asciiKey(keyText) ?? parseKeyText(keyText, '--sse-c');
  }
  if (flags.sseCFile !== undefined) return readRawKeyFile(flags.sseCFile, '--sse-c-file');
  if (flags.sseCKey !== undefined) {
    const file = /^fileb?:\/\//.exec(flags.sseCKey);
    if (file) return readRawKeyFile(flags.sseCKey.slice(file[0].length), '--sse-c-key');
    warnKeyOnCommandLine(reporter, '--sse-c-key', 'prefer --sse-c-key fileb://FILE');
    return asciiKey(flags.sseCKey) ?? parseKeyText(flags.sseCKey, '--sse-c-key');
  }
  return undefined;
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
  const noEncryption = flags.encryption === false;
  const sseCGiven =
    flags.sseC !== undefined ||
    flags.sseCKey !== undefined ||
    flags.sseCFile !== undefined ||
    flags.encryptKey !== undefined ||
    (flags.encC?.length ?? 0) > 0;
  // keys from the environment apply only when the command line chooses no encryption at all
  const keys = await gatherKeys(flags, reporter, purpose, undefined, {
    environment: !sseCGiven && !noEncryption && !hasKeyFlags(flags),
  });
  const sseCKey = await singleSseCKey(flags, reporter);
  let sseCMap: StoreEncryption['sseCMap'];
  if (sseCKey === undefined) {
    const encC = flags.encC?.length ? flags.encC.join(',') : undefined;
    const text = encC ?? flags.encryptKey ?? nonEmpty(process.env.SEALSTREAM_ENCRYPT_KEY);
    const from =
      encC !== undefined
        ? '--enc-c'
        : flags.encryptKey !== undefined
          ? '--encrypt-key'
          : 'SEALSTREAM_ENCRYPT_KEY';
    if (encC !== undefined || flags.encryptKey !== undefined) {
      warnKeyOnCommandLine(reporter, from, 'prefer the SEALSTREAM_ENCRYPT_KEY environment variable');
    }
    if (text !== undefined) sseCMap = { map: keyMapOf(text, from), from };
  }
  if (
    noEncryption &&
    (keys.recipients.length > 0 ||
      sseCKey !== undefined ||
      flags.encryptKey !== undefined ||
      flags.encC?.length)
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
 * Parses a key map. An alias is an SOS zone (for `sos://ZONE/...` locations), or any other name
 * (mc users' own aliases: `myminio/bucket=KEY`), which means the store of `s3://` URLs, the one
 * endpoint a run talks to; so a map may name at most one such alias. Keys may be written as their
 * 32 characters, as mc's older keys are.
 * @throws {SosError} `INVALID_KEY_MAP`, naming the entry by its prefix or position, never its key.
 */
export function keyMapOf(text: string, from: string): SseCKeyMap {
  const s3Aliases = new Set<string>();
  const entries = text.split(',').map((entry, i) => {
    if (entry.trim() === '') return entry; // a stray comma: the whole map's parse says so
    const normalized = withEncodedKey(entry.trim());
    // An entry that does not parse may be a key itself (a bare key, `s3/bkt:KEY`, `s3/bkt/KEY`):
    // it is named by its position only.
    try {
      parseSseCKeyMap(normalized);
    } catch (cause) {
      throw new SosError(
        'INVALID_KEY_MAP',
        `${from}: entry ${i + 1} of the SSE-C key map is not alias/bucket[/prefix]=KEY with a 256-bit key (base64, 64 hex digits, or 32 characters); the entry is not shown, as it may hold a key`,
        { cause },
      );
    }
    const alias = normalized.slice(0, normalized.indexOf('/'));
    if (isSosZone(alias)) return normalized;
    s3Aliases.add(alias);
    return `s3${normalized.slice(alias.length)}`;
  });
  if (s3Aliases.size > 1) {
    throw new SosError(
      'INVALID_KEY_MAP',
      `${from}: the map names the aliases ${[...s3Aliases].map((a) => JSON.stringify(a)).join(' and ')}, but s3:// locations reach one endpoint per run: use one alias (or a zone of sos:// URLs: ${SOS_ZONES.join(', ')})`,
    );
  }
  try {
    return parseSseCKeyMap(entries.join(','));
  } catch (err) {
    // every entry parsed alone: what is left (empty map, stray comma, the same prefix twice) names prefixes only
    if (err instanceof SosError) throw new SosError(err.code, `${from}: ${err.message}`);
    throw err;
  }
}

/**
 * An entry `path=KEY` whose key is written as its 32 characters, rewritten with the key in base64;
 * any other entry as it is. Base64 never has `=` but at its end, so the `=` before the last 32
 * characters is the separator only when those characters are not part of a longer key.
 */
function withEncodedKey(entry: string): string {
  const at = entry.length - RAW_TEXT_KEY_LENGTH - 1;
  if (at < 1 || entry[at] !== '=') return entry;
  try {
    parseSseCKeyMap(entry);
    return entry; // a valid entry with a base64 or hex key
  } catch {
    const key = asciiKey(entry.slice(at + 1));
    return key === undefined ? entry : `${entry.slice(0, at)}=${Buffer.from(key).toString('base64')}`;
  }
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
        hint: 'give --key-file FILE, --recipient age1… or -i FILE (client-side), --sse-c-file FILE or --enc-c (SSE-C); or pass --no-encryption to store the data as it is',
      },
    );
  }
  return 'none';
}

/**
 * The map's key for an object. None is the transport's `SSE_C_NO_KEY_FOR_PATH` (the error's
 * cause), as a CLI error whose hint fits the direction.
 */
export function keyFromMap(
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
