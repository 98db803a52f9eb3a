/**
 * Peak RSS of `decrypt()` on one in-memory object (issue 8: the whole input used to be copied into
 * the header buffer). Run in a fresh process so nothing else is on the heap:
 *
 *   node --conditions=sealstream-src --import tsx packages/core/scripts/measure-decrypt.ts [MiB]
 */
import { decrypt, encrypt, generateKey } from '../src/index.ts';

const MIB = 1024 ** 2;
const size = Number(process.argv[2] ?? 256) * MIB;
const key = generateKey();
const plain = new Uint8Array(size).fill(7);
const sealed = await encrypt(plain, { recipients: [key] });
const before = process.memoryUsage().rss;
let peak = before;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);
const out = await decrypt(sealed, { keys: [key] });
peak = Math.max(peak, process.memoryUsage().rss);
clearInterval(sampler);
if (out.length !== size || out[size - 1] !== 7) throw new Error('wrong plaintext');
console.log(
  `decrypt() of ${size / MIB} MiB: peak RSS ${(peak / MIB).toFixed(0)} MiB, ` +
    `+${((peak - before) / MIB).toFixed(0)} MiB over the ${(before / MIB).toFixed(0)} MiB held before (input and plaintext buffers: ${(2 * size) / MIB} MiB)`,
);
