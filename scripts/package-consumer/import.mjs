// An ESM user of the installed packages: a round trip through the library, and every subpath that
// core and sos export (the transport's presign helpers with @aws-sdk/s3-request-presigner installed,
// as the sos README says).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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

// the worker script is a page's, not Node's: it is bundled for the browser by browser-bundle.mjs
const NOT_FOR_NODE = new Set(['@sealstream/core/seal-worker']);
for (const name of ['@sealstream/core', '@sealstream/sos']) {
  const { exports } = JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8'));
  for (const subpath of Object.keys(exports)) {
    const id = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
    if (subpath === './package.json' || NOT_FOR_NODE.has(id)) continue;
    const module = await import(id);
    assert.ok(Object.keys(module).length > 0, `${id} exports nothing`);
  }
}
console.log('ESM import: ok');
