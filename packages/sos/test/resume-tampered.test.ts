/**
 * A resume whose journal was altered (edited, or damaged into other valid JSON) must never
 * complete an object from parts that do not fit together: a journaled part is trusted only when
 * its size is the one the plan gives its number. Against the real RGW over TLS.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { type Encryption, getObject, putObject } from '../src/index.ts';
import type { Journal } from '../src/resume/journal.ts';
import {
  codeOf,
  collect,
  editJournalUnsealed,
  interruptedUpload,
  sameBytes,
  scratchDir,
  useTestBucket,
} from './helpers.ts';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});
const dir = scratchDir('resume-tampered');

/** A first attempt of `key` from `path`, interrupted once part 1 is stored: its journal. */
const interrupted = (key: string, path: string, encryption: Encryption) =>
  interruptedUpload({ client, bucket, key, path, encryption, dir });

const modes: [string, Encryption][] = [
  ['plain', 'none'],
  ['client-side', { clientSide: { keys: generateKey() } }],
];

describe.each(modes)(
  'a journal whose part size was changed after a part was stored (%s)',
  (label, encryption) => {
    it('the stored part no longer fits the plan: sent again, and the object is the exact source (was: completed with a MiB missing)', async () => {
      const key = `tampered-${label}`;
      const path = join(dir, `${label}.bin`);
      const data = new Uint8Array(randomBytes(12 * MiB));
      writeFileSync(path, data);
      const journal = await interrupted(key, path, encryption);
      const j = JSON.parse(readFileSync(journal, 'utf8')) as Journal;
      expect(j.parts.map((p) => p.size)).toEqual([PART]);
      // a consistent-looking plan with 6 MiB parts: part 1 on the server holds only 5 MiB of them
      j.plan.partSize = 6 * MiB;
      j.plan.parts = Math.ceil(j.plan.sealedSize / j.plan.partSize);
      writeFileSync(journal, JSON.stringify(j));
      const out = await putObject({ client, bucket, key, body: path, encryption, resume: { journal } });
      expect(out.size).toBe(j.plan.sealedSize);
      const got =
        encryption === 'none'
          ? await collect(
              (
                await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
              ).Body!.transformToWebStream(),
            )
          : await collect((await getObject({ client, bucket, key, encryption })).body);
      expect(sameBytes(got, data)).toBe(true);
      const open = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
      expect(open.Uploads ?? []).toHaveLength(0);
    });
  },
);

describe('a journal whose header is that of another upload under the same keys (client-side)', () => {
  it('the parts would be sealed under another data key than part 1: JOURNAL_INVALID (was: completed, undecryptable past part 1)', async () => {
    const encryption: Encryption = { clientSide: { keys: generateKey() } };
    const path = join(dir, 'header-swap.bin');
    const data = new Uint8Array(randomBytes(12 * MiB));
    writeFileSync(path, data);
    const journalA = await interrupted('header-a', path, encryption);
    const journalB = await interrupted('header-b', path, encryption);
    const a = JSON.parse(readFileSync(journalA, 'utf8')) as Journal;
    const b = JSON.parse(readFileSync(journalB, 'utf8')) as Journal;
    expect(a.header).not.toBe(b.header);
    writeFileSync(journalA, JSON.stringify({ ...a, header: b.header }));
    const outcome = await codeOf(
      putObject({
        client,
        bucket,
        key: 'header-a',
        body: path,
        encryption,
        resume: { journal: journalA },
      }),
    );
    expect(outcome).toBe('JOURNAL_INVALID');
    // nothing was completed, and restart starts over into an object that decrypts exactly
    await putObject({
      client,
      bucket,
      key: 'header-a',
      body: path,
      encryption,
      resume: { journal: journalA, restart: true },
    });
    const got = await collect((await getObject({ client, bucket, key: 'header-a', encryption })).body);
    expect(sameBytes(got, data)).toBe(true);
    await putObject({
      client,
      bucket,
      key: 'header-b',
      body: path,
      encryption,
      resume: { journal: journalB, restart: true },
    });
  });
});

describe('a client-side journal edited to say "none"', () => {
  it('resumed without encryption: JOURNAL_INVALID, not an object of sealed part 1 and plaintext after (was: completed, a mix)', async () => {
    const path = join(dir, 'mode-edit.bin');
    const data = new Uint8Array(randomBytes(12 * MiB));
    writeFileSync(path, data);
    const journal = await interrupted('mode-edit', path, { clientSide: { keys: generateKey() } });
    editJournalUnsealed(journal, 'none');
    const outcome = await codeOf(
      putObject({
        client,
        bucket,
        key: 'mode-edit',
        body: path,
        encryption: 'none',
        resume: { journal },
      }),
    );
    expect(outcome).toBe('JOURNAL_INVALID');
    await putObject({
      client,
      bucket,
      key: 'mode-edit',
      body: path,
      encryption: 'none',
      resume: { journal, restart: true },
    });
    const got = await collect(
      (
        await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'mode-edit' }))
      ).Body!.transformToWebStream(),
    );
    expect(sameBytes(got, data)).toBe(true);
  });
});
