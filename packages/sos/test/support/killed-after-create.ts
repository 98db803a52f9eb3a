/**
 * Child of resume-create.test.ts: a resumable client-side upload of a file whose process is killed
 * (SIGKILL, as `kill -9` or the OOM killer would) the moment the store's answer to
 * CreateMultipartUpload arrives, before the uploader can act on it.
 *
 *   node --conditions=sealstream-src --import tsx killed-after-create.ts FILE JOURNAL BUCKET KEY KEY_HEX
 *
 * The store comes from S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_CA_BUNDLE.
 */
import { createSosClient, putObject } from '../../src/index.ts';

const [file, journal, bucket, key, keyHex] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const client = createSosClient({ endpoint: process.env.S3_ENDPOINT! });
client.middlewareStack.add(
  (next, context) => async (args) => {
    const out = await next(args);
    if (context.commandName === 'CreateMultipartUploadCommand') process.kill(process.pid, 'SIGKILL');
    return out;
  },
  { step: 'initialize', name: 'killedAfterCreate' },
);
await putObject({
  client,
  bucket,
  key,
  body: file,
  encryption: { clientSide: { keys: Buffer.from(keyHex, 'hex') } },
  partSize: 5 * 1024 * 1024,
  resume: { journal },
});
process.stdout.write('not killed\n');
