/**
 * An SSE-C resume whose journal was edited must not complete an object from parts that do not
 * belong together. RGW's ETag of an SSE-C part is the MD5 of the bytes sent, AWS's is not: so the
 * journal keeps a check of part 1 keyed by the SSE-C key, made again on the resume. Against the
 * real RGW as it answers, and through a client that makes its part ETags look like AWS's.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Encryption, getObject, putObject } from '../src/index.ts';
import type { Journal } from '../src/resume/journal.ts';
import {
  codeOf,
  collect,
  editJournalUnsealed,
  interruptedUpload,
  sameBytes,
  scratchDir,
  testClient,
  useTestBucket,
} from './helpers.ts';

const MiB = 1024 * 1024;
let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

/** The hex digits of an ETag reversed: still 32 hex digits, no longer the MD5 of the part. */
const unlikeMd5 = (etag: string | undefined) =>
  etag === undefined ? undefined : `"${[...etag.replace(/"/g, '')].reverse().join('')}"`;

/**
 * A client of the RGW whose part ETags are not the MD5 of the parts' bytes, as AWS's SSE-C ETags
 * are not: changed in UploadPart's and ListParts' answers, changed back in the completion.
 */
function awsLikeClient(): S3Client {
  const c = testClient();
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { MultipartUpload?: { Parts?: { ETag?: string }[] } };
      if (context.commandName === 'CompleteMultipartUploadCommand') {
        for (const part of input.MultipartUpload?.Parts ?? []) part.ETag = unlikeMd5(part.ETag);
      }
      const result = await next(args);
      const output = result.output as { ETag?: string; Parts?: { ETag?: string }[] };
      if (context.commandName === 'UploadPartCommand') output.ETag = unlikeMd5(output.ETag);
      if (context.commandName === 'ListPartsCommand') {
        for (const part of output.Parts ?? []) part.ETag = unlikeMd5(part.ETag);
      }
      return result;
    },
    { step: 'initialize', name: 'awsLikeEtags' },
  );
  return c;
}

const stores: [string, () => S3Client][] = [
  ['RGW: part ETags are MD5s', () => client],
  ['part ETags are not MD5s, as on AWS', awsLikeClient],
];
const dir = scratchDir('resume-sse-c-tampered');
const sseKey = generateKey();
const clientKey = generateKey();
const both: Encryption = { clientSide: { keys: clientKey }, sseC: { key: sseKey } };
const sseOnly: Encryption = { sseC: { key: sseKey } };

/** A first attempt of `key` from `path`, interrupted once part 1 is stored: its journal. */
const interrupted = (key: string, path: string, encryption: Encryption) =>
  interruptedUpload({ client: store(), bucket, key, path, encryption, dir });

function source(name: string): { path: string; data: Uint8Array } {
  const path = join(dir, name);
  const data = new Uint8Array(randomBytes(12 * MiB));
  writeFileSync(path, data);
  return { path, data };
}

const read = (j: string) => JSON.parse(readFileSync(j, 'utf8')) as Journal;

/** Restarts the upload and checks that it then reads back exactly. */
async function restartAndCheck(
  key: string,
  path: string,
  data: Uint8Array,
  journal: string,
  encryption: Encryption,
) {
  await putObject({
    client: store(),
    bucket,
    key,
    body: path,
    encryption,
    resume: { journal, restart: true },
  });
  const got = await collect((await getObject({ client, bucket, key, encryption })).body);
  expect(sameBytes(got, data)).toBe(true);
}

let store: () => S3Client = () => client;

describe.each(stores)('SSE-C resume with an edited journal (%s)', { timeout: 120_000 }, (label, make) => {
  const name = (n: string) => `${label.slice(0, 3).toLowerCase()}-${n}`;
  beforeAll(() => {
    store = make;
  });

  it('part 1 of the journal carries a check (never the key), and an honest resume completes', async () => {
    const { path, data } = source('honest.bin');
    const journal = await interrupted(name('honest'), path, both);
    const j = read(journal);
    expect(j.parts.find((p) => p.number === 1)?.check).toMatch(/^[0-9a-f]{32}$/);
    const out = await putObject({
      client: store(),
      bucket,
      key: name('honest'),
      body: path,
      encryption: both,
      resume: { journal },
    });
    expect(out.resumed?.partsSkipped).toBe(1);
    const got = await collect(
      (await getObject({ client, bucket, key: name('honest'), encryption: both })).body,
    );
    expect(sameBytes(got, data)).toBe(true);
  });

  it("another upload's header under the same keys (both layers): JOURNAL_INVALID (was: completed, undecryptable past part 1)", async () => {
    const { path, data } = source('swap.bin');
    const journalA = await interrupted(name('swap-a'), path, both);
    const journalB = await interrupted(name('swap-b'), path, both);
    const a = read(journalA);
    const b = read(journalB);
    expect(a.header).not.toBe(b.header);
    // the header and part 1's check of B: the check is bound to B's upload, so it does not fit A's
    const checkB = b.parts.find((p) => p.number === 1)?.check;
    for (const edit of [
      { ...a, header: b.header },
      { ...a, header: b.header, parts: a.parts.map((p) => (p.number === 1 ? { ...p, check: checkB } : p)) },
    ]) {
      writeFileSync(journalA, JSON.stringify(edit));
      const outcome = await codeOf(
        putObject({
          client: store(),
          bucket,
          key: name('swap-a'),
          body: path,
          encryption: both,
          resume: { journal: journalA },
        }),
      );
      expect(outcome).toBe('JOURNAL_INVALID');
    }
    await restartAndCheck(name('swap-a'), path, data, journalA, both);
    await restartAndCheck(name('swap-b'), path, data, journalB, both);
  });

  it('a journal of both layers edited to say SSE-C only: JOURNAL_INVALID (was: completed, sealed part 1 then plaintext)', async () => {
    const { path, data } = source('mode.bin');
    const journal = await interrupted(name('mode'), path, both);
    editJournalUnsealed(journal, 'sse-c');
    const outcome = await codeOf(
      putObject({
        client: store(),
        bucket,
        key: name('mode'),
        body: path,
        encryption: sseOnly,
        resume: { journal },
      }),
    );
    expect(outcome).toBe('JOURNAL_INVALID');
    // the upload is kept for the right call (nothing was completed) until restart abandons it
    const open = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: name('mode') }));
    expect(open.Uploads ?? []).toHaveLength(1);
    await restartAndCheck(name('mode'), path, data, journal, sseOnly);
  });

  it("part 1's check removed from the journal: an ETag that is the part's MD5 still proves it, else JOURNAL_INVALID", async () => {
    const { path, data } = source('nocheck.bin');
    const journal = await interrupted(name('nocheck'), path, sseOnly);
    const j = read(journal);
    writeFileSync(journal, JSON.stringify({ ...j, parts: j.parts.map(({ check: _check, ...p }) => p) }));
    const outcome = await codeOf(
      putObject({
        client: store(),
        bucket,
        key: name('nocheck'),
        body: path,
        encryption: sseOnly,
        resume: { journal },
      }),
    );
    // RGW's ETag is the MD5 of part 1 as made again: proof enough that it is this part 1
    expect(outcome).toBe(label.startsWith('RGW') ? undefined : 'JOURNAL_INVALID');
    await restartAndCheck(name('nocheck'), path, data, journal, sseOnly);
  });
});
