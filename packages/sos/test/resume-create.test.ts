/**
 * A resumable upload whose process is killed between CreateMultipartUpload and the journal write
 * that records the upload's ID (against the real RGW, the child killed with SIGKILL the moment the
 * store's answer arrives): the journal written before the Create leads the next run to the upload
 * the killed one left, which is aborted; nothing is stranded.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { decrypt, generateKey } from '@sealstream/core';
import { expect, inject, it } from 'vitest';
import { putObject } from '../src/index.ts';
import { collect, scratchDir, useTestBucket } from './helpers.ts';

const MiB = 1024 * 1024;
const CHILD = join(import.meta.dirname, 'support', 'killed-after-create.ts');

let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

const dir = scratchDir('resume-create');

async function uploadsOf(key: string): Promise<string[]> {
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  return (out.Uploads ?? []).filter((u) => u.Key === key).map((u) => u.UploadId!);
}

/** Runs the child until it is killed; resolves with the signal that ended it. */
function runKilledChild(args: string[]): Promise<string | null> {
  const s3 = inject('s3');
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--conditions=sealstream-src', '--import', 'tsx', CHILD, ...args],
      {
        env: {
          ...process.env,
          S3_ENDPOINT: s3.endpoint,
          AWS_ACCESS_KEY_ID: s3.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
          AWS_REGION: s3.region,
          AWS_CA_BUNDLE: s3.caFile,
        },
        timeout: 120_000,
      },
      () => resolve(child.signalCode),
    );
  });
}

it('killed between CreateMultipartUpload and the journal of its ID: the next run aborts the stranded upload and uploads', async () => {
  const data = new Uint8Array(randomBytes(11 * MiB + 7));
  const path = join(dir, 'source.bin');
  writeFileSync(path, data);
  const journal = join(dir, 'source.journal');
  const key = 'killed-after-create';
  const clientKey = generateKey();
  // an upload of another key sharing the prefix: not the killed run's, left alone
  const neighbour = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${key}-2` }));

  const signal = await runKilledChild([path, journal, bucket, key, Buffer.from(clientKey).toString('hex')]);
  expect(signal).toBe('SIGKILL');
  const stranded = await uploadsOf(key);
  expect(stranded, 'the killed run left its upload').toHaveLength(1);
  expect(existsSync(journal), 'a journal was written before the Create').toBe(true);
  expect(JSON.parse(readFileSync(journal, 'utf8')).uploadId).toBeUndefined();

  const out = await putObject({
    client,
    bucket,
    key,
    body: path,
    encryption: { clientSide: { keys: clientKey } },
    partSize: 5 * MiB,
    resume: { journal },
  });
  expect(out.resumed).toBeUndefined();
  expect(await uploadsOf(key), 'nothing stranded').toEqual([]);
  expect(await uploadsOf(`${key}-2`)).toEqual([neighbour.UploadId]);
  expect(existsSync(journal)).toBe(false);
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const plain = await decrypt(await collect(got.Body!.transformToWebStream()), { keys: clientKey });
  expect(Buffer.compare(plain, data)).toBe(0);
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  await client.send(
    new AbortMultipartUploadCommand({ Bucket: bucket, Key: `${key}-2`, UploadId: neighbour.UploadId }),
  );
}, 180_000);
