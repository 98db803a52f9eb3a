/**
 * The encryption of objects in a store, from the flags: client-side keys (`--key-file`, ...),
 * SSE-C with one key (`--sse-c-file`, or `--sse-c KEY` as mc takes it) or by path prefix
 * (`--encrypt-key 'alias/bucket/prefix=KEY,...'`, or `SEALSTREAM_ENCRYPT_KEY`).
 * @module
 */
import { type Encryption, parseSseCKeyMap, type SseCKeyMap } from '@sealstream/sos';
import { usage } from './exit.ts';
import {
  type GatheredKeys,
  gatherKeys,
  type KeyFlags,
  parseKeyText,
  readKeyFile,
  warnKeyOnCommandLine,
} from './keys.ts';
import type { RemoteLocation } from './location.ts';
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
  /** SSE-C keys by path prefix. */
  sseCMap: SseCKeyMap | undefined;
}

/** Reads every key-related flag once. */
export async function storeEncryption(
  flags: KeyFlags & SseCFlags & { bind?: boolean },
  reporter: Reporter,
  purpose: 'seal' | 'open',
): Promise<StoreEncryption> {
  const keys = await gatherKeys(flags, reporter, purpose);
  const given = [flags.sseC, flags.sseCFile, flags.encryptKey].filter((f) => f !== undefined).length;
  if (given > 1) throw usage('give one of --sse-c, --sse-c-file and --encrypt-key');
  let sseCKey: Uint8Array | undefined;
  let sseCMap: SseCKeyMap | undefined;
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
    if (flags.encryptKey !== undefined) {
      warnKeyOnCommandLine(
        reporter,
        '--encrypt-key',
        'prefer the SEALSTREAM_ENCRYPT_KEY environment variable',
      );
    }
    if (text !== undefined) sseCMap = parseSseCKeyMap(text);
  }
  return {
    keys: keys.recipients.length > 0 ? keys : undefined,
    bind: flags.bind === true,
    sseCKey,
    sseCMap,
  };
}

/** The `encryption` option of the transport for one object. */
export function encryptionFor(settings: StoreEncryption, location: RemoteLocation): Encryption {
  const sseCKey = settings.sseCKey ?? settings.sseCMap?.keyFor(location.alias, location.bucket, location.key);
  const sseC = sseCKey ? { key: sseCKey } : undefined;
  const clientSide = settings.keys ? { keys: settings.keys.recipients, identity: settings.bind } : undefined;
  if (clientSide) return sseC ? { clientSide, sseC } : { clientSide };
  return sseC ? { sseC } : 'none';
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
