/**
 * The resume journal: a small JSON file that says which multipart upload of which file is under
 * way and which of its parts the server holds. It holds nothing secret: the header it keeps wraps
 * the data key for the recipients (anyone who reads the object's first bytes sees the same), the
 * SSE-C key is represented by a one-way, domain-separated key check, and the source by its path,
 * size, mtime and hashes of its first and last MiB.
 * @module
 */
import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SosError } from '../errors.ts';
import { LIMITS } from '../upload.ts';
import type { SourceFingerprint } from './fingerprint.ts';

/** The `format` field: what makes a file a journal of ours. */
export const JOURNAL_FORMAT = 'sealstream-upload-journal';
/** The journal version this code reads and writes. */
export const JOURNAL_VERSION = 1;
/** The largest journal read: 10,000 parts take about 2 MiB. */
const MAX_JOURNAL_BYTES = 16 * 1024 * 1024;

/** Which layers of encryption the upload applies (never their keys). */
export type JournalEncryption = 'client-side' | 'sse-c' | 'both' | 'none';

/** One part the server acknowledged. */
export interface JournalPart {
  /** Part number, 1-based. */
  number: number;
  /** ETag the server answered for it, as sent back in CompleteMultipartUpload. */
  etag: string;
  /** Stored bytes of the part. */
  size: number;
  /** The plaintext it was made from, `[start, end)` of the file. */
  plaintext: [number, number];
  /** SSE-C, part 1: a check of its bytes keyed by the SSE-C key (see `partOneCheck` in put.ts). */
  check?: string;
}

/** The journal's content. */
export interface Journal {
  format: typeof JOURNAL_FORMAT;
  version: typeof JOURNAL_VERSION;
  bucket: string;
  key: string;
  uploadId: string;
  /** When the upload was started (ISO 8601): just before its CreateMultipartUpload was sent. */
  created: string;
  encryption: JournalEncryption;
  /** SSE-C: the key check (see `sseCKeyCheck`), not the key. */
  sseCKeyCheck?: string;
  /** Client-side: the object's first bytes (header, salt, commitment), base64. Part 1 carries them. */
  header?: string;
  /** Part n holds stored bytes `[(n-1) x partSize, min(n x partSize, sealedSize))`. */
  plan: { partSize: number; size: number; sealedSize: number; parts: number };
  source: SourceFingerprint;
  /** Parts the server acknowledged, in the order they completed. */
  parts: JournalPart[];
}

/**
 * A journal written just before CreateMultipartUpload, without an upload ID: a run killed before
 * it learnt the ID (or before it could record it) leaves this, and the next run looks for the
 * upload its Create may have made (by key and start time) instead of knowing nothing of it.
 */
export type JournalBeforeCreate = Omit<Journal, 'uploadId'> & { uploadId?: undefined };

/** True when the journal records an upload ID (the upload was created). */
export function isCreated(journal: Journal | JournalBeforeCreate): journal is Journal {
  return journal.uploadId !== undefined;
}

/**
 * Reads a journal.
 * @returns The journal (one {@link JournalBeforeCreate} has no upload ID), or `undefined` when
 *   there is no file at `path`.
 * @throws {SosError} `JOURNAL_INVALID` when the file cannot be read or is not a valid journal.
 */
export async function readJournal(path: string): Promise<Journal | JournalBeforeCreate | undefined> {
  let text: string;
  try {
    // a FIFO would be waited on for good, a device (/dev/zero) read without end: a journal is a
    // regular file of a few MiB at most
    const info = await stat(path);
    if (!info.isFile()) throw invalid(path, 'it is not a regular file');
    if (info.size > MAX_JOURNAL_BYTES) {
      throw invalid(path, `it holds ${info.size} bytes, more than any journal (${MAX_JOURNAL_BYTES})`);
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof SosError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw invalid(path, `it cannot be read (${(err as Error).message})`, err);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(path, 'it is not JSON (cut short, or not a journal)', err);
  }
  return checkJournal(value, path);
}

/** Checks every field of a parsed journal: a journal edited by hand or by another tool is refused whole. */
function checkJournal(value: unknown, path: string): Journal | JournalBeforeCreate {
  const j = value as Journal;
  if (typeof j !== 'object' || j === null || j.format !== JOURNAL_FORMAT) {
    throw invalid(path, `it is not a sealstream upload journal (no "format": "${JOURNAL_FORMAT}")`);
  }
  if (j.version !== JOURNAL_VERSION) {
    throw invalid(
      path,
      `its version ${String(j.version)} is not ${JOURNAL_VERSION}: it was written by another sealstream version`,
    );
  }
  const text = (v: unknown) => typeof v === 'string' && v !== '';
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  const fields: [string, boolean][] = [
    ['bucket', text(j.bucket)],
    ['key', text(j.key)],
    // absent only before the upload exists, when no part can have been acknowledged
    [
      'uploadId',
      j.uploadId === undefined ? Array.isArray(j.parts) && j.parts.length === 0 : text(j.uploadId),
    ],
    ['created', text(j.created)],
    ['encryption', ['client-side', 'sse-c', 'both', 'none'].includes(j.encryption)],
    ['sseCKeyCheck', (j.encryption === 'sse-c' || j.encryption === 'both') === text(j.sseCKeyCheck)],
    [
      'header',
      (j.encryption === 'client-side' || j.encryption === 'both') ===
        (text(j.header) && /^[A-Za-z0-9+/]+={0,2}$/.test(j.header!)),
    ],
    [
      'plan',
      typeof j.plan === 'object' &&
        j.plan !== null &&
        count(j.plan.partSize) &&
        j.plan.partSize >= LIMITS.minPartSize &&
        j.plan.partSize <= LIMITS.maxPartSize &&
        j.plan.parts <= LIMITS.maxParts &&
        count(j.plan.size) &&
        count(j.plan.sealedSize) &&
        count(j.plan.parts) &&
        j.plan.parts === Math.ceil(j.plan.sealedSize / j.plan.partSize),
    ],
    [
      'source',
      typeof j.source === 'object' &&
        j.source !== null &&
        text(j.source.path) &&
        count(j.source.size) &&
        typeof j.source.mtimeMs === 'number' &&
        text(j.source.headSha256) &&
        text(j.source.tailSha256),
    ],
    ['parts', Array.isArray(j.parts)],
  ];
  const bad = fields.find(([, ok]) => !ok);
  if (bad) throw invalid(path, `its "${bad[0]}" field is missing or malformed`);
  const seen = new Set<number>();
  for (const part of j.parts) {
    const ok =
      typeof part === 'object' &&
      part !== null &&
      Number.isSafeInteger(part.number) &&
      part.number >= 1 &&
      part.number <= j.plan.parts &&
      !seen.has(part.number) &&
      text(part.etag) &&
      count(part.size) &&
      Array.isArray(part.plaintext) &&
      part.plaintext.length === 2 &&
      part.plaintext.every(count) &&
      (part.check === undefined || text(part.check));
    if (!ok) throw invalid(path, `its part list is malformed (part ${JSON.stringify(part?.number)})`);
    seen.add(part.number);
  }
  return j;
}

function invalid(path: string, why: string, cause?: unknown): SosError {
  return new SosError(
    'JOURNAL_INVALID',
    `the upload journal ${path} cannot be used: ${why}. Check the path; if it is a journal of ours, remove it (the upload it described is listed by \`sealstream uploads ls\`)`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Writes journals to one path, atomically (a temporary file in the same directory, written with
 * mode 0600, flushed, then renamed over the journal: a crash leaves the old journal or the new
 * one, never a mix), one write at a time in the order asked.
 */
export class JournalWriter {
  readonly path: string;
  #queue: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  /** Writes `journal` once the writes asked before have finished. */
  write(journal: Journal | JournalBeforeCreate): Promise<void> {
    const text = `${JSON.stringify(journal, null, 2)}\n`;
    const done = this.#queue.then(() => writeAtomically(this.path, text));
    this.#queue = done.catch(() => {});
    return done;
  }

  /** Removes the journal once pending writes have finished; a journal already gone is fine. */
  remove(): Promise<void> {
    const done = this.#queue.then(() => removeJournal(this.path));
    this.#queue = done.catch(() => {});
    return done;
  }
}

/**
 * Removes a journal file; one already gone is fine.
 * @throws {SosError} `JOURNAL_INVALID` when it cannot be removed.
 */
export async function removeJournal(path: string): Promise<void> {
  await removeStaleTemps(path);
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new SosError(
      'JOURNAL_INVALID',
      `the upload journal ${path} cannot be removed: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

let tempCounter = 0;

/**
 * Removes the temporary files (`NAME.PID.N.tmp`, see {@link writeAtomically}) that a process killed
 * in the middle of a journal write left beside the
 * journal (they hold a journal's text, no secret, but they would pile up). Best effort.
 */
async function removeStaleTemps(path: string): Promise<void> {
  const prefix = `${basename(path)}.`;
  try {
    for (const name of await readdir(dirname(path))) {
      if (name.startsWith(prefix) && /^\d+\.\d+\.tmp$/.test(name.slice(prefix.length))) {
        await unlink(join(dirname(path), name)).catch(() => {});
      }
    }
  } catch {
    // a folder that cannot be listed: nothing we could remove either
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.${tempCounter++}.tmp`;
  try {
    const file = await open(temp, 'w', 0o600);
    try {
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw new SosError(
      'JOURNAL_INVALID',
      `the upload journal ${path} cannot be written: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  // the rename is durable once the directory is flushed (not every platform lets a directory be opened)
  try {
    const dir = await open(dirname(path), 'r');
    await dir.sync().finally(() => dir.close());
  } catch {
    // best effort
  }
}
