/**
 * `cp -r` and `rekey -r` interrupted (SIGINT) part-way, against the local S3 server through the
 * TLS proxy, which holds every request past the first few so that the run is stopped while work
 * is left: the last line says how many files (objects) were done before it stopped, which matches
 * what is there, and what running the same command again does.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { parseKey } from '@sealstream/core';
import { putObject } from '@sealstream/sos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, run, storeEnv } from './helpers.ts';
import { type ProxiedBucket, proxiedBucket } from './proxied-bucket.ts';
import type { S3Proxy } from './resume-proxy.ts';

const COUNT = 12;
let client: S3Client;
let bucket: string;
let proxy: S3Proxy;
let dir: string;
let keyFiles: Record<string, string>;
let store: ProxiedBucket | undefined;

beforeAll(async () => {
  store = await proxiedBucket(['old', 'new']);
  ({ client, bucket, proxy, dir, keyFiles } = store);
  const old = parseKey(readFileSync(keyFiles.old!, 'utf8').trim());
  for (let i = 0; i < COUNT; i++) {
    const body = new Uint8Array(randomBytes(5000));
    await putObject({ client, bucket, key: `many/${i}`, body, encryption: { clientSide: { keys: [old] } } });
  }
});

afterAll(async () => {
  await store?.close();
});

/**
 * Runs the command through the proxy, lets its first `pass` requests through and holds the others,
 * sends SIGINT once one is held; resolves to its exit code and stderr.
 */
async function interrupted(args: string[], pass: number): Promise<{ code: number | null; stderr: string }> {
  const runNumber = proxy.nextRun();
  let seen = 0;
  proxy.gate(() => (seen++ < pass ? { kind: 'pass' } : { kind: 'hold' }));
  const child = spawn(process.execPath, [bin, ...args], {
    env: storeEnv({ AWS_ENDPOINT_URL_S3: proxy.endpoint, SEALSTREAM_NO_PROGRESS: '1' }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await proxy.until(
    () => proxy.exchanges.filter((x) => x.run === runNumber).length > pass,
    'a request of the run held',
  );
  child.kill('SIGINT');
  const code = await exited;
  proxy.dropAll();
  proxy.gate(() => ({ kind: 'pass' }));
  return { code, stderr };
}

describe('interrupted part-way', { timeout: 120_000 }, () => {
  it('cp -r down: says how many files were copied, and they are the files there, whole', async () => {
    const out = join(dir, 'down');
    const r = await interrupted(
      ['cp', '-r', '--parallel', '1', '--key-file', keyFiles.old!, `s3://${bucket}/many/`, out],
      8,
    );
    expect(r.code, r.stderr).toBe(130);
    const copied = /(\d+) of 12 files were copied before it stopped/.exec(r.stderr);
    expect(copied, r.stderr).not.toBeNull();
    // some copied, some not: the proxy held the run part-way
    expect(Number(copied![1])).toBeGreaterThan(0);
    expect(Number(copied![1])).toBeLessThan(COUNT);
    const files = readdirSync(out);
    expect(files).toHaveLength(Number(copied![1]));
    expect(files.every((f) => !f.startsWith('.'))).toBe(true);
    expect(r.stderr).toContain('running the same command again copies every file again');
  });

  it('rekey -r: says how many objects were rekeyed, and that running it again skips them', async () => {
    const r = await interrupted(
      [
        'rekey',
        '-r',
        '--parallel',
        '1',
        '--key-file',
        keyFiles.old!,
        '--to-key-file',
        keyFiles.new!,
        `s3://${bucket}/many/`,
      ],
      12,
    );
    expect(r.code, r.stderr).toBe(130);
    const rekeyed = /(\d+) of the 12 objects listed so far were rekeyed before it stopped/.exec(r.stderr);
    expect(rekeyed, r.stderr).not.toBeNull();
    expect(Number(rekeyed![1])).toBeGreaterThan(0);
    expect(Number(rekeyed![1])).toBeLessThan(COUNT);
    expect(r.stderr).toContain('running the same command again skips the objects already on the new keys');
    const again = await run([
      'rekey',
      '-r',
      '--json',
      '--key-file',
      keyFiles.old!,
      '--to-key-file',
      keyFiles.new!,
      `s3://${bucket}/many/`,
    ]);
    expect(again.code, again.stderr).toBe(0);
    const summary = JSON.parse(again.stdout.toString());
    expect(summary.skipped['already on the new keys'] ?? 0).toBe(Number(rekeyed![1]));
    expect(summary.rekeyed).toBe(COUNT - Number(rekeyed![1]));
  });
});
