/**
 * Measures @sealstream/sos against the local S3 test server, in one run:
 *
 *   node --conditions=sealstream-src --import tsx packages/sos/scripts/measure.ts
 *
 * Uses the server described by S3_ENDPOINT/AWS_* in the environment, else starts (or reuses) the
 * one of scripts/s3-server/start.sh with the SEALSTREAM_S3_* settings. Prints a Markdown table.
 * Figures depend on the machine and on what else runs on it; the table names both.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { createSosClient, type Encryption, getObject, putObject, rekeyObject } from '../src/index.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const root = resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

/** Same part settings for every upload compared. */
const PART_SIZE = 8 * MiB;
const QUEUE_SIZE = 4;
const THROUGHPUT_SIZE = 256 * MiB;
/** Sizes of the memory runs: the peak must not grow with the object. */
const RSS_SIZES = [256 * MiB, 2 * GiB];
const RUNS = 3;

interface ServerEnv {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  ca: string;
}

async function serverEnv(): Promise<ServerEnv> {
  let env: Record<string, string | undefined> = process.env;
  if (!env.S3_ENDPOINT) {
    const { stdout } = await run('bash', [join(root, 'scripts/s3-server/start.sh')], { maxBuffer: 1 << 20 });
    env = Object.fromEntries(
      stdout.split('\n').flatMap((line) => {
        const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
        return m ? [[m[1]!, m[2]!]] : [];
      }),
    );
  }
  const need = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`measure: ${name} is not set and start.sh did not print it`);
    return value;
  };
  return {
    endpoint: need('S3_ENDPOINT'),
    accessKeyId: need('AWS_ACCESS_KEY_ID'),
    secretAccessKey: need('AWS_SECRET_ACCESS_KEY'),
    region: env.AWS_REGION ?? 'us-east-1',
    ca: need('AWS_CA_BUNDLE'),
  };
}

function clientFor(s: ServerEnv): S3Client {
  return createSosClient({
    endpoint: s.endpoint,
    region: s.region,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
    ca: s.ca,
  });
}

/** `size` bytes in 1 MiB chunks of one random block (encryption makes the ciphertext unique anyway). */
function generated(size: number): Readable {
  const block = randomBytes(MiB);
  let left = size;
  return new Readable({
    read() {
      if (left === 0) return this.push(null);
      const n = Math.min(MiB, left);
      left -= n;
      this.push(n === MiB ? block : block.subarray(0, n));
    },
  });
}

/** Memstore keeps deleted data in RAM until garbage collection: collect now. */
async function collectGarbage(): Promise<void> {
  const dir = process.env.SEALSTREAM_S3_DIR ?? join(process.env.TMPDIR ?? '/tmp', 'sealstream-s3');
  await run('radosgw-admin', ['-c', join(dir, 'cluster/ceph.conf'), 'gc', 'process', '--include-all']).catch(
    (err: Error) => console.error(`measure: gc skipped (${err.message.split('\n')[0]})`),
  );
}

async function seconds(action: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mibps = (bytes: number, s: number) => bytes / MiB / s;

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) n += chunk.byteLength;
  return n;
}

/**
 * Child mode: MEASURE_UPLOADS (default 1) concurrent client-side uploads of MEASURE_RSS_BYTES bytes
 * each, from generated streams, to keys `rss-0`, `rss-1`, ...; reports memory.
 */
async function childUpload(): Promise<void> {
  const size = Number(process.env.MEASURE_RSS_BYTES);
  const uploads = Number(process.env.MEASURE_UPLOADS ?? 1);
  const s = await serverEnv();
  const client = clientFor(s);
  const baseline = process.memoryUsage().rss;
  // buffers held by the upload (parts, TLS): what queueSize x partSize bounds, unlike RSS, which
  // also counts the runtime and memory the allocator keeps after use
  let maxBuffers = 0;
  const sampler = setInterval(() => {
    maxBuffers = Math.max(maxBuffers, process.memoryUsage().arrayBuffers);
  }, 100);
  const puts = await Promise.all(
    Array.from({ length: uploads }, (_, i) =>
      putObject({
        client,
        bucket: process.env.MEASURE_BUCKET!,
        key: `rss-${i}`,
        body: generated(size),
        encryption: { clientSide: { keys: [generateKey()] } },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
      }),
    ),
  );
  const put = { size: puts.reduce((n, p) => n + p.size, 0) };
  clearInterval(sampler);
  // VmHWM, not maxRSS: Linux carries the parent's RSS at fork into a child's maxRSS across exec
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  const maxRss = hwm !== undefined ? Number(hwm) * 1024 : process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`${JSON.stringify({ baseline, maxRss, maxBuffers, size: put.size })}\n`);
}

async function main(): Promise<void> {
  const s = await serverEnv();
  const client = clientFor(s);
  const bucket = `measure-${Date.now().toString(36)}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const rows: [string, string][] = [];
  const log = (what: string, value: string) => {
    rows.push([what, value]);
    console.error(`  ${what}: ${value}`);
  };
  const key = generateKey();
  const clientSide: Encryption = { clientSide: { keys: [key] } };
  try {
    // 1. upload throughput, the same bytes with the same part settings; runs alternate
    const data = new Uint8Array(randomBytes(THROUGHPUT_SIZE));
    const up = { plain: [] as number[], sealed: [] as number[] };
    const down = { plain: [] as number[], sealed: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      for (const [label, encryption] of [
        ['plain', 'none'],
        ['sealed', clientSide],
      ] as const) {
        const name = `tp-${label}`;
        up[label].push(
          await seconds(() =>
            putObject({
              client,
              bucket,
              key: name,
              body: data,
              encryption,
              partSize: PART_SIZE,
              queueSize: QUEUE_SIZE,
            }),
          ),
        );
        down[label].push(
          await seconds(async () => {
            const got = await getObject({ client, bucket, key: name, encryption, parallel: QUEUE_SIZE });
            if ((await drain(got.body)) !== THROUGHPUT_SIZE) throw new Error('short download');
          }),
        );
      }
    }
    const upPlain = mibps(THROUGHPUT_SIZE, median(up.plain));
    const upSealed = mibps(THROUGHPUT_SIZE, median(up.sealed));
    const downPlain = mibps(THROUGHPUT_SIZE, median(down.plain));
    const downSealed = mibps(THROUGHPUT_SIZE, median(down.sealed));
    log(
      `upload, ${THROUGHPUT_SIZE / MiB} MiB, parts ${PART_SIZE / MiB} MiB x ${QUEUE_SIZE} (median of ${RUNS})`,
      `plain ${upPlain.toFixed(0)} MiB/s, client-side ${upSealed.toFixed(0)} MiB/s, ratio ${(upSealed / upPlain).toFixed(2)}`,
    );
    log(
      `download, same object (median of ${RUNS}; decrypted: ${QUEUE_SIZE} ranged GETs in parallel)`,
      `plain ${downPlain.toFixed(0)} MiB/s, decrypted ${downSealed.toFixed(0)} MiB/s, ratio ${(downSealed / downPlain).toFixed(2)}`,
    );

    // 2. a 1-byte ranged read of the large client-side object
    const ranged = await getObject({
      client,
      bucket,
      key: 'tp-sealed',
      encryption: clientSide,
      range: { start: 123 * MiB + 4567, end: 123 * MiB + 4568 }, // [start, end): one byte
    });
    await drain(ranged.body);
    log(
      `1-byte ranged read of a ${THROUGHPUT_SIZE / MiB} MiB client-side object`,
      `${ranged.stats.bytesFetched} bytes fetched (header read + one 16 KiB chunk)`,
    );

    // 3. client-side rekey of the large object
    const rekeyed = await rekeyObject({
      client,
      bucket,
      key: 'tp-sealed',
      encryption: clientSide,
      newEncryption: { clientSide: { keys: [generateKey()] } },
      partSize: PART_SIZE,
    });
    log(
      `client-side rekey of a ${(rekeyed.previousSize / MiB).toFixed(0)} MiB object (${rekeyed.method}, ${rekeyed.parts} parts)`,
      `${rekeyed.bytesDownloaded} bytes down + ${rekeyed.bytesUploaded} up through the client (${((100 * (rekeyed.bytesDownloaded + rekeyed.bytesUploaded)) / rekeyed.previousSize).toFixed(2)} % of the object), ${rekeyed.bytesCopied} copied by the server`,
    );
    for (const name of ['tp-plain', 'tp-sealed']) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: name }));
    }
    await collectGarbage();

    // 4. peak RSS of client-side uploads, each in a fresh process: 256 MiB, then 2 GiB
    for (const RSS_SIZE of RSS_SIZES) {
      const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, '--child-upload'], {
        env: {
          ...process.env,
          MEASURE_BUCKET: bucket,
          MEASURE_RSS_BYTES: String(RSS_SIZE),
          S3_ENDPOINT: s.endpoint,
          AWS_ACCESS_KEY_ID: s.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s.secretAccessKey,
          AWS_REGION: s.region,
          AWS_CA_BUNDLE: s.ca,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      const started = process.hrtime.bigint();
      const code = await new Promise<number | null>((done) => child.on('close', done));
      const took = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) throw new Error(`measure: the upload child exited with ${code}`);
      const rss = JSON.parse(out.trim().split('\n').at(-1)!) as {
        baseline: number;
        maxRss: number;
        maxBuffers: number;
      };
      log(
        `peak RSS, ${RSS_SIZE / GiB} GiB client-side upload of unknown size (parts ${PART_SIZE / MiB} MiB x ${QUEUE_SIZE})`,
        `${(rss.maxRss / MiB).toFixed(0)} MiB (process at start ${(rss.baseline / MiB).toFixed(0)} MiB; ArrayBuffers at most ${(rss.maxBuffers / MiB).toFixed(0)} MiB; ${mibps(RSS_SIZE, took).toFixed(0)} MiB/s incl. process start)`,
      );
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'rss-0' }));
      await collectGarbage();
    }
  } finally {
    await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
    await collectGarbage();
  }

  const cpu = cpus();
  console.log(
    `\nMachine: ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / GiB).toFixed(0)} GiB RAM, ` +
      `Node ${process.version}; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} at the end. Server: Ceph RGW (memstore) on the same machine, over TLS on loopback.\n`,
  );
  console.log('| measure | result |\n| --- | --- |');
  for (const [what, value] of rows) console.log(`| ${what} | ${value} |`);
}

if (process.argv.includes('--child-upload')) await childUpload();
else await main();
