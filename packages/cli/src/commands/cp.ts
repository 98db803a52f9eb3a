/**
 * `sealstream cp SRC DST`: between local paths, `-` and objects in a store, one object or a whole
 * folder/prefix (`--recursive`, `--parallel` transfers at once). Client-side keys seal on the way
 * up and open on the way down; SSE-C keys go with every request to the store.
 * @module
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { ciphertextSize, MAX_HEADER_LENGTH } from '@sealstream/core';
import { choosePartSize, getObject, isSosError, putObject } from '@sealstream/sos';
import { batchFailure } from '../batch-failure.ts';
import { batchProgress } from '../batch-progress.ts';
import { outputHolds } from '../delivered.ts';
import {
  encryptionFor,
  protectionOf,
  type SseCFlags,
  type StoreEncryption,
  storeEncryption,
} from '../encryption.ts';
import { describeError, exitCodeOf, inContext, usage } from '../exit.ts';
import { errorCodeOf } from '../failure.ts';
import { counting, fromWeb, interrupted, openInput, statInput, uploadUnderWay, writeOutput } from '../io.ts';
import { hasKeyFlags, type KeyFlags } from '../keys.ts';
import { listPages } from '../listing.ts';
import { formatLocation, type Location, parseLocation, type RemoteLocation, withKey } from '../location.ts';
import { formatBytes, type Progress, type Reporter } from '../report.ts';
import {
  endpointOf,
  journalFolder,
  journalName,
  type ResumeReport,
  resumeFailure,
  resumingText,
  stateDir,
} from '../resume.ts';
import { refuseOutputIsInput } from '../same-file.ts';
import { warnIfSealed } from '../still-sealed.ts';
import { clientFor, type StoreFlags } from '../store.ts';

/** Flags of `cp`. */
export interface CpFlags extends KeyFlags, SseCFlags, StoreFlags {
  /** False with `--no-encryption`. */
  encryption?: boolean;
  recursive?: boolean;
  parallel?: string;
  bind?: boolean;
  /** `--restart`: abort the interrupted upload of a file (if any) and start it over. */
  restart?: boolean;
  /** False with `--no-resume`: no journal, an interrupted upload is aborted. */
  resume?: boolean;
}

/** A local entry that `cp -r` does not copy, and why. */
interface Skipped {
  path: string;
  reason: string;
}

/** One copy to make. */
interface Job {
  from: Location;
  to: Location;
  /** Bytes to read, when known (for the progress bar). */
  size: number | undefined;
}

/** What one copy did. */
interface Done {
  source: string;
  destination: string;
  /** Plaintext bytes moved. */
  size: number;
  /** Bytes stored in the store, for uploads. */
  storedSize: number | undefined;
  clientSide: boolean;
  sseC: boolean;
  keyIds: string[];
  /** An interrupted upload that was continued: what it did not send again. */
  resumed?: ResumeReport;
  /** A download of sealstream data without any client-side key: the file holds the ciphertext. */
  stillEncrypted?: true;
}

/**
 * Failures that no other copy of the run can escape: the bucket does not exist, the store refuses
 * the credentials. After one, `cp -r` starts no more copies (a typo in a bucket name would
 * otherwise print the same error once for each of thousands of files).
 */
const FAILS_EVERY_COPY = ['BUCKET_NOT_FOUND', 'BAD_CREDENTIALS'] as const;

/** Runs `cp`. */
export async function cpCommand(src: string, dst: string, flags: CpFlags, reporter: Reporter): Promise<void> {
  const from = parseLocation(src, 'source');
  const to = parseLocation(dst, 'destination');
  const parallel = parallelOf(flags.parallel);
  if (from.kind !== 'remote' && to.kind !== 'remote') {
    const keyFlags = [flags.sseC, flags.sseCKey, flags.sseCFile, flags.encryptKey, flags.encC?.length];
    if (hasKeyFlags(flags) || keyFlags.some((f) => f)) {
      throw usage(
        'cp between local paths does not encrypt or decrypt',
        'use sealstream encrypt / sealstream decrypt',
      );
    }
  }
  if (flags.restart && flags.resume === false) throw usage('give --restart or --no-resume, not both');
  if (flags.restart && to.kind !== 'remote') {
    throw usage('--restart starts an interrupted upload over: the destination must be s3://... or sos://...');
  }
  if (flags.restart && from.kind === 'stdio') {
    reporter.warn(
      '--restart: an upload from stdin is not resumable (it cannot be read again), so there is nothing to start over; uploading it from the start',
    );
  }
  const settings = await storeEncryption(flags, reporter, to.kind === 'remote' ? 'seal' : 'open');
  const skipped: Skipped[] = [];
  const jobs = flags.recursive
    ? await inContext(`listing ${src}`, () => planRecursive(from, to, flags, skipped))
    : [await planOne(from, to)];
  if (!flags.recursive && flags.parallel !== undefined) {
    reporter.warn('--parallel is ignored for one file: it sets how many files --recursive copies at once');
  }
  for (const s of skipped) reporter.warn(`skipped ${s.path}: ${s.reason}`);
  if (jobs.length === 0) {
    reporter.result(
      { command: 'cp', files: [], skipped, size: 0, seconds: 0 },
      `nothing to copy under ${src}`,
    );
    return;
  }
  // every object's encryption is decided before a byte moves: an upload without any key, or an
  // object that the key map does not cover, fails the whole copy up front
  for (const job of jobs) {
    if (job.from.kind === 'remote') encryptionFor(settings, job.from, 'download');
    if (job.to.kind === 'remote') encryptionFor(settings, job.to, 'upload');
  }
  reporter.dataOnStdout = to.kind === 'stdio';
  if (to.kind !== 'remote') outputHolds(settings.keys === undefined ? 'data' : 'authenticated plaintext');
  const known = jobs.every((j) => j.size !== undefined);
  const progress = reporter.progress('cp', known ? jobs.reduce((a, j) => a + j.size!, 0) : undefined);
  const done: Done[] = [];
  const failed: { job: Job; error: unknown }[] = [];
  // a failure that every other copy would meet too: the copies not started yet are not tried
  let stoppedBy: unknown;
  const notAttempted: Job[] = [];
  if (jobs.length > 1) {
    batchProgress(() => {
      const upload = to.kind === 'remote';
      return `${done.length} of ${jobs.length} files were copied before it stopped (${upload ? 'each object is stored only once whole' : 'each file is put in place only once whole'}); running the same command again copies every file again${upload ? ', resuming the uploads of files kept on the store' : ''}`;
    });
  }
  const started = performance.now();
  try {
    await pool(jobs, parallel, async (job) => {
      if (stoppedBy !== undefined) {
        notAttempted.push(job);
        return;
      }
      try {
        done.push(
          await inContext(`${formatLocation(job.from)} -> ${formatLocation(job.to)}`, () =>
            copyOne(job, settings, flags, progress, jobs.length === 1, reporter),
          ),
        );
        if (jobs.length > 1) progress.files(done.length + failed.length, jobs.length);
      } catch (error) {
        if (interrupted.aborted) throw error;
        failed.push({ job, error });
        if (jobs.length === 1) throw error;
        reporter.error(`${formatLocation(job.from)} -> ${formatLocation(job.to)}: ${describeError(error)}`);
        if ((FAILS_EVERY_COPY as readonly string[]).includes(errorCodeOf(error))) stoppedBy ??= error;
      }
    });
  } finally {
    progress.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const size = done.reduce((a, d) => a + d.size, 0);
  const rate = seconds > 0 ? ` in ${seconds.toFixed(1)} s (${formatBytes(size / seconds)}/s)` : '';
  const one = done.length === 1 && jobs.length === 1 ? done[0]! : undefined;
  reporter.result(
    {
      command: 'cp',
      files: done,
      failed: failed.map((f) => ({
        source: formatLocation(f.job.from),
        destination: formatLocation(f.job.to),
        error: describeError(f.error),
        exitCode: exitCodeOf(f.error),
      })),
      notAttempted: notAttempted.map((j) => ({
        source: formatLocation(j.from),
        destination: formatLocation(j.to),
      })),
      skipped,
      size,
      seconds,
    },
    one
      ? `copied ${one.source} -> ${one.destination}: ${formatBytes(one.size)}${protectionText(one)}${rate}${resumedText(one)}`
      : `copied ${done.length} of ${jobs.length} files, ${formatBytes(size)}${rate}${skipped.length ? `; skipped ${skipped.length} (named above)` : ''}`,
  );
  if (failed.length > 0) {
    throw batchFailure(
      failed.map((f) => f.error),
      `${failed.length} of ${jobs.length} copies failed (each named above); ${done.length} copied` +
        (notAttempted.length > 0
          ? `; ${notAttempted.length} not tried, since every copy would fail the same way: ${describeError(stoppedBy)}`
          : ''),
    );
  }
}

function resumedText(d: Done): string {
  const r = d.resumed;
  if (r === undefined) return '';
  return `; resumed: ${r.partsSkipped} of ${r.partsTotal} parts (${formatBytes(r.bytesSkipped)}) were already stored${r.bytesResent ? `, ${formatBytes(r.bytesResent)} sent again` : ''}`;
}

function protectionText(d: Done): string {
  const parts = [];
  if (d.clientSide) parts.push(`client-side${d.keyIds.length ? ` (key ${d.keyIds.join(', ')})` : ''}`);
  if (d.sseC) parts.push('SSE-C');
  return parts.length ? `, ${parts.join(' + ')}` : '';
}

export function parallelOf(text: string | undefined): number {
  if (text === undefined) return 4;
  // decimal digits only: Number() also takes 0x10, 1e1, 4.0 and ' 8 '
  const n = /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw usage(`--parallel expected an integer from 1 to 64, got ${text}`);
  return n;
}

async function planOne(from: Location, to: Location): Promise<Job> {
  let size: number | undefined;
  let name: string | undefined;
  if (from.kind === 'local') {
    const info = await statInput(from.path);
    if (info.isDirectory()) throw usage(`${from.path} is a folder`, 'use cp --recursive');
    size = info.isFile() ? info.size : undefined;
    name = basename(from.path);
  } else if (from.kind === 'remote') {
    if (from.key === '' || from.key.endsWith('/')) {
      throw usage(`${formatLocation(from)} names a prefix, not an object`, 'use cp --recursive');
    }
    name = from.key.split('/').pop();
  }
  if (to.kind === 'remote' && (to.key === '' || to.key.endsWith('/'))) {
    if (name === undefined)
      throw usage(`copying from stdin needs a full object key, got ${formatLocation(to)}`);
    to = withKey(to, to.key + name);
  }
  if (to.kind === 'local' && name !== undefined && (to.path.endsWith('/') || (await isDirectory(to.path)))) {
    to = { kind: 'local', path: join(to.path, name) };
  }
  return { from, to, size };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function planRecursive(
  from: Location,
  to: Location,
  flags: StoreFlags,
  skipped: Skipped[],
): Promise<Job[]> {
  if (from.kind === 'stdio' || to.kind === 'stdio')
    throw usage('--recursive copies folders and prefixes, not stdin/stdout');
  const jobs: Job[] = [];
  const target = (rel: string): Location =>
    to.kind === 'remote'
      ? withKey(to, asPrefix(to.key) + rel)
      : { kind: 'local', path: join(to.path, ...rel.split('/')) };
  if (from.kind === 'local') {
    const info = await statInput(from.path);
    if (!info.isDirectory()) throw usage(`${from.path} is not a folder; drop --recursive to copy one file`);
    for await (const file of walk(from.path, skipped)) {
      const rel = relative(from.path, file.path).split(sep).join('/');
      jobs.push({ from: { kind: 'local', path: file.path }, to: target(rel), size: file.size });
    }
    return jobs;
  }
  const prefix = asPrefix(from.key);
  const client = clientFor(from, flags);
  // folder markers (empty, named with a trailing /) are not listed
  for await (const page of listPages(client, from.bucket, prefix)) {
    for (const o of page) {
      const key = o.key;
      const rel = key.slice(prefix.length);
      if (to.kind === 'local' && (rel === '' || rel.endsWith('/'))) {
        skipped.push({
          path: formatLocation(withKey(from, key)),
          reason: `its name ends in / (a folder's name here), yet it holds ${o.size} bytes: no local file can have its name`,
        });
        continue;
      }
      if (to.kind === 'local' && rel.split('/').some((s) => s === '' || s === '.' || s === '..')) {
        throw usage(
          `${formatLocation(withKey(from, key))} cannot be written safely under ${to.path} (empty, . or .. path segment)`,
        );
      }
      jobs.push({ from: withKey(from, key), to: target(rel), size: o.size });
    }
  }
  if (to.kind === 'local') refuseFileAndFolder(jobs, from, prefix, to.path);
  return jobs;
}

/**
 * Refuses, before any byte moves, a prefix where one object's name is the folder of another
 * (`p/a` and `p/a/b`): a local path cannot be both a file and a folder, so one of the two would
 * fail, which one depending on which transfer of a parallel run came first.
 * @throws {CliError} usage error naming both objects.
 */
function refuseFileAndFolder(jobs: readonly Job[], from: RemoteLocation, prefix: string, dir: string): void {
  const names = new Set(jobs.map((j) => (j.from as RemoteLocation).key.slice(prefix.length)));
  for (const name of names) {
    const segments = name.split('/');
    for (let i = 1; i < segments.length; i++) {
      const folder = segments.slice(0, i).join('/');
      if (!names.has(folder)) continue;
      throw usage(
        `${formatLocation(withKey(from, prefix + folder))} and ${formatLocation(withKey(from, prefix + name))} cannot both be written under ${dir}: ${folder} would be a file and a folder`,
        'copy them apart: the object and the prefix below it, each to a folder of its own',
      );
    }
  }
}

function asPrefix(key: string): string {
  return key === '' || key.endsWith('/') ? key : `${key}/`;
}

/**
 * The regular files under `dir`, in name order. Symbolic links are not followed (a link may lead
 * out of the folder, or in a loop) and, like sockets and devices, are reported in `skipped`.
 */
async function* walk(dir: string, skipped: Skipped[]): AsyncGenerator<{ path: string; size: number }> {
  const raw = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  const entries = raw.flatMap((e) => {
    const name = e.name.toString('utf8');
    // an object's key is UTF-8: a name that is not (bytes of another encoding) has no key, and
    // its decoded form (with U+FFFD) names no file here
    if (Buffer.compare(Buffer.from(name, 'utf8'), e.name) === 0) return [{ entry: e, name }];
    skipped.push({
      path: join(dir, name),
      reason: 'its name is not valid UTF-8, so it has no object key (rename it to copy it)',
    });
    return [];
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const { entry: e, name } of entries) {
    const path = join(dir, name);
    if (e.isDirectory()) yield* walk(path, skipped);
    else if (e.isFile()) yield { path, size: (await stat(path)).size };
    else if (e.isSymbolicLink()) skipped.push({ path, reason: 'a symbolic link (not followed)' });
    else skipped.push({ path, reason: 'not a regular file' });
  }
}

/**
 * Runs `run` over `items`, `n` at once. Stops taking items at the first failure or interruption,
 * and settles only once every worker has.
 * @throws The first failure; when the run was interrupted and several transfers stopped, an
 *   `AggregateError` of all their errors (io.ts `interruption` reports each one's outcome).
 */
export async function pool<T>(
  items: readonly T[],
  n: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length && !interrupted.aborted && errors.length === 0) {
      try {
        await run(items[next++]!);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  // Every worker settles before the pool does: the run must not report and exit while another
  // transfer is still aborting its multipart upload or saying what it kept (an interruption stops
  // them all at once, and each one's outcome belongs in the message).
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (errors.length === 0) return;
  if (interrupted.aborted && errors.length > 1) {
    throw new AggregateError(errors, `${errors.length} transfers were interrupted`);
  }
  throw errors[0];
}

/** Pipes a stream through a counter, passing errors along. */
function counted(source: Readable, progress: Progress, count: (n: number) => void): Transform {
  const counter = counting(progress, count);
  pipeline(source, counter, () => {});
  return counter;
}

async function copyOne(
  job: Job,
  settings: StoreEncryption,
  flags: CpFlags,
  progress: Progress,
  single: boolean,
  reporter: Reporter,
): Promise<Done> {
  const { from, to } = job;
  let plain = 0;
  // Opens a remote source for reading, with the keys that apply to it.
  const download = async (source: typeof from & { kind: 'remote' }) => {
    const encryption = encryptionFor(settings, source, 'download');
    const got = await getObject({
      client: clientFor(source, flags),
      bucket: source.bucket,
      key: source.key,
      encryption,
      signal: interrupted,
    });
    if (single) progress.setTotal(got.size);
    return { got, encryption };
  };
  const base = { source: formatLocation(from), destination: formatLocation(to) };
  if (to.kind === 'remote') {
    let body: Readable;
    let size = job.size;
    if (from.kind === 'local' && flags.resume !== false) {
      const done = await uploadResumable(from.path, to, settings, flags, progress, reporter);
      if (done !== undefined) return { ...base, ...done };
    }
    if (from.kind === 'remote') {
      const { got } = await download(from);
      size = got.size;
      body = fromWeb(got.body);
    } else {
      const opened = await openInput(from);
      body = opened.stream;
      size = opened.size;
    }
    return {
      ...base,
      ...(await upload(
        to,
        counted(body, progress, (n) => (plain += n)),
        size,
        settings,
        flags,
      )),
      size: plain,
    };
  }
  if (from.kind === 'remote') {
    const { got, encryption } = await download(from);
    const stages: [Readable, ...Transform[]] = [fromWeb(got.body), counting(progress, (n) => (plain += n))];
    let stillEncrypted = false;
    if (settings.keys === undefined) {
      stages.push(warnIfSealed(formatLocation(from), reporter, () => (stillEncrypted = true)));
    }
    await writeOutput(to, stages);
    const p = protectionOf(encryption);
    const ours = settings.keys?.keyIds ?? [];
    return {
      ...base,
      size: plain,
      storedSize: undefined,
      ...p,
      keyIds: got.header ? got.header.keyIds.filter((id) => ours.includes(id)) : [],
      ...(stillEncrypted ? { stillEncrypted: true as const } : {}),
    };
  }
  refuseOutputIsInput(from, to);
  const opened = await openInput(from);
  await writeOutput(to, [opened.stream, counting(progress, (n) => (plain += n))]);
  return { ...base, size: plain, storedSize: undefined, clientSide: false, sseC: false, keyIds: [] };
}

/**
 * Uploads a local file so that an interruption can be resumed: its journal (in the state folder,
 * one per file and destination) records the parts stored; a journal left by an interrupted run
 * makes this run send only the parts missing. `undefined` when the file cannot be resumed (not a
 * regular file) or no journal can be kept: the caller uploads it as a stream.
 */
async function uploadResumable(
  path: string,
  to: RemoteLocation,
  settings: StoreEncryption,
  flags: CpFlags,
  progress: Progress,
  reporter: Reporter,
): Promise<Omit<Done, 'source' | 'destination'> | undefined> {
  const info = await statInput(path);
  // a pipe or a device cannot be read again from an offset
  if (!info.isFile()) return undefined;
  const encryption = encryptionFor(settings, to, 'upload');
  const p = protectionOf(encryption);
  const client = clientFor(to, flags);
  let journal: string;
  try {
    journal = join(await journalFolder(), journalName(path, to, await endpointOf(client)));
  } catch (err) {
    reporter.warn(
      `cannot keep a resume journal in ${stateDir()} (${(err as { code?: string }).code ?? describeError(err)}): this upload will not be resumable (set SEALSTREAM_STATE_DIR to a writable folder)`,
    );
    return undefined;
  }
  const destination = formatLocation(to);
  let resumed: ResumeReport | undefined;
  let sent = 0;
  const put = () =>
    putObject({
      client,
      bucket: to.bucket,
      key: to.key,
      body: path,
      encryption,
      signal: interrupted,
      partSize: choosePartSize(p.clientSide ? ciphertextSize(info.size, MAX_HEADER_LENGTH) : info.size),
      // stored bytes: with client-side encryption a little more than the file's (0.1%)
      onProgress: ({ loaded }) => {
        progress.add(Math.max(0, loaded - sent));
        sent = Math.max(sent, loaded);
      },
      resume: {
        journal,
        restart: flags.restart === true,
        onResume: (r) => {
          resumed = { ...r };
          reporter.info(resumingText(path, destination, r));
        },
      },
    });
  const done = uploadUnderWay(destination, true);
  try {
    let result: Awaited<ReturnType<typeof putObject>>;
    try {
      result = await put();
    } catch (err) {
      // --restart replaces a journal that cannot be read (the transport needs to read it to abort its upload)
      if (!flags.restart || !isSosError(err, 'JOURNAL_INVALID')) throw err;
      await rm(journal, { force: true });
      reporter.warn(
        `--restart: the resume journal of this upload could not be read and was removed; an upload it named may be left on the store: sealstream uploads ls ${destination}`,
      );
      result = await put();
    }
    if (resumed !== undefined && result.resumed !== undefined)
      resumed.bytesResent = result.resumed.bytesResent;
    return {
      size: result.plaintextSize,
      storedSize: result.size,
      ...p,
      keyIds: p.clientSide ? (settings.keys?.keyIds ?? []) : [],
      ...(resumed !== undefined ? { resumed } : {}),
    };
  } catch (err) {
    throw resumeFailure(err, path, to);
  } finally {
    done();
  }
}

async function upload(
  to: RemoteLocation,
  body: Readable,
  size: number | undefined,
  settings: StoreEncryption,
  flags: StoreFlags,
): Promise<Omit<Done, 'source' | 'destination' | 'size'>> {
  const encryption = encryptionFor(settings, to, 'upload');
  const p = protectionOf(encryption);
  // the sealed size is known only at the end; an upper bound keeps the part count under 10,000
  const partSize =
    size === undefined
      ? undefined
      : choosePartSize(p.clientSide ? ciphertextSize(size, MAX_HEADER_LENGTH) : size);
  const done = uploadUnderWay(formatLocation(to), false);
  const result = await putObject({
    client: clientFor(to, flags),
    bucket: to.bucket,
    key: to.key,
    body,
    encryption,
    signal: interrupted,
    ...(partSize !== undefined ? { partSize } : {}),
  }).finally(done);
  return { storedSize: result.size, ...p, keyIds: p.clientSide ? (settings.keys?.keyIds ?? []) : [] };
}
