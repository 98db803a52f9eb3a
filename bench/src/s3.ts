// S3: the same bytes uploaded and downloaded through @sealstream/sos with client-side encryption and
// without, against an S3-compatible server (scripts/s3-server for a local one), same part size and
// queue. Plus the bytes a 1-byte ranged read of an encrypted object fetches. Skipped, with the
// reason, when no server is configured or the transport package cannot be loaded.

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BENCH_DIR, type Context, formatBytes, MiB } from './context.ts';

const execFileAsync = promisify(execFile);

import { loadCore } from './core-api.ts';
import { checkingSink, countingSink, randomBytes } from './data.ts';
import { cpuKey, type FamilyResult, type Figure, figure, log, type Op, runRounds } from './runner.ts';

/** What the S3 figures need from the environment; scripts/s3-server/start.sh writes these to s3.env. */
export const S3_ENV = ['S3_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

const SOS = '@sealstream/sos';
const PART_SIZE = 8 * MiB;
const QUEUE_SIZE = 4;

/** The part of @sealstream/sos the bench uses; loaded by name at run time, as it is optional here. */
interface SosApi {
  createSosClient(options: { endpoint: string }): S3Client;
  putObject(options: {
    client: S3Client;
    bucket: string;
    key: string;
    body: string;
    encryption: Encryption;
    partSize: number;
    queueSize: number;
  }): Promise<unknown>;
  getObject(options: {
    client: S3Client;
    bucket: string;
    key: string;
    encryption: Encryption;
    range?: { start: number; end: number };
  }): Promise<{ body: ReadableStream<Uint8Array>; size: number }>;
}
type Encryption = 'none' | { clientSide: { keys: Uint8Array[] } };

const FIGURES =
  'upload_encrypted, upload_plain, download_decrypted, download_plain (each with _cpu_seconds_per_gb), ranged_read_bytes_fetched, ranged_read_requests, peak_rss_mib_upload_2gib';

function skipAll(reason: string): FamilyResult {
  return { figures: [], skips: [{ family: 's3', what: FIGURES, reason }] };
}

async function loadSos(): Promise<SosApi | string> {
  try {
    // A variable specifier keeps the type checker off the package: the bench only needs three calls.
    const specifier = SOS;
    const mod = (await import(specifier)) as Partial<SosApi>;
    const missing = (['createSosClient', 'putObject', 'getObject'] as const).filter(
      (name) => typeof mod[name] !== 'function',
    );
    if (missing.length > 0) return `${SOS} does not export ${missing.join(', ')}`;
    return mod as SosApi;
  } catch (err) {
    return `${SOS} could not be loaded: ${(err as Error).message.split('\n')[0]}`;
  }
}

/** Counts the GetObject requests the client sends and the body bytes of their responses. */
function countFetched(client: S3Client): { bytes: number; requests: number } {
  const counter = { bytes: 0, requests: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetObjectCommand') counter.requests++;
      const result = await next(args);
      if (context.commandName === 'GetObjectCommand') {
        counter.bytes += (result.output as { ContentLength?: number }).ContentLength ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'sealstreamBenchCountFetched' },
  );
  return counter;
}

const MEASURE = join(BENCH_DIR, '..', 'packages', 'sos', 'scripts', 'measure.ts');

/** Peak RSS in MiB of one client-side upload of `bytes` from a generated stream, in a child process. */
async function uploadPeakRss(bucket: string, bytes: number): Promise<number> {
  const args = ['--conditions=sealstream-src', '--import', 'tsx', MEASURE, '--child-upload'];
  const { stdout } = await execFileAsync(process.execPath, args, {
    cwd: BENCH_DIR,
    env: {
      ...process.env,
      MEASURE_BUCKET: bucket,
      MEASURE_RSS_BYTES: String(bytes),
      MEASURE_UPLOADS: '1',
    },
    timeout: 30 * 60_000,
  });
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { maxRss: number };
  return report.maxRss / MiB;
}

export async function runS3(ctx: Context): Promise<FamilyResult> {
  const unset = S3_ENV.filter((name) => !process.env[name]);
  if (unset.length > 0) {
    return skipAll(`no S3 server configured (${unset.join(', ')} unset; see bench/README.md)`);
  }
  const sos = await loadSos();
  if (typeof sos === 'string') return skipAll(sos);
  const loaded = await loadCore();
  if (!loaded.ok) return skipAll(loaded.reason);
  const { core } = loaded;

  const endpoint = process.env.S3_ENDPOINT!;
  const bucket = process.env.S3_BUCKET ?? 'sealstream-bench';
  const client = sos.createSosClient({ endpoint });
  const fetched = countFetched(client);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as Error).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') {
      return skipAll(
        `the S3 server at ${endpoint} did not create bucket ${bucket}: ${name}: ${(err as Error).message}`,
      );
    }
  }

  const size = ctx.sizes.s3Object;
  const plaintext = randomBytes(size);
  const path = join(ctx.tmp, 's3-input.bin');
  writeFileSync(path, plaintext);
  const key = core.generateKey();
  const sealed: Encryption = { clientSide: { keys: [key] } };
  const objects = { plain: 'bench/plain.bin', sealed: 'bench/sealed.bin' };
  const put = (objectKey: string, encryption: Encryption) =>
    sos.putObject({
      client,
      bucket,
      key: objectKey,
      body: path,
      encryption,
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
    });
  const get = async (objectKey: string, encryption: Encryption, sink: WritableStream<Uint8Array>) => {
    const got = await sos.getObject({ client, bucket, key: objectKey, encryption });
    await got.body.pipeTo(sink);
  };
  const count = async (objectKey: string, encryption: Encryption) => {
    const out = countingSink();
    await get(objectKey, encryption, out.sink);
    if (out.bytes() !== size) throw new Error(`get ${objectKey}: ${out.bytes()} bytes, not ${size}`);
  };

  try {
    log(`  uploading and downloading ${formatBytes(size)} once each way, untimed, and checking the bytes`);
    await put(objects.plain, 'none');
    await put(objects.sealed, sealed);
    await get(objects.plain, 'none', checkingSink(plaintext, size, 's3 plain round trip'));
    await get(objects.sealed, sealed, checkingSink(plaintext, size, 's3 encrypted round trip'));

    const ops: Op[] = [
      { figure: 'upload_plain', bytes: size, run: async () => void (await put(objects.plain, 'none')) },
      { figure: 'upload_encrypted', bytes: size, run: async () => void (await put(objects.sealed, sealed)) },
      { figure: 'download_plain', bytes: size, run: () => count(objects.plain, 'none') },
      { figure: 'download_decrypted', bytes: size, run: () => count(objects.sealed, sealed) },
    ];
    const samples = await runRounds(ops, ctx.fileRuns, (round, results) => {
      const line = [...results].map(([name, v]) => `${name} ${v.toFixed(0)}`).join(', ');
      log(`  round ${round + 1}/${ctx.fileRuns}: ${line} MB/s`);
    });
    const note = `@sealstream/sos putObject/getObject, ${formatBytes(PART_SIZE)} parts, queue ${QUEUE_SIZE}`;
    const figures: Figure[] = ops.map((op) =>
      figure(op.figure, 's3', 'MB/s', samples.get(op.figure)!, { bytes: size, group: 's3', note }),
    );
    // What each costs this process (TLS, hashing, sealing or opening): steadier than wall time on a
    // shared machine. The store's own CPU is not in it.
    for (const op of ops) {
      const cpuSeconds = samples.get(cpuKey(op.figure))!.map((mbPerCpuSecond) => 1000 / mbPerCpuSecond);
      figures.push(
        figure(`${op.figure}_cpu_seconds_per_gb`, 's3', 'cpu-s/GB', cpuSeconds, {
          bytes: size,
          group: 's3',
          note: `${note}: CPU-seconds (user + system, all threads) of the client process per 10^9 bytes`,
        }),
      );
    }

    // A 1-byte ranged read in the middle of the encrypted object: the header, then one chunk.
    const offset = Math.floor(size / 2) + 12_345;
    fetched.bytes = 0;
    fetched.requests = 0;
    const got = await sos.getObject({
      client,
      bucket,
      key: objects.sealed,
      encryption: sealed,
      range: { start: offset, end: offset + 1 }, // [start, end): one byte
    });
    await got.body.pipeTo(checkingSink(plaintext.subarray(offset, offset + 1), 1, 's3 ranged read'));
    figures.push(
      figure('ranged_read_bytes_fetched', 's3', 'bytes', [fetched.bytes], {
        bytes: size,
        note: `GetObject body bytes for a 1-byte read at offset ${offset} of an encrypted object`,
      }),
      figure('ranged_read_requests', 's3', 'requests', [fetched.requests], {
        bytes: size,
        note: `GetObject requests sent for the same 1-byte read (retries included)`,
      }),
    );

    // Peak RSS of a client-side upload of unknown size (a generated stream), default settings, in a
    // fresh process: sos's measure script in its child mode. The object is deleted at once.
    const rssBytes = ctx.sizes.uploadRss;
    const peaks: number[] = [];
    for (let run = 0; run < ctx.memoryRuns; run++) {
      const mib = await uploadPeakRss(bucket, rssBytes);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'rss-0' })).catch(() => {});
      peaks.push(mib);
      log(
        `  run ${run + 1}/${ctx.memoryRuns}: peak_rss_mib_upload_2gib ${mib.toFixed(1)} MiB (${formatBytes(rssBytes)})`,
      );
    }
    figures.push(
      figure('peak_rss_mib_upload_2gib', 's3', 'MiB', peaks, {
        bytes: rssBytes,
        note: 'peak RSS of a child process uploading a stream of unknown size with client-side encryption, default part size and queue (packages/sos/scripts/measure.ts --child-upload)',
      }),
    );
    return { figures, skips: [] };
  } finally {
    for (const objectKey of Object.values(objects)) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey })).catch(() => {});
    }
    client.destroy();
  }
}
