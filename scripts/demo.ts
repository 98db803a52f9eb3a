/**
 * The main job on an embedded default.
 *
 * 1. Local files: generate a file, encrypt it with sealstream, decrypt it, verify it byte for byte.
 * 2. A store: with no endpoint in the environment, start the project's local S3 server
 *    (scripts/s3-server, installed first when missing and possible); with `AWS_ENDPOINT_URL_S3` (or
 *    `AWS_ENDPOINT_URL`) and credentials set, use that store instead. Then, with a fresh key:
 *    upload the file with client-side encryption, read a byte range back, download and verify it;
 *    the same with SSE-C. Prints sizes, throughput, overhead and key IDs.
 *
 *   pnpm demo                 256 MiB
 *   pnpm demo --size 1GiB     another size (B, KiB, MiB, GiB)
 *   pnpm demo --local-only    the local-file part only
 *
 * Where the server cannot be installed (not root, no apt-get), the demo says so and runs the
 * local-file part only. A server the demo started is stopped at the end (SEALSTREAM_S3_KEEP=1
 * keeps it); one that was already running is left alone.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, rmSync } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import {
  decryptStream,
  encryptStream,
  generateKey,
  inspectHeader,
  keyId,
  resolveBackend,
} from '@sealstream/core';
// the transport, through the examples package (this folder is not a workspace package)
import {
  createSosClient,
  type Encryption,
  endpointFromEnv,
  getObject,
  headObject,
  putObject,
  type S3Client,
  temporaryBucket,
} from '../examples/lib/store.ts';

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

// the SDK's notice that its releases after January 2027 need Node 22 is noise here
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const sizeFlag = process.argv.indexOf('--size');
const size = sizeFlag > 0 ? parseSize(process.argv[sizeFlag + 1] ?? '') : 256 * MIB;
const localOnly = process.argv.includes('--local-only');
const root = resolve(import.meta.dirname, '..');
const mbps = (bytes: number, s: number) => `${(bytes / 1e6 / s).toFixed(0)} MB/s`;
const pct = (extra: number, base: number) => `${((extra / Math.max(base, 1)) * 100).toFixed(3)}%`;

/** The store to use: the environment's, or the project's local server (started here if needed). */
async function chooseStore(): Promise<
  { client: S3Client; where: string; stop: () => Promise<void> } | { unavailable: string }
> {
  const endpoint = endpointFromEnv();
  if (endpoint && process.env.S3_ENDPOINT !== endpoint) {
    return {
      client: createSosClient({ endpoint }),
      where: `${endpoint} (from the environment)`,
      stop: async () => {},
    };
  }
  const stateDir = process.env.SEALSTREAM_S3_DIR ?? join(process.env.TMPDIR ?? '/tmp', 'sealstream-s3');
  const wasRunning = existsSync(join(stateDir, 'cluster/run/pids'));
  console.log(
    `  starting the local S3 server (scripts/s3-server/start.sh --install)${wasRunning ? ': reusing the running one' : ''}`,
  );
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('bash', [join(root, 'scripts/s3-server/start.sh'), '--install'], {
      timeout: 600_000,
      maxBuffer: 16 << 20,
    }));
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    if (e.code === 3) {
      return {
        unavailable:
          'the local S3 server (Ceph radosgw) is not installed and cannot be installed here: that needs root and apt-get. ' +
          'Install it with `sudo bash scripts/s3-server/install.sh`, or set AWS_ENDPOINT_URL_S3 and credentials for another store.',
      };
    }
    throw new Error(
      `the local S3 server did not start (exit ${e.code}):\n${(e.stderr ?? '').split('\n').slice(-8).join('\n')}`,
    );
  }
  const env = new Map<string, string>();
  for (const m of stdout.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) env.set(m[1]!, m[2]!);
  const client = createSosClient({
    endpoint: env.get('S3_ENDPOINT')!,
    region: env.get('AWS_REGION')!,
    ca: env.get('AWS_CA_BUNDLE')!,
    credentials: {
      accessKeyId: env.get('AWS_ACCESS_KEY_ID')!,
      secretAccessKey: env.get('AWS_SECRET_ACCESS_KEY')!,
    },
  });
  return {
    client,
    where: `${env.get('S3_ENDPOINT')} (the project's local Ceph RGW)`,
    stop: async () => {
      if (!wasRunning && process.env.SEALSTREAM_S3_KEEP !== '1') {
        await promisify(execFile)('bash', [join(root, 'scripts/s3-server/stop.sh')]).catch(() => {});
      }
    },
  };
}

/** Bytes `[start, end)` of a local file. */
async function fileRange(path: string, start: number, end: number): Promise<Buffer> {
  const f = await open(path, 'r');
  try {
    const out = Buffer.alloc(end - start);
    await f.read(out, 0, out.length, start);
    return out;
  } finally {
    await f.close();
  }
}

/** Upload, ranged read, download and verify one object; prints one block of the report. */
async function roundTrip(
  client: S3Client,
  bucket: string,
  key: string,
  encryption: Encryption,
  plainPath: string,
  plainHash: string,
  dir: string,
): Promise<void> {
  let t = performance.now();
  const put = await putObject({ client, bucket, key, body: plainPath, encryption });
  const upSeconds = (performance.now() - t) / 1000;
  const head = await headObject({ client, bucket, key, encryption });
  // a range in the middle, across a chunk boundary; an empty object has no byte to ask for
  const start = Math.max(0, Math.floor(size / 2) - 1000);
  const end = Math.min(size, start + 4096);
  let rangeReport = 'none: the object is empty';
  let rangeOk = true;
  if (size > 0) {
    t = performance.now();
    // Numeric ranges are [start, end), as everywhere in the library; the report prints HTTP's inclusive form.
    const ranged = await getObject({ client, bucket, key, encryption, range: { start, end } });
    const rangeBytes = Buffer.from(await new Response(ranged.body).arrayBuffer());
    const rangeMs = performance.now() - t;
    rangeOk = rangeBytes.equals(await fileRange(plainPath, start, end));
    rangeReport = `bytes ${start}-${end - 1}: ${rangeBytes.length} bytes in ${rangeMs.toFixed(0)} ms, ${ranged.stats.bytesFetched} bytes fetched, ${rangeOk ? 'identical to the file' : 'DIFFERENT'}`;
  }
  const downPath = join(dir, `${key.replace(/\W/g, '-')}.down`);
  t = performance.now();
  const got = await getObject({ client, bucket, key, encryption });
  await pipeline(
    Readable.fromWeb(got.body as import('node:stream/web').ReadableStream),
    createWriteStream(downPath),
  );
  const downSeconds = (performance.now() - t) / 1000;
  const downHash = await sha256File(downPath);
  await rm(downPath);
  console.log(`  s3://${bucket}/${key}`);
  console.log(
    `    stored      ${head.storedSize} bytes (+${head.storedSize - size}, ${pct(head.storedSize - size, size)})`,
  );
  if (head.header)
    console.log(
      `    header      key IDs ${head.header.keyIds.join(', ')}, bound to ${JSON.stringify(head.header.identity)}`,
    );
  if (head.sseC)
    console.log(
      `    SSE-C       ${head.sseC.algorithm}, key MD5 ${head.sseC.keyMD5} (the store's fingerprint of the key)`,
    );
  console.log(
    `    upload      ${upSeconds.toFixed(2)} s, ${mbps(put.plaintextSize, upSeconds)}${put.partSize ? `, ${put.partSize / MIB} MiB parts` : ''}`,
  );
  console.log(`    range       ${rangeReport}`);
  console.log(
    `    download    ${downSeconds.toFixed(2)} s, ${mbps(size, downSeconds)}, sha256 ${downHash === plainHash ? 'identical' : 'DIFFERENT'}`,
  );
  if (!rangeOk || downHash !== plainHash) throw new Error(`verification FAILED for s3://${bucket}/${key}`);
}

const dir = await mkdtemp(join(tmpdir(), 'sealstream-demo-'));
let failed = false;
/** The store's bucket while the demo uses it, named if the demo is interrupted. */
let bucketInUse: string | undefined;
// A signal ends the process without running `finally`: remove the demo's files (the generated
// plaintext and its copies, three times --size) before going, and say what may be left on the store.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    rmSync(dir, { recursive: true, force: true });
    const left = bucketInUse ? `; the bucket ${bucketInUse} may be left on the store` : '';
    console.error(`\ndemo interrupted (${signal}): removed ${dir}${left}`);
    process.exit(code);
  });
}
try {
  const [plainPath, sealedPath, openedPath] = ['plain.bin', 'sealed.ss', 'opened.bin'].map((f) =>
    join(dir, f),
  ) as [string, string, string];
  const key = generateKey();
  console.log(
    `sealstream demo: ${(size / MIB).toFixed(1)} MiB, cipher backend ${resolveBackend().name}, key ID ${keyId(key)}`,
  );
  console.log('\n1. local files');

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
  const info = inspectHeader(await fileRange(sealedPath, 0, Math.min(sealedSize, 4096)));
  await rm(sealedPath);
  await rm(openedPath);

  console.log(`  plaintext   ${size} bytes`);
  console.log(
    `  ciphertext  ${sealedSize} bytes (+${sealedSize - size}: ${info.headerLength}-byte header, 56-byte salt and commitment, 16-byte tag per 16 KiB chunk; ${pct(sealedSize - size, size)})`,
  );
  console.log(
    `  header      ${info.suite}, ${info.chunkSize}-byte chunks, recipients ${info.keyIds.join(', ')}`,
  );
  console.log(`  encrypt     ${encryptSeconds.toFixed(2)} s, ${mbps(size, encryptSeconds)} (file to file)`);
  console.log(`  decrypt     ${decryptSeconds.toFixed(2)} s, ${mbps(size, decryptSeconds)} (file to file)`);
  if (a !== b) throw new Error(`verification FAILED: sha256 ${a} != ${b}`);
  console.log(`  verified    sha256 ${a.slice(0, 16)}… identical after the round trip`);

  if (localOnly) {
    console.log('\n2. object store: skipped (--local-only)');
  } else {
    console.log('\n2. object store');
    const store = await chooseStore();
    if ('unavailable' in store) {
      console.log(`  skipped: ${store.unavailable}`);
      console.log('  Only the local-file part ran.');
    } else {
      console.log(`  store       ${store.where}`);
      const { bucket, remove } = await temporaryBucket(store.client, 'sealstream-demo');
      bucketInUse = bucket;
      try {
        const sseCKey = generateKey();
        console.log(
          `  keys        client-side key ID ${keyId(key)}; SSE-C key ID ${keyId(sseCKey)} (a second fresh key)`,
        );
        await roundTrip(
          store.client,
          bucket,
          'client-side.bin',
          { clientSide: { keys: [key], identity: true } },
          plainPath,
          a,
          dir,
        );
        await roundTrip(store.client, bucket, 'sse-c.bin', { sseC: { key: sseCKey } }, plainPath, a, dir);
      } finally {
        await remove().catch((err) => console.error(`  could not delete bucket ${bucket}: ${err}`));
        bucketInUse = undefined;
        store.client.destroy();
        await store.stop();
      }
    }
  }
} catch (err) {
  failed = true;
  console.error(`\ndemo failed: ${(err as Error).message}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
