// Which cipher backend the installed @sealstream/core chose, checked against what the caller expects,
// then a round trip on it: `node backend.mjs native` (the addon loads, from this project's
// node_modules) or `node backend.mjs node 'words of the reason'` (it does not, and says why).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { backendReport, decrypt, encrypt, generateKey } from '@sealstream/core';

const [want, reason] = process.argv.slice(2);
const report = backendReport();
assert.equal(report.default, want, `backend: ${JSON.stringify(report)}`);
if (want === 'native') {
  const installed = join(process.cwd(), 'node_modules');
  assert.ok(report.native.path?.startsWith(installed), `the addon loaded from ${report.native.path}`);
} else {
  assert.equal(report.native.available, false);
  assert.ok(report.native.reason.includes(reason), `native: ${report.native.reason}`);
}
const key = generateKey();
const plain = new Uint8Array(100_000).map((_, i) => i * 7);
assert.deepEqual(await decrypt(await encrypt(plain, { recipients: [key] }), { keys: [key] }), plain);
console.log(
  `backend ${report.default}: ${report.native.available ? report.native.path : report.native.reason}`,
);
