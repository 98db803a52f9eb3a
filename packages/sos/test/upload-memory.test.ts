// Memory of client-side uploads of unknown size, measured in a fresh process (scripts/measure.ts in
// its child mode) against the real server: it must stay about queueSize x partSize per upload.
// Bounds only (with margins for the runtime); no timing is asserted.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { useTestBucket } from './helpers.ts';

const MiB = 1024 * 1024;
const run = promisify(execFile);
const MEASURE = join(import.meta.dirname, '../scripts/measure.ts');
/** The settings measure.ts uploads with: 8 MiB parts, 4 in flight. */
const PARTS_IN_FLIGHT = 4 * 8 * MiB;

let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

interface Report {
  baseline: number;
  maxRss: number;
  maxBuffers: number;
  size: number;
}

async function measureUploads(uploads: number, bytes: number): Promise<Report> {
  try {
    const { stdout } = await run(
      process.execPath,
      ['--conditions=sealstream-src', '--import', 'tsx', MEASURE, '--child-upload'],
      {
        env: {
          ...process.env,
          MEASURE_BUCKET: bucket,
          MEASURE_RSS_BYTES: String(bytes),
          MEASURE_UPLOADS: String(uploads),
        },
        timeout: 600_000,
      },
    );
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Report;
  } finally {
    // the store keeps objects in memory: remove them at once
    for (let i = 0; i < uploads; i++) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `rss-${i}` })).catch(() => {});
    }
  }
}

describe('client-side upload memory', () => {
  it('one 512 MiB upload of unknown size: RSS grows by about queueSize x partSize, not with garbage', async () => {
    const report = await measureUploads(1, 512 * MiB);
    expect(report.size).toBeGreaterThan(512 * MiB);
    // before the reused part buffers and the sliced bodies: +245 MiB for 2 GiB (347 MiB peak)
    expect(report.maxRss - report.baseline).toBeLessThan(PARTS_IN_FLIGHT + 96 * MiB);
    // buffers: the parts in flight, 1 MiB of plaintext, the source's 1 MiB block, TLS records; before
    // Node Readables were read a chunk at a time, their async iterator's joined copies (garbage
    // until V8 collects at its external-memory step) took this to +30 MiB
    expect(report.maxBuffers).toBeLessThan(PARTS_IN_FLIGHT + 8 * MiB);
  }, 600_000);

  it('8 concurrent 64 MiB uploads from one process: about queueSize x partSize each', async () => {
    const uploads = 8;
    const report = await measureUploads(uploads, 64 * MiB);
    expect(report.size).toBeGreaterThan(uploads * 64 * MiB);
    // buffers held: the parts in flight of each upload, its 1 MiB of plaintext, and a little more
    expect(report.maxBuffers).toBeLessThan(uploads * (PARTS_IN_FLIGHT + 4 * MiB) + 32 * MiB);
    expect(report.maxRss - report.baseline).toBeLessThan(uploads * (PARTS_IN_FLIGHT + 8 * MiB) + 96 * MiB);
  }, 600_000);
});
