// A file through encryptStream() to disk and back through decryptStream(), with Node streams.
//   node --conditions=sealstream-src --import tsx examples/file-roundtrip.ts [FILE]
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decryptStream, encryptStream, generateKey, keyId } from '@sealstream/core';

const dir = await mkdtemp(join(tmpdir(), 'sealstream-example-'));
try {
  const input = process.argv[2] ?? join(dir, 'input.txt');
  if (!process.argv[2]) writeFileSync(input, 'hello, sealstream\n'.repeat(10_000));

  const key = generateKey();
  await pipeline(
    createReadStream(input),
    Duplex.fromWeb(encryptStream({ recipients: [key] })),
    createWriteStream(join(dir, 'sealed')),
  );
  await pipeline(
    createReadStream(join(dir, 'sealed')),
    Duplex.fromWeb(decryptStream({ keys: [key] })),
    createWriteStream(join(dir, 'opened')),
  );

  const same = readFileSync(input).equals(readFileSync(join(dir, 'opened')));
  console.log(`key ${keyId(key)}: ${input} encrypted and decrypted, ${same ? 'identical' : 'DIFFERENT'}`);
  if (!same) process.exitCode = 1;
} finally {
  // the sealed and opened copies hold the file's data: never leave them behind, also on failure
  await rm(dir, { recursive: true });
}
