/** Incomplete multipart uploads made and cleared by tests (the sos tests and the CLI's). */
import { randomBytes } from 'node:crypto';
import { CreateMultipartUploadCommand, type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { abortIncompleteUpload, listIncompleteUploads } from '../src/index.ts';

/** Starts an upload of `key` and stores parts of the given sizes (random bytes); returns its ID. */
export async function startUpload(
  client: S3Client,
  bucket: string,
  key: string,
  partSizes: number[],
  extra: object = {},
): Promise<string> {
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...extra }),
  );
  for (const [i, size] of partSizes.entries()) {
    await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: i + 1,
        Body: randomBytes(size),
        ...extra,
      }),
    );
  }
  return UploadId!;
}

/** Aborts every incomplete upload of a bucket, so it can be deleted. */
export async function abortAllUploads(client: S3Client, bucket: string): Promise<void> {
  for (const u of await listIncompleteUploads({ client, bucket }))
    await abortIncompleteUpload({ client, bucket, key: u.key, uploadId: u.uploadId });
}
