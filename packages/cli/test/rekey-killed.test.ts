/**
 * A `rekey` of an object killed outright (SIGKILL) while its new object is a multipart upload: the
 * old object is intact, but the upload's parts stay on the store, billed. Killed at a known state
 * (a TLS-terminating proxy in front of the local S3 server holds the upload's parts), then: `uploads
 * ls` shows it, the next `rekey` of the object (and `rekey -r` of its prefix) names it with the
 * command that removes it, and that command removes it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { parseKey } from '@sealstream/core';
import { putObject } from '@sealstream/sos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortAllUploads } from '../../sos/test/incomplete-helpers.ts';
import { bin, run, storeEnv } from './helpers.ts';
import { type ProxiedBucket, proxiedBucket } from './proxied-bucket.ts';
import type { S3Proxy } from './resume-proxy.ts';

let client: S3Client;
let bucket: string;
let proxy: S3Proxy;
let keyFiles: Record<string, string>;
let store: ProxiedBucket | undefined;

beforeAll(async () => {
  store = await proxiedBucket(['old', 'new']);
  ({ client, bucket, proxy, keyFiles } = store);
});

afterAll(async () => {
  if (client && bucket) await abortAllUploads(client, bucket);
  await store?.close();
});

/**
 * Starts `rekey` through the proxy, holds every part of its upload, and once one is held sends it
 * the first of `signals` (the second once the run's cleanup tries to abort the upload); resolves
 * to how it ended and what it said.
 */
async function stoppedRekey(
  target: string,
  signals: [NodeJS.Signals] | [NodeJS.Signals, NodeJS.Signals],
): Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  const runNumber = proxy.nextRun();
  // the abort of the upload is held too: a second signal comes while the first one's cleanup waits
  proxy.gate((x) => (x.kind === 'part' || x.kind === 'abort' ? { kind: 'hold' } : { kind: 'pass' }));
  const child = spawn(
    process.execPath,
    [bin, 'rekey', '--key-file', keyFiles.old!, '--to-key-file', keyFiles.new!, target],
    { env: storeEnv({ AWS_ENDPOINT_URL_S3: proxy.endpoint }), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ signal: NodeJS.Signals | null; code: number | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  await proxy.until(
    () => proxy.exchanges.some((x) => x.run === runNumber && x.kind === 'part'),
    'a part of the rekey held',
  );
  const [first, second] = signals;
  child.kill(first);
  if (second !== undefined) {
    await proxy.until(
      () => proxy.exchanges.some((x) => x.run === runNumber && x.kind === 'abort'),
      'the abort of the upload held',
    );
    child.kill(second);
  }
  const end = await exited;
  proxy.dropAll();
  proxy.gate(() => ({ kind: 'pass' }));
  return { ...end, stderr };
}

async function killedRekey(target: string): Promise<void> {
  expect((await stoppedRekey(target, ['SIGKILL'])).signal).toBe('SIGKILL');
}

describe('rekey killed with SIGKILL', { timeout: 300_000 }, () => {
  it('leaves an upload that uploads ls shows, the next rekey names, and uploads abort removes', async () => {
    const old = parseKey(readFileSync(keyFiles.old!, 'utf8').trim());
    // two parts and more: the new object is a multipart upload
    const body = new Uint8Array(randomBytes(17 << 20));
    await putObject({ client, bucket, key: 'killed/o', body, encryption: { clientSide: { keys: [old] } } });
    const target = `s3://${bucket}/killed/o`;
    await killedRekey(target);

    const listed = await run(['uploads', 'ls', '--json', `s3://${bucket}/killed/`]);
    expect(listed.code, listed.stderr).toBe(0);
    const uploads = JSON.parse(listed.stdout.toString()).uploads as { key: string; uploadId: string }[];
    expect(uploads.map((u) => u.key)).toEqual(['killed/o']);
    const { uploadId } = uploads[0]!;

    // the old object is intact: the old key still opens it
    const cat = await run(['cat', '--key-file', keyFiles.old!, target]);
    expect(cat.code, cat.stderr).toBe(0);
    expect(cat.stdout.equals(Buffer.from(body))).toBe(true);

    const prefix = await run([
      'rekey',
      '-r',
      '--key-file',
      keyFiles.new!,
      '--to-key-file',
      keyFiles.old!,
      `s3://${bucket}/killed/`,
    ]);
    expect(prefix.code, prefix.stderr).toBe(0);
    expect(prefix.stderr).toContain(
      `the prefix s3://${bucket}/killed/ holds 1 incomplete multipart upload, perhaps left by a rekey`,
    );
    expect(prefix.stderr).toContain(`sealstream uploads ls s3://${bucket}/killed/`);

    const again = await run(['rekey', '--key-file', keyFiles.old!, '--to-key-file', keyFiles.new!, target]);
    expect(again.code, again.stderr).toBe(0);
    const abort = `sealstream uploads abort ${target} --upload-id ${uploadId}`;
    expect(again.stderr).toContain(`${target} has an incomplete multipart upload (${uploadId}`);
    expect(again.stderr).toContain(abort);

    const aborted = await run(abort.split(' ').slice(1));
    expect(aborted.code, aborted.stderr).toBe(0);
    const after = await run(['uploads', 'ls', '--json', `s3://${bucket}/killed/`]);
    expect(JSON.parse(after.stdout.toString()).uploads).toEqual([]);
    const quiet = await run(['rekey', '--key-file', keyFiles.new!, '--to-key-file', keyFiles.old!, target]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toContain('incomplete');
  });

  it('stopped without waiting (SIGINT twice): the last line names the upload under way and how to find it', async () => {
    const old = parseKey(readFileSync(keyFiles.old!, 'utf8').trim());
    const body = new Uint8Array(randomBytes(17 << 20));
    await putObject({ client, bucket, key: 'twice/o', body, encryption: { clientSide: { keys: [old] } } });
    const target = `s3://${bucket}/twice/o`;
    const stopped = await stoppedRekey(target, ['SIGINT', 'SIGINT']);
    expect(stopped.stderr).toContain('SIGINT again: stopped without waiting for cleanup');
    expect(stopped.stderr).toContain(
      `the upload to ${target} was under way and may be left on the store as an incomplete multipart upload: \`sealstream uploads ls ${target}\` shows it`,
    );
    await abortAllUploads(client, bucket);
  });
});
