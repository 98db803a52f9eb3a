/**
 * Objects under a prefix, page by page (ListObjectsV2), so a command can work through a bucket of
 * any size with one page in memory.
 * @module
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { CliError, EXIT } from './exit.ts';
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
 * @throws {CliError} `NETWORK` (exit 6) when the store says its listing goes on but gives no way
 *   to it (no continuation token, or the one it just gave): stopping there would take part of the
 *   prefix for all of it, and following the same token would never end.
 */
export async function* listPages(
  client: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<ListedObject[]> {
  let token: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      { abortSignal: interrupted },
    );
    const objects = (page.Contents ?? [])
      .filter((o) => o.Key !== undefined && !(o.Key.endsWith('/') && (o.Size ?? 0) === 0))
      .map((o) => ({ key: o.Key!, size: o.Size ?? 0, lastModified: o.LastModified, etag: o.ETag }));
    if (objects.length > 0) yield objects;
    if (page.IsTruncated !== true) return;
    token = page.NextContinuationToken;
    if (token === undefined || token === '' || seen.has(token)) {
      throw new CliError(
        EXIT.NETWORK,
        `listing s3://${bucket}/${prefix}: the store says the listing goes on but ${token ? 'gives a continuation token it gave before' : 'gives no continuation token'}, so the objects past the first ${seen.size + 1} page${seen.size === 0 ? '' : 's'} cannot be listed`,
        { hint: 'the store answered something unusable: try again later' },
      );
    }
    seen.add(token);
  }
}
