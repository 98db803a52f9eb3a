/**
 * Objects under a prefix, page by page (ListObjectsV2), so a command can work through a bucket of
 * any size with one page in memory.
 * @module
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { interrupted } from './io.ts';

/** An object as the listing shows it. */
export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date | undefined;
  etag: string | undefined;
}

/**
 * Yields the objects whose keys start with `prefix`, a page (up to 1,000) at a time, in the
 * store's (lexicographic) order. Folder markers (keys ending in `/`, empty) are left out.
 */
export async function* listPages(
  client: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<ListedObject[]> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      { abortSignal: interrupted },
    );
    const objects = (page.Contents ?? [])
      .filter((o) => o.Key !== undefined && !(o.Key.endsWith('/') && (o.Size ?? 0) === 0))
      .map((o) => ({ key: o.Key!, size: o.Size ?? 0, lastModified: o.LastModified, etag: o.ETag }));
    if (objects.length > 0) yield objects;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}
