// Key rotation: rekeyObject() re-wraps the data key of a client-side encrypted object for a new
// key; the payload is not re-encrypted. Needs AWS_ENDPOINT_URL_S3 and credentials.
//   node --conditions=sealstream-src --import tsx examples/rotate-key.ts
import { generateKey, keyId } from '@sealstream/core';
import {
  clientFromEnv,
  getObject,
  headObject,
  putObject,
  rekeyObject,
  temporaryBucket,
} from './lib/store.ts';

const client = clientFromEnv();
const { bucket, remove } = await temporaryBucket(client);
try {
  const [oldKey, newKey] = [generateKey(), generateKey()];
  const body = new TextEncoder().encode('rotate me');
  await putObject({ client, bucket, key: 'doc', body, encryption: { clientSide: { keys: [oldKey] } } });
  const result = await rekeyObject({
    client,
    bucket,
    key: 'doc',
    encryption: { clientSide: { keys: [oldKey] } },
    newEncryption: { clientSide: { keys: [newKey] } },
  });
  const head = await headObject({
    client,
    bucket,
    key: 'doc',
    encryption: { clientSide: { keys: [newKey] } },
  });
  const got = await getObject({ client, bucket, key: 'doc', encryption: { clientSide: { keys: [newKey] } } });
  console.log(
    `rekeyed (${result.method}) from ${keyId(oldKey)} to ${head.header?.keyIds.join(', ')}: "${await new Response(got.body).text()}"`,
  );
  const old = await getObject({
    client,
    bucket,
    key: 'doc',
    encryption: { clientSide: { keys: [oldKey] } },
  }).catch((e) => e);
  console.log(`the old key now: ${old.code ?? 'STILL OPENS IT'}`);
  if (old.code !== 'NO_MATCHING_KEY' || head.header?.keyIds[0] !== keyId(newKey)) process.exitCode = 1;
} finally {
  await remove();
  client.destroy();
}
