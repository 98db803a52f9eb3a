/**
 * `sealstream uploads ls|abort`: the incomplete multipart uploads under a bucket or prefix (an
 * interrupted upload kept for resuming, one whose abort failed, another tool's), with their age,
 * parts and bytes, and aborting them. Their parts are billed until aborted.
 * @module
 */
import {
  abortIncompleteUpload,
  type IncompleteUpload,
  incompleteUploadPages,
  listIncompleteUploads,
} from '@sealstream/sos';
import { CliError, describeError, EXIT, exitCodeOf, inContext, usage } from '../exit.ts';
import { interrupted } from '../io.ts';
import { formatLocation, parseLocation, type RemoteLocation, withKey } from '../location.ts';
import { printable, safeJson } from '../printable.ts';
import { formatBytes, type Reporter } from '../report.ts';
import { queueStdout } from '../stdout.ts';
import { clientFor, type StoreFlags } from '../store.ts';

/** Flags of `uploads ls`. */
export interface UploadsLsFlags extends StoreFlags {
  json?: boolean;
}

/** Flags of `uploads abort`. */
export interface UploadsAbortFlags extends StoreFlags {
  uploadId?: string;
  all?: boolean;
}

/** One upload as `--json` shows it. */
interface UploadJson {
  key: string;
  uploadId: string;
  /** ISO 8601, or null when the store gave no date. */
  initiated: string | null;
  /** Seconds since it was started, by this machine's clock. */
  ageSeconds: number | null;
  parts: number;
  size: number;
}

function toJson(u: IncompleteUpload, now: number): UploadJson {
  const t = u.initiated.getTime();
  return {
    key: u.key,
    uploadId: u.uploadId,
    initiated: Number.isNaN(t) ? null : u.initiated.toISOString(),
    ageSeconds: Number.isNaN(t) ? null : Math.max(0, Math.round((now - t) / 1000)),
    parts: u.parts,
    size: u.size,
  };
}

/** Age as people say it: `45s`, `12m`, `3h05m`, `2d04h`. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

function remote(target: string, command: string): RemoteLocation {
  const at = parseLocation(target, 'location');
  if (at.kind !== 'remote') {
    throw usage(
      `uploads ${command} works on a store: give s3://bucket[/prefix] or sos://zone/bucket[/prefix]`,
    );
  }
  return at;
}

/** Runs `uploads ls`: a table (or one JSON document) on stdout, a page of uploads at a time. */
export async function uploadsLsCommand(
  target: string,
  flags: UploadsLsFlags,
  reporter: Reporter,
): Promise<void> {
  const at = remote(target, 'ls');
  const client = clientFor(at, flags);
  const json = flags.json === true;
  const now = Date.now();
  let count = 0;
  let parts = 0;
  let bytes = 0;
  queueStdout(json ? `{"command":"uploads ls","target":${safeJson(formatLocation(at))},"uploads":[` : '');
  await inContext(`listing the incomplete uploads under ${formatLocation(at)}`, async () => {
    for await (const page of incompleteUploadPages({
      client,
      bucket: at.bucket,
      prefix: at.key,
      signal: interrupted,
    })) {
      let text = '';
      for (const u of page) {
        const entry = toJson(u, now);
        if (json) text += `${count > 0 ? ',' : ''}${safeJson(entry)}`;
        else {
          if (count === 0) text += `${header()}\n`;
          text += `${row(entry)}\n`;
        }
        count++;
        parts += u.parts;
        bytes += u.size;
      }
      queueStdout(text);
    }
  });
  const where = printable(formatLocation(at));
  queueStdout(
    json
      ? `],"totals":${safeJson({ uploads: count, parts, bytes })}}\n`
      : count === 0
        ? `no incomplete uploads under ${where}\n`
        : `${count} incomplete upload${count === 1 ? '' : 's'}, ${parts} parts, ${formatBytes(bytes)} under ${where}\n`,
  );
  reporter.resulted = true; // the document on stdout is the result
}

function header(): string {
  return `${'STARTED (UTC)'.padEnd(19)} ${'AGE'.padStart(7)} ${'PARTS'.padStart(6)} ${'SIZE'.padStart(10)}  UPLOAD ID  KEY`;
}

function row(u: UploadJson): string {
  const date = u.initiated ? u.initiated.slice(0, 19).replace('T', ' ') : '-'.padEnd(19);
  return `${date} ${formatAge(u.ageSeconds).padStart(7)} ${String(u.parts).padStart(6)} ${formatBytes(u.size).padStart(10)}  ${printable(u.uploadId)}  ${printable(u.key)}`;
}

/** A short description of one upload for a message. */
function described(u: UploadJson): string {
  return `${printable(u.uploadId)} (${u.parts} part${u.parts === 1 ? '' : 's'}, ${formatBytes(u.size)}, started ${formatAge(u.ageSeconds)} ago)`;
}

/**
 * Runs `uploads abort`: one upload of a key (the only one, or the one `--upload-id` names), or
 * with `--all` every upload under a prefix. Says what it aborted; refuses to guess between
 * several uploads of one key.
 */
export async function uploadsAbortCommand(
  target: string,
  flags: UploadsAbortFlags,
  reporter: Reporter,
): Promise<void> {
  const at = remote(target, 'abort');
  if (flags.all && flags.uploadId !== undefined) {
    throw usage('give --upload-id ID (one upload) or --all (every upload under the prefix), not both');
  }
  if (flags.uploadId === '') throw usage('--upload-id expected an upload ID, got an empty string');
  if (!flags.all && (at.key === '' || at.key.endsWith('/'))) {
    throw usage(
      `${formatLocation(at)} names a prefix, not an object key`,
      `to abort every incomplete upload under it: sealstream uploads abort --all ${formatLocation(at)}`,
    );
  }
  const client = clientFor(at, flags);
  const now = Date.now();
  const listed = await inContext(`listing the incomplete uploads under ${formatLocation(at)}`, () =>
    listIncompleteUploads({ client, bucket: at.bucket, prefix: at.key, signal: interrupted }),
  );
  let chosen = listed;
  if (!flags.all) {
    const ofKey = listed.filter((u) => u.key === at.key);
    chosen = flags.uploadId === undefined ? ofKey : ofKey.filter((u) => u.uploadId === flags.uploadId);
    if (chosen.length === 0) {
      throw new CliError(
        EXIT.NOT_FOUND,
        flags.uploadId === undefined
          ? `no incomplete upload of ${formatLocation(at)}`
          : `no incomplete upload ${flags.uploadId} of ${formatLocation(at)}${ofKey.length > 0 ? ` (it has ${ofKey.length}: ${ofKey.map((u) => u.uploadId).join(', ')})` : ''}`,
        {
          hint: `sealstream uploads ls ${formatLocation(withKey(at, parentOf(at.key)))} shows the incomplete uploads there`,
        },
      );
    }
    if (chosen.length > 1) {
      throw new CliError(
        EXIT.USAGE,
        `${formatLocation(at)} has ${chosen.length} incomplete uploads: ${chosen.map((u) => described(toJson(u, now))).join('; ')}`,
        {
          hint: `give the one to abort with --upload-id ID, or abort them all with --all ${formatLocation(at)} (which also covers longer keys starting with it)`,
        },
      );
    }
  }
  const aborted: UploadJson[] = [];
  const gone: UploadJson[] = [];
  const failed: { upload: UploadJson; error: unknown }[] = [];
  for (const u of chosen) {
    if (interrupted.aborted) throw interrupted.reason;
    const entry = toJson(u, now);
    const where = formatLocation(withKey(at, u.key));
    try {
      const done = await abortIncompleteUpload({
        client,
        bucket: at.bucket,
        key: u.key,
        uploadId: u.uploadId,
        signal: interrupted,
      });
      (done ? aborted : gone).push(entry);
      reporter.info(
        done
          ? `aborted upload ${described(entry)} of ${printable(where)}`
          : `upload ${printable(u.uploadId)} of ${printable(where)} was already gone (completed or aborted meanwhile)`,
      );
    } catch (error) {
      if (interrupted.aborted) throw error;
      if (chosen.length === 1) throw error;
      failed.push({ upload: entry, error });
      reporter.error(
        `aborting upload ${printable(u.uploadId)} of ${printable(where)}: ${describeError(error)}`,
      );
    }
  }
  const bytes = aborted.reduce((a, u) => a + u.size, 0);
  reporter.result(
    {
      command: 'uploads abort',
      target: formatLocation(at),
      aborted,
      alreadyGone: gone,
      failed: failed.map((f) => ({
        ...f.upload,
        error: describeError(f.error),
        exitCode: exitCodeOf(f.error),
      })),
      totals: { aborted: aborted.length, parts: aborted.reduce((a, u) => a + u.parts, 0), bytes },
    },
    chosen.length === 0
      ? `no incomplete uploads under ${printable(formatLocation(at))}: nothing to abort`
      : `aborted ${aborted.length} of ${chosen.length} incomplete upload${chosen.length === 1 ? '' : 's'}, ${formatBytes(bytes)} freed`,
  );
  if (failed.length > 0) {
    const first = failed[0]!.error;
    throw new CliError(
      exitCodeOf(first) === EXIT.OK ? EXIT.ERROR : exitCodeOf(first),
      `${failed.length} of ${chosen.length} incomplete uploads could not be aborted`,
      { cause: first },
    );
  }
}

/** The folder part of a key (`a/b/c` -> `a/b/`), for a listing that shows its neighbours. */
function parentOf(key: string): string {
  const i = key.lastIndexOf('/');
  return i < 0 ? '' : key.slice(0, i + 1);
}
