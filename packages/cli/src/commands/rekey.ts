/**
 * `sealstream rekey`: new keys for a local file or an object. Client-side, only the recipients
 * block of the header changes (SPEC §5): the data key is re-wrapped for the new recipients and
 * the payload is kept byte for byte. SSE-C objects are streamed down with the old key and up with the new one.
 * @module
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { inspectHeader, openSealed, PublicKeyRecipient, type Rewrapped } from '@sealstream/core';
import { type SseCFlags, storeEncryption } from '../encryption.ts';
import { usage } from '../exit.ts';
import { FileSource } from '../file-source.ts';
import { interrupted, writeOutput } from '../io.ts';
import {
  type GatheredKeys,
  gatherKeys,
  type KeyFlags,
  parseKeyText,
  readRawKeyFile,
  recipientLabel,
  warnKeyOnCommandLine,
} from '../keys.ts';
import { formatLocation, parseLocation } from '../location.ts';
import { refuseUnreadablePassphrases } from '../passphrase-budget.ts';
import type { Reporter } from '../report.ts';
import type { StoreFlags } from '../store.ts';
import { rekeyRemote } from './rekey-remote.ts';

/** Flags of `rekey`. */
export interface RekeyFlags extends KeyFlags, SseCFlags, StoreFlags {
  toKeyFile?: string[];
  toKey?: string[];
  toRecipient?: string[];
  toRecipientsFile?: string[];
  toPassphrase?: boolean;
  toPassphraseFile?: string;
  toSseC?: string;
  toSseCFile?: string;
  add?: boolean;
  output?: string;
  bind?: boolean;
}

/** Runs `rekey`. */
export async function rekeyCommand(target: string, flags: RekeyFlags, reporter: Reporter): Promise<void> {
  const at = parseLocation(target, 'target');
  if (at.kind === 'stdio') throw usage('rekey needs a file or an object, not stdin');
  const fresh = await newKeys(flags, reporter);
  const newSseC = await newSseCKey(flags, reporter);
  if (fresh.recipients.length === 0 && newSseC === undefined) {
    throw usage(
      'rekey needs new keys',
      'give --to-key-file FILE / --to-passphrase(-file) (client-side) or --to-sse-c-file FILE (SSE-C)',
    );
  }
  if (at.kind === 'remote') {
    const settings = await storeEncryption(flags, reporter, 'open');
    await rekeyRemote(at, settings, fresh, newSseC, flags, reporter);
    if (settings.keys !== undefined)
      warnIfOnlyPublicKeys(formatLocation(at), fresh, settings.keys, flags.add === true, reporter);
    return;
  }
  if (newSseC !== undefined) throw usage('SSE-C keys apply to objects in a store, not to local files');
  const old = await gatherKeys(flags, reporter, 'open');
  if (old.recipients.length === 0)
    throw usage(
      'rekey needs a current key to open the file',
      'give --key-file FILE, --passphrase or --passphrase-file FILE',
    );
  const source = await FileSource.open(at.path);
  let rewrapped: Rewrapped;
  let before: string[];
  try {
    // core's reader opens the header and decides what is kept, added and deduplicated
    const sealed = await openSealed(source, {
      keys: old.recipients,
      ...(old.maxWorkFactor !== undefined ? { maxWorkFactor: old.maxWorkFactor } : {}),
    });
    before = sealed.header.keyIds;
    rewrapped = await sealed.rewrap({ recipients: fresh.recipients, keepExisting: flags.add === true });
    // with --add, a key that is already a recipient is not added a second time
    if (flags.add && rewrapped.keyIds.length === before.length && fresh.passphrases === 0)
      throw usage('every new key is already a recipient: nothing to add');
    refuseUnreadablePassphrases(rewrapped.header, old.maxWorkFactor);
  } finally {
    await source.close();
  }
  const output = flags.output === undefined ? at : parseLocation(flags.output, 'output');
  if (output.kind === 'remote') throw usage('rekey -o writes a local file');
  const path = at.path;
  async function* bytes(): AsyncGenerator<Uint8Array> {
    yield rewrapped.header;
    yield* createReadStream(path, { start: rewrapped.payloadOffset, highWaterMark: 1 << 20 });
  }
  if (interrupted.aborted) throw interrupted.reason;
  await writeOutput(output, [Readable.from(bytes())]);
  const afterInfo = inspectHeader(rewrapped.header);
  const after = rewrapped.keyIds;
  warnIfOnlyPublicKeys(formatLocation(output), fresh, old, flags.add === true, reporter);
  reporter.result(
    {
      command: 'rekey',
      target: formatLocation(at),
      output: formatLocation(output),
      keyIdsBefore: before,
      keyIds: after,
      passphrases: fresh.passphrases,
      sseC: false,
    },
    `rekeyed ${formatLocation(at)}${output === at ? '' : ` -> ${formatLocation(output)}`}: now sealed to ${afterInfo.recipients.map(recipientLabel).join(', ')}${flags.add ? ' (existing recipients kept)' : ''}; payload unchanged`,
  );
}

/**
 * Warns when the new recipients are all public keys and replaced the old ones: the keys that opened
 * the data no longer do, and nothing given to this run does; only the private keys of those public
 * keys (held elsewhere, or mistyped) open it from now on. A rotation to a backup key kept offline is
 * what this is for, so it is said, not refused. A public key whose private key opened the data
 * (`rekey -i me.key --to-recipient` its own public key) is one the user holds: no warning.
 */
export function warnIfOnlyPublicKeys(
  target: string,
  fresh: GatheredKeys,
  old: GatheredKeys,
  added: boolean,
  reporter: Reporter,
  many = false,
): void {
  if (added || fresh.recipients.length === 0) return;
  if (!fresh.recipients.every((r) => r instanceof PublicKeyRecipient && !old.keyIds.includes(r.keyId)))
    return;
  const [is, it] = many ? ['are', 'them'] : ['is', 'it'];
  reporter.warn(
    `${target} ${is} now sealed only to public keys (${fresh.labels.join(', ')}): the keys given to open ${it} no longer do; only the private keys of these public keys open ${it} from now on. Check that you hold them: without them the data is lost`,
  );
}

export async function newSseCKey(flags: RekeyFlags, reporter: Reporter): Promise<Uint8Array | undefined> {
  if (flags.toSseC !== undefined && flags.toSseCFile !== undefined)
    throw usage('give --to-sse-c or --to-sse-c-file, not both');
  if (flags.toSseC !== undefined) {
    warnKeyOnCommandLine(reporter, '--to-sse-c', 'prefer --to-sse-c-file FILE');
    return parseKeyText(flags.toSseC, '--to-sse-c');
  }
  if (flags.toSseCFile !== undefined) return readRawKeyFile(flags.toSseCFile, '--to-sse-c-file');
  return undefined;
}

/** The new client-side keys of `rekey` (`--to-…` flags; never from the environment). */
export function newKeys(flags: RekeyFlags, reporter: Reporter): Promise<GatheredKeys> {
  return gatherKeys(
    {
      keyFile: flags.toKeyFile,
      key: flags.toKey,
      recipient: flags.toRecipient,
      recipientsFile: flags.toRecipientsFile,
      passphrase: flags.toPassphrase,
      passphraseFile: flags.toPassphraseFile,
      workFactor: flags.workFactor,
      maxWorkFactor: flags.maxWorkFactor,
    },
    reporter,
    'seal',
    {
      keyFile: '--to-key-file',
      key: '--to-key',
      privateKeyFile: '--to-key-file',
      recipient: '--to-recipient',
      recipientsFile: '--to-recipients-file',
      passphrase: '--to-passphrase',
      passphraseFile: '--to-passphrase-file',
    },
    { environment: false },
  );
}
