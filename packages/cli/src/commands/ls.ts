/**
 * `sealstream ls s3://bucket/prefix`: every object under a prefix with how it is protected:
 * client-side (the recipients' key IDs and the identity binding, from the header, without any
 * key), SSE-C (that a key is needed; which given key opens it), or plaintext; then totals per
 * key ID. The bucket is read a listing page at a time and each object's start with one small
 * ranged GET, `--parallel` at once, so memory stays bounded whatever the bucket holds.
 * @module
 */
import { keyId } from '@sealstream/core';
import { type SseCFlags, storeEncryption } from '../encryption.ts';
import { CliError, describeError, EXIT, exitCodeOf, inContext, usage } from '../exit.ts';
import { interrupted } from '../io.ts';
import { type ListedObject, listPages } from '../listing.ts';
import { formatLocation, parseLocation, type RemoteLocation, withKey } from '../location.ts';
import { bindingOf, type Protection, printable, probeProtection, safeJson } from '../protection.ts';
import { formatBytes, type Reporter } from '../report.ts';
import { writeStdout } from '../stdout.ts';
import { clientFor, type StoreFlags } from '../store.ts';
import { parallelOf, pool } from './cp.ts';

/** Flags of `ls`. */
export interface LsFlags extends SseCFlags, StoreFlags {
  parallel?: string;
  json?: boolean;
}

/** Objects described at once when `--parallel` is not given: each is one small request. */
const DEFAULT_PARALLEL = 16;

/** One object as `ls --json` reports it. */
export interface ListedProtection {
  key: string;
  size: number;
  lastModified: string | null;
  /** `client-side`, `sse-c`, `sse-c+client-side`, `plaintext`, `invalid` or `error`. */
  protection: string;
  clientSide: {
    keyIds: string[];
    passphrases: number;
    otherRecipients: string[];
    identity: string | null;
    /** `bound`: to this bucket/key; `elsewhere`: to another location (moved or copied); `unbound`. */
    binding: 'bound' | 'elsewhere' | 'unbound';
  } | null;
  /** SSE-C: whether a given key opens it, and that key's key ID. */
  sseC: { keyGiven: boolean; keyId: string | null } | null;
  /** The header's error code when the object starts like sealstream but its header does not parse. */
  invalid: string | null;
  error: { message: string; exitCode: number } | null;
}

/** Totals over the listing. */
class Totals {
  objects = 0;
  bytes = 0;
  readonly byKeyId = new Map<string, { objects: number; bytes: number }>();
  readonly byLabel = new Map<string, { objects: number; bytes: number }>();

  add(entry: ListedProtection, sseCKeyId: string | undefined): void {
    this.objects++;
    this.bytes += entry.size;
    for (const id of entry.clientSide?.keyIds ?? []) bump(this.byKeyId, id, entry.size);
    if (entry.clientSide && entry.clientSide.passphrases > 0) bump(this.byLabel, 'passphrase', entry.size);
    if (entry.sseC)
      bump(this.byLabel, sseCKeyId ? `sse-c key ${sseCKeyId}` : 'sse-c, no key given opens it', entry.size);
    if (entry.protection === 'plaintext') bump(this.byLabel, 'plaintext', entry.size);
    if (entry.protection === 'invalid') bump(this.byLabel, 'invalid header', entry.size);
    if (entry.protection === 'error') bump(this.byLabel, 'error', entry.size);
  }

  toJSON() {
    return {
      objects: this.objects,
      bytes: this.bytes,
      keyIds: Object.fromEntries(this.byKeyId),
      other: Object.fromEntries(this.byLabel),
    };
  }
}

function bump(map: Map<string, { objects: number; bytes: number }>, name: string, size: number): void {
  const t = map.get(name) ?? { objects: 0, bytes: 0 };
  t.objects++;
  t.bytes += size;
  map.set(name, t);
}

/** Runs `ls`. */
export async function lsCommand(target: string, flags: LsFlags, reporter: Reporter): Promise<void> {
  const at = parseLocation(target, 'location');
  if (at.kind !== 'remote')
    throw usage('ls lists a store: give s3://bucket/prefix or sos://zone/bucket/prefix');
  const parallel = flags.parallel === undefined ? DEFAULT_PARALLEL : parallelOf(flags.parallel);
  const settings = await storeEncryption(flags, reporter, 'open');
  const client = clientFor(at, flags);
  const json = flags.json === true;
  const totals = new Totals();
  let firstError: unknown;
  let first = true;
  await writeStdout(json ? `{"command":"ls","target":${safeJson(formatLocation(at))},"objects":[` : '');
  await inContext(`listing ${formatLocation(at)}`, async () => {
    for await (const page of listPages(client, at.bucket, at.key)) {
      const entries: { entry: ListedProtection; sseCKeyId: string | undefined }[] = new Array(page.length);
      await pool(
        page.map((o, i) => ({ o, i })),
        parallel,
        async ({ o, i }) => {
          const sseCKey = settings.sseCKey ?? settings.sseCMap?.map.keyFor(at.alias, at.bucket, o.key);
          const keys = sseCKey === undefined ? [] : [sseCKey];
          try {
            const p = await probeProtection({ client, bucket: at.bucket, key: o.key, size: o.size }, keys);
            const id = p.sseC?.matched !== undefined ? keyId(keys[p.sseC.matched]!) : undefined;
            entries[i] = { entry: describe(at, o, p, sseCKey !== undefined, id), sseCKeyId: id };
          } catch (error) {
            if (interrupted.aborted) throw error;
            firstError ??= error;
            entries[i] = { entry: failed(o, error), sseCKeyId: undefined };
          }
        },
      );
      if (interrupted.aborted) throw interrupted.reason;
      let text = '';
      for (const { entry, sseCKeyId } of entries) {
        totals.add(entry, sseCKeyId);
        text += json ? `${first ? '' : ','}${safeJson(entry)}` : `${line(entry)}\n`;
        first = false;
      }
      await writeStdout(text);
    }
  });
  await writeStdout(json ? `],"totals":${safeJson(totals)}}\n` : totalsText(at, totals));
  reporter.resulted = true; // the JSON document above is the result
  if (firstError !== undefined) {
    const failures = totals.byLabel.get('error')?.objects ?? 0;
    throw new CliError(
      exitCodeOf(firstError) === EXIT.OK ? EXIT.ERROR : exitCodeOf(firstError),
      `${failures} of ${totals.objects} objects could not be described (first: ${describeError(firstError)})`,
      { cause: firstError },
    );
  }
}

function describe(
  at: RemoteLocation,
  o: ListedObject,
  p: Protection,
  sseCKeyGiven: boolean,
  sseCKeyId: string | undefined,
): ListedProtection {
  const header = p.content.kind === 'sealed' ? p.content.header : undefined;
  const clientSide = header && {
    keyIds: header.keyIds,
    passphrases: header.recipients.filter((r) => r.type === 'passphrase').length,
    otherRecipients: header.recipients.flatMap((r) => (r.type === 'unknown' ? [r.name] : [])),
    identity: header.identity ?? null,
    binding: bindingOf(header, at.bucket, o.key),
  };
  const protection = p.sseC
    ? clientSide
      ? 'sse-c+client-side'
      : 'sse-c'
    : clientSide
      ? 'client-side'
      : p.content.kind === 'invalid'
        ? 'invalid'
        : 'plaintext';
  return {
    key: o.key,
    size: o.size,
    lastModified: o.lastModified?.toISOString() ?? null,
    protection,
    clientSide: clientSide ?? null,
    sseC: p.sseC ? { keyGiven: sseCKeyGiven, keyId: sseCKeyId ?? null } : null,
    invalid: p.content.kind === 'invalid' ? p.content.code : null,
    error: null,
  };
}

function failed(o: ListedObject, error: unknown): ListedProtection {
  return {
    key: o.key,
    size: o.size,
    lastModified: o.lastModified?.toISOString() ?? null,
    protection: 'error',
    clientSide: null,
    sseC: null,
    invalid: null,
    error: { message: describeError(error), exitCode: exitCodeOf(error) },
  };
}

/** One line per object: date, size, protection, then the key (escaped). */
function line(e: ListedProtection): string {
  const date = e.lastModified ? e.lastModified.slice(0, 19).replace('T', ' ') : '-'.padEnd(19);
  const parts: string[] = [];
  if (e.sseC) {
    parts.push(
      e.sseC.keyId
        ? `sse-c key ${e.sseC.keyId}`
        : e.sseC.keyGiven
          ? 'sse-c (the key given does not open it)'
          : 'sse-c (key needed)',
    );
  }
  if (e.clientSide) {
    const c = e.clientSide;
    const who = [
      ...c.keyIds.map((id) => `key ${id}`),
      ...(c.passphrases ? [c.passphrases === 1 ? 'passphrase' : `${c.passphrases} passphrases`] : []),
      ...c.otherRecipients.map((n) => `recipient type ${printable(n)}`),
    ];
    const binding =
      c.binding === 'bound'
        ? 'bound'
        : c.binding === 'elsewhere'
          ? `BOUND ELSEWHERE: "${printable(c.identity ?? '')}"`
          : 'unbound';
    parts.push(`client-side ${who.join(', ')}; ${binding}`);
  }
  if (e.protection === 'plaintext') parts.push('PLAINTEXT');
  if (e.protection === 'invalid') parts.push(`INVALID sealstream header (${e.invalid})`);
  if (e.error) parts.push(`ERROR ${printable(e.error.message)}`);
  return `${date} ${String(e.size).padStart(12)}  ${parts.join(' + ')}  ${printable(e.key)}`;
}

function totalsText(at: RemoteLocation, t: Totals): string {
  const lines = [
    `${t.objects} objects, ${formatBytes(t.bytes)} under ${printable(formatLocation(withKey(at, at.key)))}`,
  ];
  const row = (name: string, v: { objects: number; bytes: number }) =>
    `  ${name.padEnd(40)} ${String(v.objects).padStart(8)} objects  ${formatBytes(v.bytes)}`;
  for (const [id, v] of [...t.byKeyId].sort()) lines.push(row(`client-side key ${id}`, v));
  for (const [name, v] of [...t.byLabel].sort()) lines.push(row(name, v));
  return `${lines.join('\n')}\n`;
}
