/**
 * `sealstream rekey -r s3://bucket/prefix`: new keys for every object under a prefix, `--parallel`
 * objects at once, through the transport's `rekeyObject` (client-side: a new header, the payload
 * kept; SSE-C: streamed down with the old key and up with the new one).
 *
 * Each object is first described with one small ranged GET (`protection.ts`); an object already
 * on the new keys is skipped, so a rotation that was interrupted resumes by running the same
 * command again. Objects the given keys do not open, plaintext objects and objects whose layer
 * got no new key are left as they are and counted in the summary; but an SSE-C object that a key
 * map given for it does not cover (old map `--encrypt-key`, new map `--to-encrypt-key`) fails, as
 * a map must cover every object a command touches: a typo in a map's bucket or prefix must not
 * turn a rotation into a run that changes nothing and exits 0.
 * @module
 */
import type { HeaderInfo } from '@sealstream/core';
import { type Encryption, rekeyObject, type SseCKeyMap } from '@sealstream/sos';
import { batchFailure } from '../batch-failure.ts';
import { batchProgress } from '../batch-progress.ts';
import { keyFromMap, keyMapOf, storeEncryption } from '../encryption.ts';
import { CliError, describeError, exitCodeOf, usage } from '../exit.ts';
import { interrupted, uploadUnderWay } from '../io.ts';
import { warnKeyOnCommandLine } from '../keys.ts';
import { listPages } from '../listing.ts';
import { formatLocation, parseLocation, type RemoteLocation, withKey } from '../location.ts';
import { printable, probeProtection } from '../protection.ts';
import { formatBytes, type Reporter } from '../report.ts';
import { clientFor } from '../store.ts';
import { warnStrandedUploads } from '../stranded-uploads.ts';
import { parallelOf, pool } from './cp.ts';
import { newKeys, newSseCKey, type RekeyFlags, rekeyCommand, warnIfOnlyPublicKeys } from './rekey.ts';

/** Flags of `rekey` that only `-r` takes. */
export interface RekeyPrefixFlags extends RekeyFlags {
  recursive?: boolean;
  parallel?: string;
  toEncryptKey?: string;
}

/** Objects rekeyed at once when `--parallel` is not given. */
const DEFAULT_PARALLEL = 8;

/** Why an object was left as it is. */
type Skip =
  | 'already on the new keys'
  | 'plaintext (rekey changes keys, not layers)'
  | 'invalid sealstream header'
  | 'SSE-C: no key given opens it'
  | 'client-side: sealed to other keys'
  | 'no new key for its encryption';

/** `rekey`, or `rekey -r` when `--recursive` is given. */
export async function rekeyEntry(target: string, flags: RekeyPrefixFlags, reporter: Reporter): Promise<void> {
  if (flags.recursive) return rekeyPrefixCommand(target, flags, reporter);
  if (flags.parallel !== undefined || flags.toEncryptKey !== undefined) {
    throw usage('--parallel and --to-encrypt-key apply to rekey -r (every object under a prefix)');
  }
  return rekeyCommand(target, flags, reporter);
}

/** Runs `rekey -r`. */
export async function rekeyPrefixCommand(
  target: string,
  flags: RekeyPrefixFlags,
  reporter: Reporter,
): Promise<void> {
  const at = parseLocation(target, 'target');
  if (at.kind !== 'remote')
    throw usage('rekey -r rotates the objects under a prefix: give s3://bucket/prefix');
  if (flags.output !== undefined) throw usage('rekey -r rewrites objects in place; -o is for local files');
  if (flags.toPassphrase || flags.toPassphraseFile !== undefined) {
    throw usage(
      'rekey -r takes new keys (--to-key-file), not passphrases',
      'an object already sealed to a passphrase can only be recognised by running scrypt on it, so an interrupted rotation could not resume',
    );
  }
  const parallel = flags.parallel === undefined ? DEFAULT_PARALLEL : parallelOf(flags.parallel);
  const fresh = await newKeys(flags, reporter);
  const newSseC = await newSseCKey(flags, reporter);
  let newSseCMap: { map: SseCKeyMap; from: string } | undefined;
  if (flags.toEncryptKey !== undefined) {
    if (newSseC !== undefined) throw usage('give one of --to-sse-c, --to-sse-c-file and --to-encrypt-key');
    warnKeyOnCommandLine(reporter, '--to-encrypt-key', 'keep such runs out of shared shells and logs');
    // read as --encrypt-key is: mc's own aliases name the s3:// endpoint, keys may be 32 characters
    const from = '--to-encrypt-key';
    newSseCMap = { map: keyMapOf(flags.toEncryptKey, from), from };
  }
  const settings = await storeEncryption(flags, reporter, 'open');
  const old = settings.keys;
  if (fresh.recipients.length === 0 && newSseC === undefined && newSseCMap === undefined) {
    throw usage(
      'rekey -r needs new keys',
      'give --to-key-file FILE (client-side) and/or --to-sse-c-file FILE (SSE-C)',
    );
  }
  if (fresh.recipients.length > 0 && old === undefined) {
    throw usage('new client-side keys need the current ones to open the objects', 'give --key-file FILE');
  }
  const hasOldSseC = settings.sseCKey !== undefined || settings.sseCMap !== undefined;
  if ((newSseC !== undefined || newSseCMap !== undefined) && !hasOldSseC) {
    throw usage('a new SSE-C key needs the current one', 'give --sse-c-file FILE (or --encrypt-key)');
  }
  const client = clientFor(at, flags);
  const add = flags.add === true;
  const newKeyFor = (key: string) => newSseC ?? newSseCMap?.map.keyFor(at.alias, at.bucket, key);
  const oldKeyFor = (key: string) =>
    settings.sseCKey ?? settings.sseCMap?.map.keyFor(at.alias, at.bucket, key);

  /**
   * Fails for an SSE-C object a key map does not cover: the old map (when no key given opens it)
   * or the new one (SSE_C_NO_KEY_FOR_PATH, exit 3, naming the map's prefixes, never a key).
   */
  const uncoveredByMaps = (key: string, unopened: boolean, newKey: Uint8Array | undefined): void => {
    const location = withKey(at, key);
    if (unopened && settings.sseCMap !== undefined && settings.sseCKey === undefined) {
      keyFromMap(settings.sseCMap, location, 'download');
    }
    if (newSseCMap !== undefined && newKey === undefined) {
      try {
        keyFromMap(newSseCMap, location, 'download');
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        throw new CliError(err.exitCode, err.message, {
          cause: err.cause,
          hint: 'fix the bucket or prefix in --to-encrypt-key, or give one new key with --to-sse-c-file FILE',
        });
      }
    }
  };

  /** Rekeys one object, or says why it was left as it is. */
  const one = async (key: string, size: number): Promise<{ skip: Skip } | { moved: Moved }> => {
    const newKey = newKeyFor(key);
    const candidates = [newKey, oldKeyFor(key)].filter((k): k is Uint8Array => k !== undefined);
    const p = await probeProtection({ client, bucket: at.bucket, key, size }, candidates);
    const sseC = p.sseC !== undefined;
    if (sseC) uncoveredByMaps(key, p.sseC!.matched === undefined, newKey);
    if (sseC && p.sseC!.matched === undefined) return { skip: 'SSE-C: no key given opens it' };
    const currentKey = sseC ? candidates[p.sseC!.matched!] : undefined;
    const header = p.content.kind === 'sealed' ? p.content.header : undefined;
    if (!sseC && !header) {
      return {
        skip:
          p.content.kind === 'invalid'
            ? 'invalid sealstream header'
            : 'plaintext (rekey changes keys, not layers)',
      };
    }
    const sseCToDo = sseC && newKey !== undefined && currentKey !== newKey;
    const clientSideWanted = header !== undefined && fresh.recipients.length > 0;
    const clientSideToDo = clientSideWanted && !onNewKeys(header!, fresh.keyIds, add);
    if (!sseCToDo && !clientSideToDo) {
      return {
        skip:
          (sseC && newKey !== undefined) || clientSideWanted
            ? 'already on the new keys'
            : 'no new key for its encryption',
      };
    }
    if (clientSideToDo && old!.passphrases === 0 && !header!.keyIds.some((id) => old!.keyIds.includes(id))) {
      return { skip: 'client-side: sealed to other keys' };
    }
    const layers = (clientSide: { clientSide: object }, sse: Uint8Array | undefined) =>
      ({ ...(clientSideToDo ? clientSide : {}), ...(sse ? { sseC: { key: sse } } : {}) }) as Encryption;
    const underWay = uploadUnderWay(formatLocation(withKey(at, key)), false);
    const result = await rekeyObject({
      client,
      bucket: at.bucket,
      key,
      encryption: layers(
        { clientSide: { keys: old?.recipients ?? [], identity: flags.bind === true } },
        currentKey,
      ),
      newEncryption: layers({ clientSide: { keys: fresh.recipients } }, sseCToDo ? newKey : currentKey),
      keepExisting: add,
      signal: interrupted,
    }).finally(underWay);
    return {
      moved: {
        clientSide: clientSideToDo,
        sseC: sseCToDo,
        down: result.bytesDownloaded,
        up: result.bytesUploaded,
        copied: result.bytesCopied,
      },
    };
  };

  await warnStrandedUploads(client, at, true, reporter);
  const summary = new Summary();
  batchProgress(
    () =>
      `${summary.rekeyed} of the ${summary.listed} objects listed so far were rekeyed before it stopped (${summary.done - summary.rekeyed} left as they are or failed); running the same command again skips the objects already on the new keys`,
  );
  const progress = reporter.progress('rekey -r', undefined);
  const started = performance.now();
  try {
    for await (const page of listPages(client, at.bucket, at.key)) {
      summary.listed += page.length;
      progress.setTotal((summary.bytesListed += page.reduce((a, o) => a + o.size, 0)));
      await pool(page, parallel, async (o) => {
        try {
          const outcome = await one(o.key, o.size);
          const target = formatLocation(withKey(at, o.key));
          if ('skip' in outcome) summary.skip(target, outcome.skip);
          else summary.move(target, outcome.moved);
        } catch (error) {
          if (interrupted.aborted) throw error;
          summary.fail(withKey(at, o.key), error);
          reporter.error(`${printable(formatLocation(withKey(at, o.key)))}: ${describeError(error)}`);
        }
        progress.add(o.size);
        progress.files(summary.done, summary.listed);
      });
      if (interrupted.aborted) throw interrupted.reason;
    }
  } finally {
    progress.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  // one line at a time: a line of the reporter escapes control characters, newlines too
  const [first, ...more] = summary.lines(at, seconds);
  reporter.result(
    { command: 'rekey', recursive: true, target: formatLocation(at), ...summary.toJSON(), seconds },
    first,
  );
  for (const line of more) reporter.info(line);
  if (summary.clientSide > 0 && old !== undefined)
    warnIfOnlyPublicKeys(
      `${summary.clientSide} object${summary.clientSide === 1 ? '' : 's'} under ${printable(formatLocation(at))}`,
      fresh,
      old,
      add,
      reporter,
      summary.clientSide > 1,
    );
  if (summary.failed.length > 0) {
    throw batchFailure(
      summary.failed.map((f) => f.error),
      `${summary.failed.length} of ${summary.listed} objects could not be rekeyed (each named above); ${summary.rekeyed} rekeyed, ${summary.listed - summary.rekeyed - summary.failed.length} left as they are; run the same command again to retry them`,
    );
  }
}

/** True when the header's recipients are the new keys (or, with `--add`, include them). */
function onNewKeys(header: HeaderInfo, newKeyIds: string[], add: boolean): boolean {
  if (!newKeyIds.every((id) => header.keyIds.includes(id))) return false;
  return add || (header.recipients.length === newKeyIds.length && header.keyIds.length === newKeyIds.length);
}

/** What one rekeyed object moved. */
interface Moved {
  clientSide: boolean;
  sseC: boolean;
  down: number;
  up: number;
  copied: number;
}

/** Counts of a `rekey -r` run. */
class Summary {
  listed = 0;
  bytesListed = 0;
  rekeyed = 0;
  clientSide = 0;
  sseC = 0;
  down = 0;
  up = 0;
  copied = 0;
  readonly skipped = new Map<Skip, number>();
  readonly failed: { location: RemoteLocation; error: unknown }[] = [];
  /** Each object by name: `--json` says which ones were rekeyed, left as they are, failed. */
  readonly rekeyedObjects: { target: string; clientSide: boolean; sseC: boolean }[] = [];
  readonly skippedObjects: { target: string; reason: Skip }[] = [];

  get done(): number {
    return this.rekeyed + [...this.skipped.values()].reduce((a, n) => a + n, 0) + this.failed.length;
  }

  skip(target: string, reason: Skip): void {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
    this.skippedObjects.push({ target, reason });
  }

  move(target: string, m: Moved): void {
    this.rekeyedObjects.push({ target, clientSide: m.clientSide, sseC: m.sseC });
    this.rekeyed++;
    if (m.clientSide) this.clientSide++;
    if (m.sseC) this.sseC++;
    this.down += m.down;
    this.up += m.up;
    this.copied += m.copied;
  }

  fail(location: RemoteLocation, error: unknown): void {
    this.failed.push({ location, error });
  }

  toJSON() {
    return {
      objects: this.listed,
      rekeyed: this.rekeyed,
      rekeyedClientSide: this.clientSide,
      rekeyedSseC: this.sseC,
      skipped: Object.fromEntries(this.skipped),
      failed: this.failed.map((f) => ({
        target: formatLocation(f.location),
        error: describeError(f.error),
        exitCode: exitCodeOf(f.error),
      })),
      rekeyedObjects: this.rekeyedObjects,
      skippedObjects: this.skippedObjects,
      bytesDownloaded: this.down,
      bytesUploaded: this.up,
      bytesCopied: this.copied,
    };
  }

  lines(at: RemoteLocation, seconds: number): string[] {
    const lines = [
      `rekey -r ${printable(formatLocation(at))}: ${this.rekeyed} of ${this.listed} objects rekeyed ` +
        `(client-side ${this.clientSide}, SSE-C ${this.sseC}) in ${seconds.toFixed(1)} s; ` +
        `${formatBytes(this.down)} down, ${formatBytes(this.up)} up, ${formatBytes(this.copied)} copied by the store`,
    ];
    for (const [reason, n] of this.skipped) lines.push(`  left as they are: ${n} ${reason}`);
    if (this.failed.length)
      lines.push(`  failed: ${this.failed.length} (run the same command again to retry them)`);
    return lines;
  }
}
