/**
 * The main job on an embedded default: generate a file, encrypt it with sealstream, decrypt it,
 * verify it byte for byte, and print sizes and throughput.
 *
 *   pnpm demo                 256 MiB
 *   pnpm demo --size 1GiB     another size (B, KiB, MiB, GiB)
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  decryptStream,
  encryptStream,
  generateKey,
  inspectHeader,
  keyId,
  resolveBackend,
} from '@sealstream/core';

const MIB = 1024 * 1024;

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/i.exec(text.trim());
  if (!m)
    throw new Error(`--size: expected a number with an optional unit (B, KiB, MiB, GiB), got "${text}"`);
  const unit = { b: 1, kib: 1024, mib: MIB, gib: 1024 * MIB }[(m[2] ?? 'B').toLowerCase()]!;
  return Math.round(Number(m[1]) * unit);
}

function generated(size: number): Readable {
  let left = size;
  return new Readable({
    read() {
      const n = Math.min(MIB, left);
      left -= n;
      this.push(n > 0 ? randomBytes(n) : null);
    },
  });
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MIB })) hash.update(chunk);
  return hash.digest('hex');
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const sizeFlag = process.argv.indexOf('--size');
const size = sizeFlag > 0 ? parseSize(process.argv[sizeFlag + 1] ?? '') : 256 * MIB;
const dir = await mkdtemp(join(tmpdir(), 'sealstream-demo-'));
try {
  const [plainPath, sealedPath, openedPath] = ['plain.bin', 'sealed.ss', 'opened.bin'].map((f) =>
    join(dir, f),
  ) as [string, string, string];
  const key = generateKey();
  const mbps = (bytes: number, s: number) => `${(bytes / 1e6 / s).toFixed(0)} MB/s`;
  console.log(
    `sealstream demo: ${(size / MIB).toFixed(1)} MiB, cipher backend ${resolveBackend().name}, key ID ${keyId(key)}`,
  );

  await pipeline(generated(size), createWriteStream(plainPath));
  const read = { highWaterMark: MIB };
  const encryptSeconds = await timed(() =>
    pipeline(
      createReadStream(plainPath, read),
      Duplex.fromWeb(encryptStream({ recipients: [key] })),
      createWriteStream(sealedPath),
    ),
  );
  const decryptSeconds = await timed(() =>
    pipeline(
      createReadStream(sealedPath, read),
      Duplex.fromWeb(decryptStream({ keys: [key] })),
      createWriteStream(openedPath),
    ),
  );
  const sealedSize = (await stat(sealedPath)).size;
  const [a, b] = await Promise.all([sha256File(plainPath), sha256File(openedPath)]);
  const head = await new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    createReadStream(sealedPath, { start: 0, end: 4095 })
      .on('data', (c) => parts.push(c as Buffer))
      .on('end', () => resolve(Buffer.concat(parts)))
      .on('error', reject);
  });
  const info = inspectHeader(head);

  console.log(`  plaintext   ${size} bytes`);
  console.log(
    `  ciphertext  ${sealedSize} bytes (+${sealedSize - size}: ${info.headerLength}-byte header, 56-byte salt and commitment, 16-byte tag per 16 KiB chunk; ${(((sealedSize - size) / Math.max(size, 1)) * 100).toFixed(3)}%)`,
  );
  console.log(
    `  header      ${info.suite}, ${info.chunkSize}-byte chunks, recipients ${info.keyIds.join(', ')}`,
  );
  console.log(`  encrypt     ${encryptSeconds.toFixed(2)} s, ${mbps(size, encryptSeconds)} (file to file)`);
  console.log(`  decrypt     ${decryptSeconds.toFixed(2)} s, ${mbps(size, decryptSeconds)} (file to file)`);
  if (a !== b) throw new Error(`verification FAILED: sha256 ${a} != ${b}`);
  console.log(`  verified    sha256 ${a.slice(0, 16)}… identical after the round trip`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
