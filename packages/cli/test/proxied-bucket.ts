/** Set-up shared by the CLI tests that hold a run part-way: a bucket, the TLS proxy, key files. */
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { expect, inject } from 'vitest';
import { freshBucket, testClient } from '../../sos/test/helpers.ts';
import { buildCli, run, tempDir } from './helpers.ts';
import { type S3Proxy, startS3Proxy } from './resume-proxy.ts';

export interface ProxiedBucket {
  client: S3Client;
  bucket: string;
  /** The TLS-terminating proxy in front of the local S3 server (it can hold requests). */
  proxy: S3Proxy;
  /** A scratch folder, holding the key files. */
  dir: string;
  /** Key files made by `sealstream keygen`, by name. */
  keyFiles: Record<string, string>;
  /** Closes the proxy and removes the bucket. */
  close(): Promise<void>;
}

/** Builds the CLI, makes a fresh bucket, starts the proxy and `keygen`s one key file per name. */
export async function proxiedBucket(keyNames: readonly string[]): Promise<ProxiedBucket> {
  buildCli();
  const client = testClient();
  const { bucket, cleanup } = await freshBucket(client);
  const s3 = inject('s3');
  const proxy = await startS3Proxy(s3.endpoint, s3.caFile);
  const dir = tempDir();
  const keyFiles: Record<string, string> = {};
  for (const name of keyNames) {
    keyFiles[name] = join(dir, name);
    expect((await run(['keygen', '-q', '-o', keyFiles[name]!])).code).toBe(0);
  }
  return {
    client,
    bucket,
    proxy,
    dir,
    keyFiles,
    close: async () => {
      await proxy.close();
      await cleanup();
    },
  };
}
