/**
 * Times `sealstream ls` and `sealstream rekey -r` on a prefix of mixed small objects in the local
 * S3 server (S3_ENDPOINT / AWS_* in the environment, as /tmp/sealstream-s3/s3.env sets them):
 *
 *   pnpm --filter @sealstream/cli... build
 *   node --conditions=sealstream-src --import tsx packages/cli/scripts/measure-prefix.ts [objects]
 *
 * The objects (default 500): 30% client-side under key 1, 30% under key 2, 20% SSE-C, 20%
 * plaintext, 100 to 1,000 bytes each. Prints a Markdown table with the machine's load, then
 * deletes the bucket. Figures depend on the machine and on what else runs on it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { parseKey } from '@sealstream/core';
import { createSosClient, type Encryption, putObject } from '@sealstream/sos';

const exec = promisify(execFile);
const bin = resolve(import.meta.dirname, '../dist/bin.js');
const count = Number(process.argv[2] ?? 500);
const endpoint = process.env.S3_ENDPOINT ?? process.env.AWS_ENDPOINT_URL_S3;
if (!endpoint) throw new Error('set S3_ENDPOINT (source /tmp/sealstream-s3/s3.env)');
const env = { ...process.env, AWS_ENDPOINT_URL_S3: endpoint, SEALSTREAM_NO_PROGRESS: '1' };
const client = createSosClient({
  endpoint,
  ...(process.env.AWS_CA_BUNDLE ? { ca: process.env.AWS_CA_BUNDLE } : {}),
});
const bucket = `measure-prefix-${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'sealstream-measure-'));

async function sealstream(args: string[]): Promise<{ seconds: number; stdout: string }> {
  const started = performance.now();
  const { stdout } = await exec(process.execPath, [bin, ...args], { env, maxBuffer: 1 << 28 });
  return { seconds: (performance.now() - started) / 1000, stdout };
}

const key = async (name: string) => {
  const path = join(dir, name);
  await sealstream(['keygen', '-q', '-o', path]);
  return { path, bytes: parseKey(readFileSync(path, 'utf8').trim()) };
};
const [k1, k2, k3, s1, s2] = await Promise.all(['k1', 'k2', 'k3', 's1', 's2'].map(key));

await client.send(new CreateBucketCommand({ Bucket: bucket }));
try {
  const plan: [string, Encryption][] = [];
  for (let i = 0; i < count; i++) {
    const f = i / count;
    const encryption: Encryption =
      f < 0.3
        ? { clientSide: { keys: [k1!.bytes] } }
        : f < 0.6
          ? { clientSide: { keys: [k2!.bytes] } }
          : f < 0.8
            ? { sseC: { key: s1!.bytes } }
            : 'none';
    plan.push([`p/${String(i).padStart(5, '0')}`, encryption]);
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < plan.length) {
        const [k, encryption] = plan[next++]!;
        const body = new Uint8Array(100 + (next % 900));
        await putObject({ client, bucket, key: k, body, encryption });
      }
    }),
  );
  const prefix = `s3://${bucket}/p/`;
  const rows: string[] = [];
  const load = loadavg()[0]!.toFixed(1);
  for (const parallel of ['4', '16', '32']) {
    const ls = await sealstream(['ls', '--json', '--parallel', parallel, '--sse-c-file', s1!.path, prefix]);
    rows.push(`| ls --sse-c-file | ${parallel} | ${count} | - | ${ls.seconds.toFixed(1)} |`);
  }
  const rotate = (parallel: string) => [
    'rekey',
    '-r',
    '--json',
    '--parallel',
    parallel,
    '--key-file',
    k1!.path,
    '--to-key-file',
    k3!.path,
    '--sse-c-file',
    s1!.path,
    '--to-sse-c-file',
    s2!.path,
    prefix,
  ];
  const first = await sealstream(rotate('8'));
  rows.push(
    `| rekey -r (k1 -> k3, SSE-C s1 -> s2) | 8 | ${count} | ${JSON.parse(first.stdout).rekeyed} | ${first.seconds.toFixed(1)} |`,
  );
  const again = await sealstream(rotate('8'));
  rows.push(
    `| rekey -r again (nothing left to do) | 8 | ${count} | ${JSON.parse(again.stdout).rekeyed} | ${again.seconds.toFixed(1)} |`,
  );
  console.log(`${cpus().length} CPUs (${cpus()[0]?.model}), load average ${load} at the start\n`);
  console.log('| command | --parallel | objects | rekeyed | seconds |\n| --- | --- | --- | --- | --- |');
  console.log(rows.join('\n'));
} finally {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    if (!page.Contents?.length) break;
    await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: page.Contents.map((o) => ({ Key: o.Key! })) },
      }),
    );
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  client.destroy();
}
