/**
 * The object's own fields through the library, against the RGW: what `putObject` is given is what
 * the store keeps (single PutObject and multipart, plain, SSE-C and client-side), and `getObject`
 * reports what the store says, client-side included (it returned `contentType: undefined`,
 * `metadata: {}` and no ETag or date before).
 */
import { Readable } from 'node:stream';
import { GetObjectTaggingCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { formatKey, generateKey } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { type Encryption, getObject, putObject, sseCParams } from '../src/index.ts';
import { bytes, codeOf, collect, openUploads, sameBytes, useTestBucket } from './helpers.ts';

const MiB = 1024 * 1024;
const sseCKey = generateKey();
const csKey = generateKey();

let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

const fields = {
  contentType: 'application/x-tar',
  metadata: { origin: 'backup-host', 'run-id': '42' },
  tags: { team: 'ops', 'retention class': 'a&b=c' },
  storageClass: 'STANDARD',
  cacheControl: 'private, max-age=60',
  contentDisposition: 'attachment; filename="db.tar"',
  contentEncoding: 'identity',
  contentLanguage: 'de-CH',
  expires: new Date('2031-05-06T07:08:09Z'),
};

const layers: [string, Encryption, Record<string, string>][] = [
  ['plain', 'none', {}],
  ['SSE-C', { sseC: { key: formatKey(sseCKey) } }, sseCParams(sseCKey) as unknown as Record<string, string>],
  ['client-side', { clientSide: { keys: [csKey] } }, {}],
];

describe.each(layers)('%s', (name, encryption, sseC) => {
  describe.each([
    ['one PutObject', 1000],
    ['multipart', 5 * MiB + 1],
  ])('%s', (how, size) => {
    const key = `fields/${name}/${how}`;
    const data = bytes(size);

    it('the store keeps every field given, and getObject reports them', async () => {
      const put = await putObject({
        client,
        bucket,
        key,
        body: Readable.from([data]),
        encryption,
        partSize: 5 * MiB,
        ...fields,
      });
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...sseC }));
      expect(head.ContentType).toBe(fields.contentType);
      expect(head.Metadata).toEqual(fields.metadata);
      expect(head.CacheControl).toBe(fields.cacheControl);
      expect(head.ContentDisposition).toBe(fields.contentDisposition);
      expect(head.ContentEncoding).toBe(fields.contentEncoding);
      expect(head.ContentLanguage).toBe(fields.contentLanguage);
      expect(head.Expires?.getTime()).toBe(fields.expires.getTime());
      const tagging = await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
      expect(Object.fromEntries((tagging.TagSet ?? []).map((t) => [t.Key, t.Value]))).toEqual(fields.tags);

      const got = await getObject({ client, bucket, key, encryption });
      expect(sameBytes(await collect(got.body), data)).toBe(true);
      expect(got.contentType).toBe(fields.contentType);
      expect(got.metadata).toEqual(fields.metadata);
      expect(got.etag).toBe(head.ETag);
      expect(got.etag).toMatch(/^".+"$/);
      expect(got.lastModified?.getTime()).toBe(head.LastModified?.getTime());
      expect(got.versionId).toBe(head.VersionId);
      if (put.etag !== undefined) expect(got.etag).toBe(put.etag);

      // a range reports the same facts
      const part = await getObject({ client, bucket, key, encryption, range: 'bytes=10-19' });
      expect(sameBytes(await collect(part.body), data.subarray(10, 20))).toBe(true);
      expect(part.contentType).toBe(fields.contentType);
      expect(part.etag).toBe(head.ETag);
    });
  });
});

describe('fields of the wrong type are refused before anything is sent', () => {
  it.each([
    ['tags', { tags: { n: 1 } }],
    ['metadata', { metadata: ['a'] }],
    ['cacheControl', { cacheControl: 5 }],
    ['storageClass', { storageClass: '' }],
    ['expires', { expires: new Date('not a date') }],
  ])('%s', async (_field, bad) => {
    const key = `fields/bad/${_field}`;
    const options = { client, bucket, key, body: bytes(10 * MiB), encryption: 'none' as const, ...bad };
    expect(await codeOf(putObject(options as Parameters<typeof putObject>[0]))).toBe('INVALID_ARGUMENT');
    expect(await openUploads(client, bucket)).toBe(0);
    await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });
});
