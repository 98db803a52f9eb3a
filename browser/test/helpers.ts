/** Node-side helpers of the browser tests. */
import { createHash } from 'node:crypto';
import { GetObjectCommand, type GetObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';

/** SHA-256 of bytes, lowercase hex. */
export const sha256hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The bytes of an object as stored, read in Node (with SSE-C parameters when given). */
export async function storedBytes(
  client: S3Client,
  bucket: string,
  key: string,
  extra: Partial<GetObjectCommandInput> = {},
): Promise<Uint8Array> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...extra }));
  return out.Body!.transformToByteArray();
}
