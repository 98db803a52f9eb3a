// SSE-C: the store encrypts with a key you keep and send with every request. Needs an https
// AWS_ENDPOINT_URL_S3 and credentials.
//   node --conditions=sealstream-src --import tsx examples/sse-c.ts
import { generateKey } from '@sealstream/core';
import { clientFromEnv, getObject, headObject, putObject, temporaryBucket } from './lib/store.ts';

const client = clientFromEnv();
const { bucket, remove } = await temporaryBucket(client);
try {
  const encryption = { sseC: { key: generateKey() } };
  await putObject({
    client,
    bucket,
    key: 'note.txt',
    body: new TextEncoder().encode('kept by the store, readable only with my key'),
    encryption,
  });
  const head = await headObject({ client, bucket, key: 'note.txt', encryption });
  const got = await getObject({ client, bucket, key: 'note.txt', encryption });
  console.log(
    `${await new Response(got.body).text()} (SSE-C ${head.sseC?.algorithm}, key MD5 ${head.sseC?.keyMD5})`,
  );
  // without the key the store refuses to read it
  await getObject({ client, bucket, key: 'note.txt', encryption: 'none' }).then(
    () => {
      console.log('read without the key: UNEXPECTED');
      process.exitCode = 1;
    },
    (err) => console.log(`without the key: ${err.code}`),
  );
} finally {
  await remove();
  client.destroy();
}
