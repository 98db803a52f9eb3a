/** Interrupted runs (SIGINT, SIGTERM) leave no partial output file and no multipart upload. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { HeadObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, openUploads, testClient } from '../../sos/test/helpers.ts';
import { bin, buildCli, run, storeEnv, tempDir } from './helpers.ts';

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;
let key: string;

beforeAll(async () => {
  buildCli();
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
  key = join(tempDir(), 'key');
  await run(['keygen', '-o', key, '-q']);
});

afterAll(async () => {
  await cleanup?.();
  client?.destroy();
});

function start(args: string[]): {
  child: ChildProcess;
  exit: Promise<{ code: number | null; stderr: string }>;
} {
  const child = spawn(process.execPath, [bin, ...args], {
    env: storeEnv(),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin!.on('error', () => {});
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
  return { child, exit };
}

async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('interrupted runs', () => {
  it('SIGINT mid-upload: exit 130, no object, no multipart upload left', async () => {
    const { child, exit } = start(['cp', '--key-file', key, '-', `s3://${bucket}/interrupted.bin`]);
    // more than two parts' worth, then the source stalls with stdin still open
    child.stdin!.write(randomBytes(20 * 1024 * 1024));
    await until(async () => (await openUploads(client, bucket)) > 0, 'the multipart upload to start');
    child.kill('SIGINT');
    const { code, stderr } = await exit;
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('interrupted');
    expect(await openUploads(client, bucket)).toBe(0);
    await expect(
      client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'interrupted.bin' })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('SIGINT mid-write: no partial output file; SIGTERM exits 143', async () => {
    const plain = randomBytes(4 * 1024 * 1024);
    const sealed = (await run(['encrypt', '--key-file', key], { input: plain })).stdout;
    for (const [signal, expected] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      const out = tempDir();
      const { child, exit } = start(['decrypt', '--key-file', key, '-o', join(out, 'plain')]);
      child.stdin!.write(sealed.subarray(0, 2 * 1024 * 1024));
      await until(() => readdirSync(out).length > 0, 'the temporary output file');
      expect(readdirSync(out)[0]).toMatch(/^\.plain\..*\.sealstream-partial$/);
      child.kill(signal);
      const { code, stderr } = await exit;
      expect(code, stderr).toBe(expected);
      expect(readdirSync(out)).toEqual([]);
    }
  });

  it('SIGINT while the writer thread writes a large file: exit 130, no partial output', async () => {
    // a sparse 8 GiB input (reads cost no disk): far above the writer thread's threshold, and
    // long enough that the signal comes mid-file
    const input = join(tempDir(), 'sparse');
    writeFileSync(input, '');
    truncateSync(input, 8 * 1024 ** 3);
    const out = tempDir();
    try {
      const { child, exit } = start(['encrypt', '--key-file', key, '-o', join(out, 'sealed'), input]);
      const partial = () => readdirSync(out).map((name) => join(out, name));
      // the thread is writing: the temporary file has grown past the ring (8 slots of 260 KiB)
      await until(
        () => partial().some((path) => (statSync(path, { throwIfNoEntry: false })?.size ?? 0) > 4 << 20),
        'output to be written',
      );
      child.kill('SIGINT');
      const { code, stderr } = await exit;
      expect(code, stderr).toBe(130);
      expect(stderr).toContain('the partial output file was removed');
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(input, { force: true });
    }
  });

  it('the first SIGTERM stops an upload stalled on a server that never answers, within the 5 s bound', async () => {
    // a TCP server that accepts and then says nothing: the TLS handshake never completes
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const child = spawn(process.execPath, [bin, 'cp', '--key-file', key, key, 's3://stalled-bucket/x'], {
        env: storeEnv({ AWS_ENDPOINT_URL_S3: `https://127.0.0.1:${port}` }),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
      await until(() => sockets.length > 0, 'the client to connect');
      const signalled = performance.now();
      child.kill('SIGTERM');
      const code = await exit;
      const seconds = (performance.now() - signalled) / 1000;
      expect(code, stderr).toBe(143);
      expect(seconds).toBeLessThan(15); // 5 s of cleanup at most, plus a loaded machine's slack
      expect(stderr).toContain('interrupted (SIGTERM)');
      expect(stderr).not.toContain('nothing partial');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('a local run stuck past the 5 s bound (-o a FIFO nobody reads) ends by the signal, without a word about uploads', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'nobody-reads');
    execFileSync('mkfifo', [fifo]);
    const child = spawn(process.execPath, [bin, 'encrypt', '--key-file', key, '-o', fifo, key], {
      env: storeEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exit = new Promise<string>((resolve) =>
      child.on('close', (code, signal) => resolve(`${code} ${signal}`)),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000)); // blocked opening the FIFO by then
    const signalled = performance.now();
    child.kill('SIGTERM');
    // it ends by the signal itself (a shell sees 143): process.exit waited for the thread stuck in
    // open() and never returned
    expect(await exit, stderr).toBe('null SIGTERM');
    expect((performance.now() - signalled) / 1000).toBeLessThan(15);
    expect(stderr).toContain('did not stop within 5 s');
    expect(stderr).not.toMatch(/upload/);
  });

  it('cat to stdout: the message says the bytes already written stay written', async () => {
    const plain = randomBytes(4 * 1024 * 1024);
    const file = join(tempDir(), 'sealed');
    await run(['encrypt', '--key-file', key, '-o', file], { input: plain });
    const child = spawn(process.execPath, [bin, 'cat', '--key-file', key, file], {
      env: storeEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    // read one chunk, then stop reading: the pipe fills and the command blocks in a write
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    child.stdout!.pause();
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    // blocked past the 5 s bound: it ends by the signal itself (a shell sees 143)
    const ended = await new Promise<string>((resolve) =>
      child.on('close', (code, signal) => resolve(`${code} ${signal}`)),
    );
    expect(ended, stderr).toBe('null SIGTERM');
    expect(stderr).toMatch(
      /authenticated plaintext had already gone out to stdout \(a (pipe|socket)\), (at least \d+ bytes|maybe in part): what was written there is incomplete/,
    );
    expect(stderr).not.toContain('nothing partial');
  });

  it('cp -r --parallel 11 interrupted: every upload kept is named with its abort command, no listener warning', {
    timeout: 120_000,
  }, async () => {
    const tree = tempDir();
    // more than one part each (8 MiB parts), so each upload is resumable and kept on SIGINT
    for (let i = 0; i < 11; i++) writeFileSync(join(tree, `f${i}`), randomBytes(24 << 20));
    const stateDir = tempDir();
    const child = spawn(
      process.execPath,
      [bin, 'cp', '-r', '--parallel', '11', '--key-file', key, tree, `s3://${bucket}/tree/`],
      { env: storeEnv({ SEALSTREAM_STATE_DIR: stateDir }), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      // an upload is kept once its journal records its ID (before that, it is aborted): under
      // load that can lag behind the uploads the store lists, so wait for the journals
      const journaled = () => {
        const folder = join(stateDir, 'uploads');
        if (!existsSync(folder)) return 0;
        return readdirSync(folder).filter(
          (f) => f.endsWith('.json') && /"uploadId": "/.test(readFileSync(join(folder, f), 'utf8')),
        ).length;
      };
      await until(() => journaled() >= 11, 'the 11 uploads to be journaled');
      child.kill('SIGINT');
      const code = await exit;
      expect(code, stderr).toBe(130);
      const kept = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'tree/' }));
      const uploads = kept.Uploads ?? [];
      // the uploads that had not completed when the signal came: several, each named
      expect(uploads.length, stderr).toBeGreaterThan(1);
      expect(stderr).toContain(`${uploads.length} uploads are kept on the store`);
      for (const u of uploads) {
        expect(stderr).toContain(
          `sealstream uploads abort s3://${bucket}/${u.Key} --upload-id ${u.UploadId}`,
        );
      }
      expect(stderr).not.toContain('MaxListenersExceededWarning');
    } finally {
      child.kill('SIGKILL');
      await run(['uploads', 'abort', '--all', `s3://${bucket}/tree/`]);
      rmSync(tree, { recursive: true, force: true });
    }
  });
});
