// An ESM user of the installed packages: a round trip through the library, and the transport's entry points.
import assert from 'node:assert/strict';
import { decrypt, encrypt, generateKey } from '@sealstream/core';
import { isSealstreamError } from '@sealstream/core/errors';
import { createSosClient, getObject, putObject, rekeyObject } from '@sealstream/sos';

const key = generateKey();
const plain = new TextEncoder().encode('hello from an npm project');
const sealed = await encrypt(plain, { recipients: [key] });
assert.deepEqual(await decrypt(sealed, { keys: [key] }), plain);
await assert.rejects(decrypt(sealed, { keys: [generateKey()] }), (e) =>
  isSealstreamError(e, 'NO_MATCHING_KEY'),
);
for (const f of [createSosClient, getObject, putObject, rekeyObject]) assert.equal(typeof f, 'function');
console.log('ESM import: ok');
