/**
 * Resumable uploads of files (Node): the part plan is a pure function of the file's size, the part
 * size and (client-side) the header, so any part can be made again from the file alone; a journal
 * records which parts the server acknowledged; resuming asks the server (ListParts) first, so an
 * upload it no longer knows starts over whatever the old journal says, then checks the journal
 * against the file and the caller's keys, and sends only the parts that are missing, wherever
 * they are (parts go up in parallel, so an interruption leaves holes, not just a missing suffix).
 * @module
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  HeadObjectCommand,
  ListPartsCommand,
  type ListPartsCommandOutput,
  type Part,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  ciphertextSize,
  createResumableSealing,
  isSealstreamError,
  MAX_HEADER_LENGTH,
  type ResumableSealing,
  resumeSealing,
} from '@sealstream/core';
import { statRegularFile } from '../body.node.ts';
import { identityFor, recipientsOf } from '../client-side.ts';
import { type ResolvedEncryption, resolveEncryption } from '../encryption.ts';
import { isSosError, SosError, UploadResumableError } from '../errors.ts';
import {
  applyTags,
  checkLocation,
  checkProgress,
  checkQueueSize,
  objectFields,
  PUT_OPTIONS,
  type PutObjectOptions,
  type PutObjectResult,
} from '../objects.ts';
import { assertSseCApplied, httpStatus, type SseCParams } from '../sse-c.ts';
import { cleanupSendOptions, mapTransportError } from '../timeouts.ts';
import { abortUploadsStartedIn, choosePartSize, runMultipart, uploadObject } from '../upload.ts';
import { md5Etag, multipartEtag } from './etag.ts';
import { fingerprint, readAt, type SourceFingerprint, sourceDifference } from './fingerprint.ts';
import {
  isCreated,
  JOURNAL_FORMAT,
  JOURNAL_VERSION,
  type Journal,
  type JournalBeforeCreate,
  type JournalEncryption,
  type JournalPart,
  JournalWriter,
  readJournal,
  removeJournal,
} from './journal.ts';
import { lockJournal } from './lock.ts';
import { checkResumeOptions, type ResumedUpload, type ResumeOptions } from './options.ts';

/** What the parts are made of: the file as it is, or sealed (client-side). */
interface PartMaker {
  /** Stored size of the whole object. */
  sealedSize: number;
  /** Writes the stored bytes `[start, end)` into `out`. */
  make(start: number, end: number, out: Uint8Array): Promise<void>;
  /** The plaintext (file) range that stored bytes `[start, end)` come from. */
  plaintextRange(start: number, end: number): [number, number];
}

/** A resumable upload being prepared: the plan, and where it starts from. */
interface Plan {
  maker: PartMaker;
  partSize: number;
  parts: number;
  /** Client-side: the header bytes part 1 carries. */
  sealing: ResumableSealing | undefined;
  /** A continued upload: its ID and the parts the server holds that are trusted. */
  existing: { uploadId: string; created: string; parts: JournalPart[]; resent: number } | undefined;
}

/**
 * `putObject` with `resume` (see `ResumeOptions`).
 * @throws {SosError} `NOT_RESUMABLE`, `JOURNAL_INVALID`, `JOURNAL_LOCKED` (another live run continues
 *   this journal's upload), `SOURCE_CHANGED`, `RESUME_KEY_MISMATCH`, and {@link UploadResumableError}
 *   for a failure after the multipart upload started (it is kept).
 */
export async function putResumable(options: PutObjectOptions): Promise<PutObjectResult> {
  const { client, bucket, key } = checkLocation(options, PUT_OPTIONS, 'putObject');
  const resume = checkResumeOptions(options.resume);
  if (typeof options.body !== 'string') {
    throw new SosError(
      'NOT_RESUMABLE',
      'a resumable upload needs a file given by its path: this body (a stream, stdin, bytes) cannot be read again from an offset',
    );
  }
  const encryption = await resolveEncryption(client, options.encryption, bucket, key);
  const queueSize = checkQueueSize(options.queueSize);
  checkProgress(options.onProgress);
  const fields = objectFields(options);
  const path = resolve(options.body);
  const journalPath = resolve(resume.journal);
  // one run at a time per journal, from before it is read until it is removed or final
  const lock = await lockJournal(journalPath);
  try {
    return await putLocked(options, { resume, encryption, queueSize, fields, path, journalPath });
  } finally {
    await lock.release();
  }
}

/** {@link putResumable} once the journal is locked. */
async function putLocked(
  options: PutObjectOptions,
  context: {
    resume: ResumeOptions;
    encryption: ResolvedEncryption;
    queueSize: number;
    fields: ReturnType<typeof objectFields>;
    path: string;
    journalPath: string;
  },
): Promise<PutObjectResult> {
  const { client, bucket, key } = options;
  const { resume, encryption, queueSize, fields, path, journalPath } = context;
  const file = await openSource(path);
  try {
    const source = await fingerprint(file, path);
    const read = await readJournal(journalPath);
    if (read !== undefined && !isCreated(read)) {
      // a run was killed between the journal written before its CreateMultipartUpload and the one
      // recording the upload's ID: the upload that Create may have made is found and aborted
      await abortUnrecorded(client, read, journalPath);
    }
    let journal = read !== undefined && isCreated(read) ? read : undefined;
    if (journal !== undefined && resume.restart) {
      await abandon(client, journal, journalPath);
      journal = undefined;
    }
    const writer = new JournalWriter(journalPath);
    let plan: Plan | undefined;
    if (journal !== undefined) {
      const checked = await continuePlan({ options, journal, journalPath, source, encryption, file });
      if (checked.kind === 'completed') {
        // the interruption may have come between the completion and the tagging
        await applyTags(options, checked.result.versionId);
        await removeJournal(journalPath);
        return checked.result;
      }
      plan = checked.plan;
    }
    plan ??= await freshPlan(options, source.size, encryption, file);
    if (plan.parts === 1) {
      // a single PutObject: nothing to resume, so no journal
      const body = new Uint8Array(plan.maker.sealedSize);
      await plan.maker.make(0, body.length, body);
      const out = await uploadObject({
        client,
        params: {
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ...fields,
          ...encryption.sseC,
        },
        partSize: plan.partSize,
        queueSize,
        signal: options.signal,
        onProgress: options.onProgress,
        ...checkPartOf(encryption, bucket, key),
      });
      return {
        size: out.size,
        plaintextSize: source.size,
        etag: out.etag,
        versionId: out.versionId,
        partSize: 0,
      };
    }
    return await upload(options, plan, { journalPath, writer, source, encryption, queueSize, file, fields });
  } finally {
    await file.close();
  }
}

/** Runs the multipart upload of a plan, journaling each part, and removes the journal at the end. */
async function upload(
  options: PutObjectOptions,
  plan: Plan,
  context: {
    journalPath: string;
    writer: JournalWriter;
    source: SourceFingerprint;
    encryption: ResolvedEncryption;
    queueSize: number;
    file: FileHandle;
    fields: ReturnType<typeof objectFields>;
  },
): Promise<PutObjectResult> {
  const { client, bucket, key } = options;
  const { writer, source, encryption, file } = context;
  const { maker, partSize } = plan;
  const done = new Map<number, JournalPart>((plan.existing?.parts ?? []).map((p) => [p.number, p]));
  const skipped = [...done.values()];
  const bytesSkipped = skipped.reduce((n, p) => n + p.size, 0);
  let journal: Journal | undefined;
  const missing: number[] = [];
  for (let n = 1; n <= plan.parts; n++) if (!done.has(n)) missing.push(n);
  if (plan.existing !== undefined) {
    options.resume?.onResume?.({
      uploadId: plan.existing.uploadId,
      partsSkipped: skipped.length,
      bytesSkipped,
      partsTotal: plan.parts,
    });
  }
  const free: Uint8Array[] = [];
  let loaded = bytesSkipped;
  const total = maker.sealedSize;
  if (bytesSkipped > 0) options.onProgress?.({ loaded, total });
  const partBounds = (n: number): [number, number] => [(n - 1) * partSize, Math.min(n * partSize, total)];
  /** SSE-C: the digest of the part 1 this run sends, for its check in the journal (see partOneCheck). */
  let partOneDigest: Buffer | undefined;
  const created = plan.existing?.created ?? new Date().toISOString();
  function journalOf(uploadId: string): Journal;
  function journalOf(uploadId: undefined): JournalBeforeCreate;
  function journalOf(uploadId: string | undefined): Journal | JournalBeforeCreate {
    return {
      format: JOURNAL_FORMAT,
      version: JOURNAL_VERSION,
      bucket,
      key,
      ...(uploadId !== undefined ? { uploadId } : {}),
      created,
      encryption: modeOf(encryption),
      ...(encryption.sseC ? { sseCKeyCheck: sseCKeyCheck(encryption.sseC) } : {}),
      ...(plan.sealing ? { header: Buffer.from(plan.sealing.prefix).toString('base64') } : {}),
      plan: { partSize, size: source.size, sealedSize: total, parts: plan.parts },
      source,
      parts: [...skipped],
    };
  }
  /** A journal without an upload ID is on disk: the Create failed or its ID could not be recorded. */
  let unrecorded = false;
  const multipart = runMultipart({
    client,
    createParams: { Bucket: bucket, Key: key, ...context.fields, ...encryption.sseC },
    sseC: encryption.sseC,
    queueSize: context.queueSize,
    signal: options.signal,
    existing:
      plan.existing === undefined
        ? undefined
        : {
            uploadId: plan.existing.uploadId,
            parts: skipped.map((p): CompletedPart => ({ PartNumber: p.number, ETag: p.etag })),
          },
    // the journal is written before the Create, without an upload ID, so that a run killed before
    // it records the ID leaves a trace the next run follows (see abortUnrecorded)
    beforeCreate: async () => {
      await writer.write(journalOf(undefined));
      unrecorded = true;
    },
    onUploadId: async (uploadId) => {
      journal = journalOf(uploadId);
      await writer.write(journal).catch((err) => {
        journal = undefined;
        throw err;
      });
      unrecorded = false;
    },
    next: async () => {
      const n = missing.shift();
      if (n === undefined) return undefined;
      const [start, end] = partBounds(n);
      let body = free.pop();
      if (body === undefined || body.length !== end - start) body = new Uint8Array(end - start);
      await maker.make(start, end, body);
      if (n === 1 && encryption.sseC) partOneDigest = partOneBytesDigest(encryption.sseC, body);
      return { partNumber: n, body };
    },
    onPartCompleted: async ({ partNumber, etag, size }) => {
      const [start, end] = partBounds(partNumber);
      const check =
        partNumber === 1 && encryption.sseC && partOneDigest
          ? { check: partOneCheck(encryption.sseC, journal!.uploadId, etag, partOneDigest) }
          : {};
      journal!.parts.push({
        number: partNumber,
        etag,
        size,
        plaintext: maker.plaintextRange(start, end),
        ...check,
      });
      await writer.write(journal!);
    },
    onPartDone: (size) => {
      loaded += size;
      options.onProgress?.({ loaded, total });
    },
    onPartStored: (body) => free.push(body),
    beforeComplete: async () => {
      // the parts were read over minutes or hours: the object is completed only if the file stayed the same
      const now = await fingerprint(file, source.path);
      const changed = sourceDifference(source, now);
      if (changed !== undefined) {
        throw new SosError(
          'SOURCE_CHANGED',
          `${source.path} changed while it was being uploaded: ${changed}`,
        );
      }
    },
    // kept once a journal records it (a continued upload has one already): an upload nothing can
    // resume is aborted as usual
    keepOnFailure: (uploadId, err) =>
      journal === undefined && plan.existing === undefined
        ? undefined
        : new UploadResumableError({ bucket, key, uploadId, journal: writer.path }, err),
    ...checkPartOf(encryption, bucket, key),
  });
  const result = await multipart.catch(async (err: unknown) => {
    // the upload was aborted (no ID was recorded, see keepOnFailure) or never created: the journal
    // written before the Create has nothing left to tell
    if (unrecorded) await writer.remove().catch(() => {});
    throw err;
  });
  await writer.remove();
  if (result.parts > 0) await applyTags(options, result.versionId);
  const resumed: ResumedUpload | undefined =
    plan.existing === undefined
      ? undefined
      : { partsSkipped: skipped.length, bytesSkipped, bytesResent: plan.existing.resent };
  return {
    size: total,
    plaintextSize: source.size,
    etag: result.etag,
    versionId: result.versionId,
    partSize,
    ...(resumed ? { resumed } : {}),
  };
}

/** The plan of a new upload: a new header (client-side), the part size from the size alone. */
async function freshPlan(
  options: PutObjectOptions,
  size: number,
  encryption: ResolvedEncryption,
  file: FileHandle,
): Promise<Plan> {
  const clientSide = encryption.clientSide;
  if (clientSide === undefined) {
    const partSize = choosePartSize(size, options.partSize);
    return {
      maker: fileMaker(file, size),
      partSize,
      parts: partCount(size, partSize),
      sealing: undefined,
      existing: undefined,
    };
  }
  const sealing = await createResumableSealing(
    { recipients: recipientsOf(clientSide), identity: identityFor(clientSide, options.bucket, options.key) },
    size,
  );
  // from the largest header, as putObject does: the part size depends on the file's size only
  const partSize = choosePartSize(ciphertextSize(size, MAX_HEADER_LENGTH), options.partSize);
  return {
    maker: sealedMaker(file, sealing),
    partSize,
    parts: partCount(sealing.sealedSize, partSize),
    sealing,
    existing: undefined,
  };
}

/** A journal to continue, and the call that continues it. */
interface ResumeCall {
  options: PutObjectOptions;
  journal: Journal;
  journalPath: string;
  /** The file as it is now. */
  source: SourceFingerprint;
  encryption: ResolvedEncryption;
  file: FileHandle;
}

/**
 * Checks a journal against the call, the file, the keys and the server.
 * @returns The plan that continues it; a fresh plan when the server no longer knows the upload;
 *   or the result, when the upload turns out to have completed (the journal outlived it).
 */
async function continuePlan(
  call: ResumeCall,
): Promise<{ kind: 'plan'; plan: Plan | undefined } | { kind: 'completed'; result: PutObjectResult }> {
  const { options, journal, journalPath, encryption } = call;
  const { client, bucket, key } = options;
  if (journal.bucket !== bucket || journal.key !== key) {
    throw new SosError(
      'JOURNAL_INVALID',
      `the upload journal ${journalPath} is for ${journal.bucket}/${journal.key}, not ${bucket}/${key}: use another journal path, or pass restart to abandon that upload`,
    );
  }
  if (journal.plan.size !== journal.source.size) {
    throw new SosError(
      'JOURNAL_INVALID',
      `the upload journal ${journalPath} does not match its own source size`,
    );
  }
  // the store first: an upload it no longer knows (aborted by hand or by a lifecycle rule, or
  // completed) is started over whatever the journal says of the file and the keys, since nothing of
  // it is left to continue; only an upload found completed needs the same file and keys to be taken
  // as this call's result
  const listed = await listParts(client, journal, sseCFor(journal, encryption), options.signal);
  let checked: { maker: PartMaker; sealing: ResumableSealing | undefined };
  try {
    checked = await checkAgainstCall(call);
  } catch (err) {
    if (listed !== undefined || !isSosError(err)) throw err;
    await removeJournal(journalPath);
    return { kind: 'plan', plan: undefined };
  }
  const { maker, sealing } = checked;
  if (listed === undefined) {
    // the server no longer knows the upload: completed after all, or aborted (by hand, by a lifecycle rule)
    const completed = await completedObject(client, journal, encryption.sseC, options.signal);
    if (completed !== undefined) {
      options.resume?.onResume?.({
        uploadId: journal.uploadId,
        partsSkipped: journal.plan.parts,
        bytesSkipped: journal.plan.sealedSize,
        partsTotal: journal.plan.parts,
      });
      return {
        kind: 'completed',
        result: {
          size: journal.plan.sealedSize,
          plaintextSize: journal.plan.size,
          etag: completed.etag,
          versionId: completed.versionId,
          partSize: journal.plan.partSize,
          resumed: {
            partsSkipped: journal.plan.parts,
            bytesSkipped: journal.plan.sealedSize,
            bytesResent: 0,
          },
        },
      };
    }
    await removeJournal(journalPath);
    return { kind: 'plan', plan: undefined };
  }
  // trust a part when the server and the journal agree on it and it has the size the plan gives its
  // number (a journal edited or damaged into another plan would otherwise complete an object from
  // parts that do not fit together), or when the server holds exactly the bytes the part must have
  // (stored but not journaled: interrupted between the answer and the journal write, or the answer lost)
  const trusted: JournalPart[] = [];
  let resent = 0;
  const bounds = (n: number): [number, number] => [
    (n - 1) * journal.plan.partSize,
    Math.min(n * journal.plan.partSize, journal.plan.sealedSize),
  ];
  for (const part of journal.parts) {
    const server = listed.get(part.number);
    const [start, end] = bounds(part.number);
    if (
      server !== undefined &&
      server.ETag === part.etag &&
      server.Size === part.size &&
      part.size === end - start
    )
      trusted.push(part);
  }
  for (const [number, server] of listed) {
    if (trusted.some((p) => p.number === number) || number > journal.plan.parts) continue;
    const [start, end] = bounds(number);
    if (server.Size === end - start && server.ETag !== undefined) {
      const bytes = new Uint8Array(end - start);
      await maker.make(start, end, bytes);
      if (md5Etag(bytes) === server.ETag) {
        trusted.push({
          number,
          etag: server.ETag,
          size: bytes.length,
          plaintext: maker.plaintextRange(start, end),
        });
        continue;
      }
    }
    resent += server.Size ?? 0;
  }
  for (const part of journal.parts) {
    if (!listed.has(part.number)) resent += part.size;
  }
  await checkPartOne(journal, journalPath, listed, trusted, maker, encryption);
  return {
    kind: 'plan',
    plan: {
      maker,
      partSize: journal.plan.partSize,
      parts: journal.plan.parts,
      sealing,
      existing: { uploadId: journal.uploadId, created: journal.created, parts: trusted, resent },
    },
  };
}

/**
 * Checks that part 1 on the store is the one the journal describes, when it is kept: the parts
 * still to send are made from the journal (its header, client-side; the file as it is, without
 * encryption), and from a journal edited (another mode, say) or given another upload's header
 * under the same keys, the completed object would be parts that do not belong together (sealed
 * under two data keys, or sealed bytes then plaintext). Part 1 is made again and its MD5 compared
 * with the store's ETag. With SSE-C the ETag is no MD5 of those bytes: the journal's part 1 then
 * carries a check of them keyed by the SSE-C key and bound to the upload and the ETag
 * ({@link partOneCheck}), which whoever edits the journal cannot make without the key.
 * @throws {SosError} `JOURNAL_INVALID` when they differ, or an SSE-C part 1 has no check.
 */
async function checkPartOne(
  journal: Journal,
  journalPath: string,
  listed: Map<number, Part>,
  trusted: JournalPart[],
  maker: PartMaker,
  encryption: ResolvedEncryption,
): Promise<void> {
  const stored = listed.get(1);
  if (stored === undefined || !trusted.some((p) => p.number === 1)) return;
  const end = Math.min(journal.plan.partSize, journal.plan.sealedSize);
  const bytes = new Uint8Array(end);
  await maker.make(0, end, bytes);
  // the store's ETag is these bytes' MD5 (always without SSE-C, by chance with it): they are part 1
  if (md5Etag(bytes) === stored.ETag) return;
  const sseC = encryption.sseC;
  const journaled = journal.parts.find((p) => p.number === 1);
  if (
    sseC !== undefined &&
    journaled?.check !== undefined &&
    stored.ETag !== undefined &&
    journaled.check === partOneCheck(sseC, journal.uploadId, stored.ETag, partOneBytesDigest(sseC, bytes))
  )
    return;
  throw new SosError(
    'JOURNAL_INVALID',
    `the upload journal ${journalPath} does not describe part 1 of upload ${journal.uploadId} as the store holds it (${journal.encryption === 'none' || journal.encryption === 'sse-c' ? "the file's first bytes" : 'its header'} differ: edited, or copied from another upload): the parts still to send would not belong with it. Pass restart to abandon that upload and start over`,
  );
}

/**
 * Checks a journal against this call: the same file, the same encryption mode and keys.
 * @returns What makes the parts of the journaled upload.
 * @throws {SosError} `SOURCE_CHANGED`, `RESUME_KEY_MISMATCH`, `JOURNAL_INVALID`.
 */
async function checkAgainstCall(
  call: ResumeCall,
): Promise<{ maker: PartMaker; sealing: ResumableSealing | undefined }> {
  const { options, journal, journalPath, source, encryption, file } = call;
  const { bucket, key } = options;
  const changed = sourceDifference(journal.source, source);
  if (changed !== undefined) {
    throw new SosError(
      'SOURCE_CHANGED',
      `${source.path} is not the file the interrupted upload of ${bucket}/${key} was reading: ${changed}. ` +
        `Pass restart to abandon that upload (upload ID ${journal.uploadId}) and start over`,
    );
  }
  const mode = modeOf(encryption);
  if (journal.encryption !== mode) {
    throw new SosError(
      'RESUME_KEY_MISMATCH',
      `the interrupted upload of ${bucket}/${key} used encryption "${journal.encryption}", this call asks for "${mode}": resume it with the same encryption, or pass restart`,
    );
  }
  if (encryption.sseC && journal.sseCKeyCheck !== sseCKeyCheck(encryption.sseC)) {
    throw new SosError(
      'RESUME_KEY_MISMATCH',
      `the interrupted upload of ${bucket}/${key} used another SSE-C key: resume it with the same key, or pass restart`,
    );
  }
  let maker: PartMaker;
  let sealing: ResumableSealing | undefined;
  if (encryption.clientSide) {
    sealing = await reopenHeader(journal, journalPath, encryption, options);
    if (sealing.sealedSize !== journal.plan.sealedSize) {
      throw new SosError(
        'JOURNAL_INVALID',
        `the upload journal ${journalPath} does not match its own header (sealed size)`,
      );
    }
    maker = sealedMaker(file, sealing);
  } else {
    if (journal.plan.sealedSize !== source.size) {
      throw new SosError(
        'JOURNAL_INVALID',
        `the upload journal ${journalPath} does not match its file's size`,
      );
    }
    maker = fileMaker(file, source.size);
  }
  return { maker, sealing };
}

/**
 * The SSE-C parameters to list the journaled upload's parts with: the caller's, when they are the
 * upload's (a store may want them), else none (the listing only asks whether the upload exists).
 */
function sseCFor(journal: Journal, encryption: ResolvedEncryption): SseCParams | undefined {
  const sseC = encryption.sseC;
  return sseC !== undefined && journal.sseCKeyCheck === sseCKeyCheck(sseC) ? sseC : undefined;
}

/** Opens the journaled header with the caller's keys: only someone who can read the object continues it. */
async function reopenHeader(
  journal: Journal,
  journalPath: string,
  encryption: ResolvedEncryption,
  options: PutObjectOptions,
): Promise<ResumableSealing> {
  const clientSide = encryption.clientSide!;
  try {
    return await resumeSealing(Buffer.from(journal.header!, 'base64'), {
      keys: clientSide.keys,
      identity: identityFor(clientSide, options.bucket, options.key),
      ...(clientSide.maxWorkFactor !== undefined ? { maxWorkFactor: clientSide.maxWorkFactor } : {}),
      size: journal.plan.size,
    });
  } catch (err) {
    if (isSealstreamError(err, 'NO_MATCHING_KEY') || isSealstreamError(err, 'IDENTITY_MISMATCH')) {
      throw new SosError(
        'RESUME_KEY_MISMATCH',
        `the keys given do not open the header of the interrupted upload of ${options.bucket}/${options.key} (${(err as Error).message}). ` +
          'Resume with a key it was encrypted for (for a public-key recipient, its private key), or pass restart',
        { cause: err },
      );
    }
    if (isSealstreamError(err, 'WORK_FACTOR_TOO_HIGH')) throw err;
    throw new SosError(
      'JOURNAL_INVALID',
      `the header in the upload journal ${journalPath} is not valid: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * The parts the server holds for the journaled upload (every page of ListParts, `pageSize` parts each).
 * @returns `undefined` when the server does not know the upload (NoSuchUpload).
 */
export async function listParts(
  client: S3Client,
  journal: Pick<Journal, 'bucket' | 'key' | 'uploadId'>,
  sseC: SseCParams | undefined,
  signal: AbortSignal | undefined,
  pageSize = 1000,
): Promise<Map<number, Part> | undefined> {
  const parts = new Map<number, Part>();
  let marker: string | undefined;
  for (;;) {
    let out: ListPartsCommandOutput;
    try {
      out = await client.send(
        new ListPartsCommand({
          Bucket: journal.bucket,
          Key: journal.key,
          UploadId: journal.uploadId,
          MaxParts: pageSize,
          ...(marker !== undefined ? { PartNumberMarker: marker } : {}),
          ...sseC,
        }),
        signal ? { abortSignal: signal } : {},
      );
    } catch (err) {
      // NoSuchUpload (AWS); Ceph RGW answers NoSuchKey for an upload it no longer has
      if (httpStatus(err) === 404 && (err as { name?: string }).name !== 'NoSuchBucket') return undefined;
      throw mapTransportError(
        err,
        `list the parts of upload ${journal.uploadId} of ${journal.bucket}/${journal.key}`,
      );
    }
    for (const part of out.Parts ?? []) if (part.PartNumber !== undefined) parts.set(part.PartNumber, part);
    if (!out.IsTruncated) return parts;
    if (out.NextPartNumberMarker === undefined || out.NextPartNumberMarker === marker) {
      throw new SosError(
        'SERVER_FAULT',
        `the store's part list of upload ${journal.uploadId} does not advance`,
      );
    }
    marker = out.NextPartNumberMarker;
  }
}

/**
 * When the journal lists every part, the upload may have completed with the journal still there
 * (interrupted during or right after the completion): the object then has the multipart ETag of
 * exactly those parts and the planned size.
 */
async function completedObject(
  client: S3Client,
  journal: Journal,
  sseC: SseCParams | undefined,
  signal: AbortSignal | undefined,
): Promise<{ etag: string; versionId: string | undefined } | undefined> {
  if (journal.parts.length !== journal.plan.parts) return undefined;
  const sorted = [...journal.parts].sort((a, b) => a.number - b.number);
  const expected = multipartEtag(sorted.map((p) => p.etag));
  if (expected === undefined) return undefined;
  try {
    const out = await client.send(
      new HeadObjectCommand({ Bucket: journal.bucket, Key: journal.key, ...sseC }),
      signal ? { abortSignal: signal } : {},
    );
    if (out.ETag === expected && out.ContentLength === journal.plan.sealedSize) {
      return { etag: out.ETag, versionId: out.VersionId };
    }
  } catch (err) {
    const status = httpStatus(err);
    if (status !== 404 && status !== 400 && status !== 403)
      throw mapTransportError(err, `head ${journal.bucket}/${journal.key}`);
  }
  return undefined;
}

/**
 * How long after a journal's creation time the upload its CreateMultipartUpload made can have
 * started: the Create is sent right after that journal is written, and its retries are over
 * within this (the tolerated clock skew is added on both sides).
 */
const CREATE_WINDOW_MS = 2 * 60_000;

/**
 * Aborts the upload (or uploads, if the Create was retried) that a run killed before recording its
 * upload ID may have left: those of the journal's key started between the journal's creation and
 * {@link CREATE_WINDOW_MS} later. Another writer's upload of the same key started in that window
 * would be aborted too. Then removes the journal.
 * @throws {SosError} the listing's error, mapped (`TIMEOUT`, `SERVER_FAULT`, ...): the journal is
 *   kept, so a later run tries again.
 */
async function abortUnrecorded(
  client: S3Client,
  journal: JournalBeforeCreate,
  journalPath: string,
): Promise<void> {
  const from = Date.parse(journal.created);
  if (Number.isFinite(from)) {
    try {
      await abortUploadsStartedIn(client, {
        bucket: journal.bucket,
        key: journal.key,
        window: { from, to: from + CREATE_WINDOW_MS },
      });
    } catch (err) {
      throw mapTransportError(
        err,
        `look for the upload of ${journal.bucket}/${journal.key} that an interrupted run started (journal ${journalPath})`,
      );
    }
  }
  await removeJournal(journalPath);
}

/** Aborts the journaled upload (one already gone is fine) and removes the journal. */
async function abandon(client: S3Client, journal: Journal, journalPath: string): Promise<void> {
  try {
    await client.send(
      new AbortMultipartUploadCommand({
        Bucket: journal.bucket,
        Key: journal.key,
        UploadId: journal.uploadId,
      }),
      cleanupSendOptions(client),
    );
  } catch (err) {
    if (httpStatus(err) !== 404) {
      throw mapTransportError(
        err,
        `abort the journaled upload ${journal.uploadId} of ${journal.bucket}/${journal.key}`,
      );
    }
  }
  await removeJournal(journalPath);
}

async function openSource(path: string): Promise<FileHandle> {
  await statRegularFile(
    path,
    () =>
      new SosError(
        'NOT_RESUMABLE',
        `"body" ${path} is not a regular file (a pipe, a device, a directory): it cannot be read again from an offset`,
      ),
  );
  try {
    return await open(path, 'r');
  } catch (cause) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"body" file ${path} cannot be read: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** Parts of the file as it is (no client-side layer). */
function fileMaker(file: FileHandle, size: number): PartMaker {
  return {
    sealedSize: size,
    make: async (start, end, out) => {
      await readAt(file, start, end - start, out);
    },
    plaintextRange: (start, end) => [start, end],
  };
}

/** Parts of the sealed object, re-sealed from the file. */
function sealedMaker(file: FileHandle, sealing: ResumableSealing): PartMaker {
  return {
    sealedSize: sealing.sealedSize,
    make: (start, end, out) =>
      sealing.sealRange(start, end, out, async (offset, into) => {
        await readAt(file, offset, into.length, into);
      }),
    plaintextRange: (start, end) => {
      const r = sealing.plaintextRange(start, end);
      return [r.start, r.end];
    },
  };
}

function partCount(size: number, partSize: number): number {
  return Math.max(1, Math.ceil(size / partSize));
}

function modeOf(encryption: ResolvedEncryption): JournalEncryption {
  if (encryption.clientSide && encryption.sseC) return 'both';
  if (encryption.clientSide) return 'client-side';
  return encryption.sseC ? 'sse-c' : 'none';
}

/** HKDF info of the SSE-C key check: domain separation from every other use of the key. */
const SSE_C_CHECK_INFO = 'sealstream resume journal: SSE-C key check v1';

/**
 * A one-way check of an SSE-C key for the journal: HKDF-SHA256 of the 256-bit key under its own
 * label, 128 bits. It tells whether a later call uses the same key without revealing it, and a
 * 256-bit random key cannot be guessed from it (unlike a passphrase, which SSE-C does not take).
 */
function sseCKeyCheck(sseC: SseCParams): string {
  const key = Buffer.from(sseC.SSECustomerKey, 'base64');
  return Buffer.from(hkdfSync('sha256', key, new Uint8Array(0), SSE_C_CHECK_INFO, 16)).toString('hex');
}

/** HKDF info of the key of part 1's check: domain separation from every other use of the SSE-C key. */
const PART_ONE_CHECK_INFO = 'sealstream resume journal: SSE-C part 1 check v1';

/** HMAC-SHA256 of part 1's bytes under a key derived from the SSE-C key. */
function partOneBytesDigest(sseC: SseCParams, bytes: Uint8Array): Buffer {
  return createHmac('sha256', partOneCheckKey(sseC)).update(bytes).digest();
}

function partOneCheckKey(sseC: SseCParams): Buffer {
  const key = Buffer.from(sseC.SSECustomerKey, 'base64');
  return Buffer.from(hkdfSync('sha256', key, new Uint8Array(0), PART_ONE_CHECK_INFO, 32));
}

/**
 * The journal's check of an SSE-C part 1 (whose ETag is no MD5 of its bytes): its bytes' digest
 * ({@link partOneBytesDigest}) bound to the upload ID and the ETag the store gave it, 128 bits, hex.
 * Made again on a resume from the part made again: a journal edited into another mode, or given
 * another upload's header or check, does not give the same.
 */
function partOneCheck(sseC: SseCParams, uploadId: string, etag: string, digest: Uint8Array): string {
  const bound = createHmac('sha256', partOneCheckKey(sseC)).update(`${uploadId}\n${etag}\n`).update(digest);
  return bound.digest().subarray(0, 16).toString('hex');
}

function checkPartOf(encryption: ResolvedEncryption, bucket: string, key: string) {
  return encryption.sseC
    ? {
        checkPart: (out: Parameters<typeof assertSseCApplied>[0]) =>
          assertSseCApplied(out, encryption.sseC!, `put ${bucket}/${key}`),
      }
    : {};
}
