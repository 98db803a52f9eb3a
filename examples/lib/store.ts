/**
 * What the examples (and `scripts/demo.ts`) need to reach a store: a client from the environment
 * and a throw-away bucket. Re-exports the transport so that scripts outside this workspace
 * package reach it too.
 * @module
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createSosClient } from '@sealstream/sos';

export * from '@sealstream/sos';

/** The endpoint in the environment: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, or the local server's `S3_ENDPOINT`. */
export function endpointFromEnv(): string | undefined {
  const env = process.env;
  return env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || env.S3_ENDPOINT || undefined;
}

/**
 * A client for the store named by the environment; credentials and `AWS_CA_BUNDLE` as the AWS
 * SDK and `createSosClient` read them.
 * @throws {Error} when no endpoint is set.
 */
export function clientFromEnv(): S3Client {
  const endpoint = endpointFromEnv();
  if (!endpoint) {
    throw new Error(
      'set AWS_ENDPOINT_URL_S3 (and AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_CA_BUNDLE if needed)',
    );
  }
  return createSosClient({ endpoint });
}

/** Creates a bucket with a fresh name; `remove()` empties and deletes it. */
export async function temporaryBucket(
  client: S3Client,
  prefix = 'sealstream-example',
): Promise<{ bucket: string; remove: () => Promise<void> }> {
  const bucket = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    bucket,
    remove: async () => {
      const list = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      for (const o of list.Contents ?? [])
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    },
  };
}
export type { S3Client } from '@aws-sdk/client-s3';
