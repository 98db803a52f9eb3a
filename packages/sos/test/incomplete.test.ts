/** Incomplete multipart uploads: listed with their parts and sizes, page by page, and aborted; against the real RGW. */
import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  abortIncompleteUpload,
  incompleteUploadPages,
  listIncompleteUploads,
  sseCParams,
} from '../src/index.ts';
import { codeOf, openUploads, testClient, useTestBucket } from './helpers.ts';
import { startUpload as startUploadIn } from './incomplete-helpers.ts';

let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

const MiB = 1024 * 1024;

function startUpload(key: string, partSizes: number[], extra: object = {}): Promise<string> {
  return startUploadIn(client, bucket, key, partSizes, extra);
}

/** A client whose listings return at most `n` entries a page, so paging is exercised with few uploads. */
function pagingClient(n: number): S3Client {
  const c = testClient();
  c.middlewareStack.add(
    (next, context) => (args) => {
      const input = args.input as Record<string, unknown>;
      if (context.commandName === 'ListMultipartUploadsCommand') input.MaxUploads = n;
      if (context.commandName === 'ListPartsCommand') input.MaxParts = n;
      return next(args);
    },
    { step: 'initialize', name: 'smallPages' },
  );
  return c;
}

describe('listIncompleteUploads', () => {
  it('lists every upload under a prefix with its parts and bytes, and abort removes it', async () => {
    const a1 = await startUpload('inc/a', [5 * MiB, 1234]);
    const a2 = await startUpload('inc/a', []);
    const b = await startUpload('inc/sub/b', [5 * MiB, 5 * MiB, 7]);
    const other = await startUpload('elsewhere', [10]);
    try {
      const listed = await listIncompleteUploads({ client, bucket, prefix: 'inc/' });
      expect(listed.map((u) => [u.key, u.uploadId, u.parts, u.size]).sort()).toEqual(
        [
          ['inc/a', a1, 2, 5 * MiB + 1234],
          ['inc/a', a2, 0, 0],
          ['inc/sub/b', b, 3, 10 * MiB + 7],
        ].sort(),
      );
      for (const u of listed) {
        expect(u.initiated).toBeInstanceOf(Date);
        expect(Math.abs(Date.now() - u.initiated.getTime())).toBeLessThan(5 * 60_000);
      }
      // no prefix: the whole bucket
      const all = await listIncompleteUploads({ client, bucket });
      expect(all.map((u) => u.uploadId).sort()).toEqual([a1, a2, b, other].sort());

      // aborted: gone from the listing; a second abort finds nothing to abort
      expect(await abortIncompleteUpload({ client, bucket, key: 'inc/a', uploadId: a1 })).toBe(true);
      expect(await abortIncompleteUpload({ client, bucket, key: 'inc/a', uploadId: a1 })).toBe(false);
      const after = await listIncompleteUploads({ client, bucket, prefix: 'inc/a' });
      expect(after.map((u) => u.uploadId)).toEqual([a2]);
    } finally {
      for (const [key, id] of [
        ['inc/a', a1],
        ['inc/a', a2],
        ['inc/sub/b', b],
        ['elsewhere', other],
      ] as const) {
        await abortIncompleteUpload({ client, bucket, key, uploadId: id });
      }
    }
    expect(await openUploads(client, bucket)).toBe(0);
  });

  it('follows every page of uploads and of parts', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(await startUpload(`paged/k${i}`, i === 0 ? [5 * MiB, 5 * MiB, 5 * MiB, 3] : [1]));
    const paging = pagingClient(2);
    try {
      const pages: number[] = [];
      for await (const page of incompleteUploadPages({ client: paging, bucket, prefix: 'paged/' }))
        pages.push(page.length);
      expect(pages).toEqual([2, 2, 1]);
      const listed = await listIncompleteUploads({ client: paging, bucket, prefix: 'paged/' });
      expect(listed.map((u) => u.uploadId).sort()).toEqual([...ids].sort());
      // four parts over two pages of ListParts
      expect(listed.find((u) => u.key === 'paged/k0')).toMatchObject({ parts: 4, size: 15 * MiB + 3 });
    } finally {
      for (const [i, id] of ids.entries())
        await abortIncompleteUpload({ client, bucket, key: `paged/k${i}`, uploadId: id });
      paging.destroy();
    }
  });

  it('lists an SSE-C upload without its key (ListParts needs none)', async () => {
    const key = randomBytes(32);
    const id = await startUpload('ssec/x', [5 * MiB, 99], sseCParams(key));
    try {
      const [u] = await listIncompleteUploads({ client, bucket, prefix: 'ssec/' });
      expect(u).toMatchObject({ key: 'ssec/x', uploadId: id, parts: 2, size: 5 * MiB + 99 });
    } finally {
      expect(await abortIncompleteUpload({ client, bucket, key: 'ssec/x', uploadId: id })).toBe(true);
    }
  });

  it('leaves out an upload that completes or is aborted while it is listed', async () => {
    const done = await startUpload('race/done', [7]);
    const gone = await startUpload('race/gone', [7]);
    const racing = testClient();
    // between the listing of uploads and the listing of their parts, one completes and one is aborted
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'ListMultipartUploadsCommand') {
          await client.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: 'race/done',
              UploadId: done,
              MultipartUpload: { Parts: [{ PartNumber: 1, ETag: await etagOf('race/done', done) }] },
            }),
          );
          await client.send(
            new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'race/gone', UploadId: gone }),
          );
        }
        return out;
      },
      { step: 'initialize', name: 'race' },
    );
    try {
      expect(await listIncompleteUploads({ client: racing, bucket, prefix: 'race/' })).toEqual([]);
    } finally {
      racing.destroy();
    }
  });

  it('refuses bad options, stops on its signal, and passes the store errors on', async () => {
    expect(await codeOf(listIncompleteUploads({ client, bucket: '' }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(listIncompleteUploads({ client: {} as S3Client, bucket }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(listIncompleteUploads({ client, bucket, prefix: 3 as unknown as string }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(abortIncompleteUpload({ client, bucket, key: 'k', uploadId: '' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(abortIncompleteUpload({ client, bucket, key: '', uploadId: 'x' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(listIncompleteUploads({ client, bucket, signal: AbortSignal.abort() }))).toBe(
      'ABORTED',
    );
    expect(
      await codeOf(
        abortIncompleteUpload({ client, bucket, key: 'k', uploadId: 'x', signal: AbortSignal.abort() }),
      ),
    ).toBe('ABORTED');
    await expect(listIncompleteUploads({ client, bucket: `${bucket}-missing` })).rejects.toMatchObject({
      code: 'BUCKET_NOT_FOUND',
      cause: { name: 'NoSuchBucket' },
    });
  });
});

async function etagOf(key: string, uploadId: string): Promise<string> {
  const out = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  return out.Parts![0]!.ETag!;
}
