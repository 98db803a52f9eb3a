// Upload a file with client-side encryption, then read a byte range back: only the chunks that
// hold the range are fetched and decrypted. Needs AWS_ENDPOINT_URL_S3 and credentials.
//   node --conditions=sealstream-src --import tsx examples/upload-range.ts
import { randomBytes } from 'node:crypto';
import { generateKey } from '@sealstream/core';
import { clientFromEnv, getObject, putObject, temporaryBucket } from './lib/store.ts';

const client = clientFromEnv();
const { bucket, remove } = await temporaryBucket(client);
try {
  const data = randomBytes(20 * 1024 * 1024);
  const key = generateKey();
  const encryption = { clientSide: { keys: [key], identity: true } }; // bound to bucket/key
  const put = await putObject({ client, bucket, key: 'data.bin', body: data, encryption });
  const got = await getObject({
    client,
    bucket,
    key: 'data.bin',
    encryption,
    range: 'bytes=10000000-10000099',
  });
  const part = Buffer.from(await new Response(got.body).arrayBuffer());
  const same = part.equals(data.subarray(10_000_000, 10_000_100));
  // the header's first read (4 KiB) and the sealed chunks the range touches (16,400 bytes each)
  const onlyItsChunks = got.stats.bytesFetched <= 4096 + 2 * 16_400;
  console.log(
    `stored ${put.size} bytes for ${put.plaintextSize}; range: ${part.length} bytes, ${got.stats.bytesFetched} fetched${onlyItsChunks ? '' : ' (MORE than its chunks)'}, ${same ? 'identical' : 'DIFFERENT'}`,
  );
  if (!same || !onlyItsChunks) process.exitCode = 1;
} finally {
  await remove();
  client.destroy();
}
