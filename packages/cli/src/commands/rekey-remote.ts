/**
 * `rekey` of an object in a store, through the transport's `rekeyObject`: client-side, a new
 * header and a server-side copy of the payload; SSE-C, a stream down with the old key and up with
 * the new one. The old object stays as it was until the new one is complete.
 * @module
 */
import { type Encryption, rekeyObject } from '@sealstream/sos';
import { encryptionFor, type StoreEncryption } from '../encryption.ts';
import { inContext, usage } from '../exit.ts';
import { interrupted, uploadUnderWay } from '../io.ts';
import { describeRecipients, type GatheredKeys } from '../keys.ts';
import { formatLocation, type RemoteLocation } from '../location.ts';
import { passphraseBudgetRefusal } from '../passphrase-budget.ts';
import { formatBytes, type Reporter } from '../report.ts';
import { clientFor, type StoreFlags } from '../store.ts';
import { warnStrandedUploads } from '../stranded-uploads.ts';

/** Rekeys an object in a store. */
export async function rekeyRemote(
  at: RemoteLocation,
  settings: StoreEncryption,
  fresh: GatheredKeys,
  newSseC: Uint8Array | undefined,
  flags: StoreFlags & { add?: boolean },
  reporter: Reporter,
): Promise<void> {
  const encryption = encryptionFor(settings, at, 'download');
  const clientSide = encryption !== 'none' && encryption.clientSide !== undefined;
  const sseC = encryption !== 'none' && encryption.sseC !== undefined;
  if (fresh.recipients.length > 0 && !clientSide) {
    throw usage(
      'new client-side keys need the current ones to open the object',
      'give --key-file FILE (or --passphrase/--passphrase-file)',
    );
  }
  if (clientSide && fresh.recipients.length === 0) {
    throw usage(
      'current client-side keys were given but no new ones',
      'give --to-key-file FILE (or --to-passphrase/--to-passphrase-file)',
    );
  }
  if (newSseC !== undefined && !sseC) {
    throw usage('a new SSE-C key needs the current one', 'give --sse-c-file FILE (or --encrypt-key)');
  }
  if (encryption === 'none') throw usage('rekey needs the current keys of the object');
  const newEncryption = {
    ...(clientSide ? { clientSide: { keys: fresh.recipients } } : {}),
    ...(sseC ? { sseC: newSseC ? { key: newSseC } : encryption.sseC! } : {}),
  } as Encryption;
  const client = clientFor(at, flags);
  await warnStrandedUploads(client, at, false, reporter);
  const progress = reporter.progress('rekey', undefined);
  const underWay = uploadUnderWay(formatLocation(at), false);
  let done = 0;
  let result: Awaited<ReturnType<typeof rekeyObject>>;
  const started = performance.now();
  try {
    result = await inContext(formatLocation(at), () =>
      rekeyObject({
        client,
        bucket: at.bucket,
        key: at.key,
        encryption,
        newEncryption,
        keepExisting: flags.add === true,
        signal: interrupted,
        onProgress: (p) => {
          if (p.total !== undefined) progress.setTotal(p.total);
          progress.add(p.loaded - done);
          done = p.loaded;
        },
      }),
    );
  } catch (err) {
    throw passphraseBudgetRefusal(err, fresh) ?? err;
  } finally {
    underWay();
    progress.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const layers = [
    clientSide
      ? `client-side: ${describeRecipients(fresh)}${flags.add ? ' (existing recipients kept)' : ''}`
      : '',
    newSseC ? 'SSE-C: new key' : '',
  ].filter(Boolean);
  reporter.result(
    {
      command: 'rekey',
      target: formatLocation(at),
      method: result.method,
      previousSize: result.previousSize,
      size: result.size,
      bytesDownloaded: result.bytesDownloaded,
      bytesUploaded: result.bytesUploaded,
      bytesCopied: result.bytesCopied,
      keyIds: clientSide ? fresh.keyIds : [],
      passphrases: clientSide ? fresh.passphrases : 0,
      sseC: newSseC !== undefined,
      seconds,
    },
    `rekeyed ${formatLocation(at)} (${result.method}): ${layers.join('; ')}; ${formatBytes(result.bytesDownloaded)} down, ${formatBytes(result.bytesUploaded)} up, ${formatBytes(result.bytesCopied)} copied by the store`,
  );
}
