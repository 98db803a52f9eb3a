// A CommonJS user: require() of the ESM-only packages works on Node >= 20.19 (require(esm)).
const assert = require('node:assert/strict');
const { generateKey, keyId } = require('@sealstream/core');
const { isSealstreamError } = require('@sealstream/core/errors');
const { createSosClient } = require('@sealstream/sos');

assert.match(keyId(generateKey()), /^[0-9a-f]+$/);
assert.equal(typeof isSealstreamError, 'function');
assert.equal(typeof createSosClient, 'function');
console.log('CommonJS require: ok');
