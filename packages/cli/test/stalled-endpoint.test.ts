/**
 * `cp` against an endpoint that accepts TCP and never answers the TLS handshake (a listener on
 * 127.0.0.1 started here): exit 6 (`TIMEOUT`) within the connect bound of each of the 3 attempts,
 * the message naming the endpoint and the bound, never a key; also when the run first has to
 * clean up after an earlier run killed during its CreateMultipartUpload (that cleanup's own
 * deadline used to surface as an unmapped "Request aborted", exit 1).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, run, storeEnv, tempDir } from './helpers.ts';

const sockets: Socket[] = [];
const silent = createServer((socket) => {
  sockets.push(socket);
  socket.on('error', () => {});
});
let endpoint: string;
const dir = tempDir();
const keyFile = join(dir, 'key');
const big = join(dir, 'big.bin');

beforeAll(async () => {
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  endpoint = `https://127.0.0.1:${(silent.address() as { port: number }).port}`;
  writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  writeFileSync(big, randomBytes(40 * 1024 * 1024)); // several parts: a multipart upload
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

function env(state: string): Record<string, string> {
  return storeEnv({
    AWS_ENDPOINT_URL_S3: endpoint,
    SEALSTREAM_STATE_DIR: state,
    SEALSTREAM_NO_PROGRESS: '1',
  });
}

function expectTimeout(result: { code: number | null; stderr: string }): void {
  expect(result.code, result.stderr).toBe(6);
  expect(result.stderr).toContain(endpoint);
  expect(result.stderr).toContain('connect timeout');
  expect(result.stderr).toContain('--connect-timeout');
  expect(result.stderr).toContain('3 attempts');
  expect(result.stderr).not.toContain(readFileSync(keyFile, 'utf8').trim());
}

describe('cp to a store that never completes the TLS handshake', () => {
  it.each([
    ['a small file (one PutObject)', 'small'],
    ['a file of several parts (multipart)', 'big'],
  ])('%s: exit 6 after 3 connections, naming the endpoint and the bound', async (_what, which) => {
    const small = join(dir, 'small.txt');
    writeFileSync(small, 'hello');
    const before = sockets.length;
    const result = await run(
      [
        'cp',
        '--key-file',
        keyFile,
        '--connect-timeout',
        '0.3',
        which === 'big' ? big : small,
        's3://stalled/x',
      ],
      { env: env(join(dir, `state-${which}`)) },
    );
    expectTimeout(result);
    expect(sockets.length - before).toBe(3);
  });

  it('after a run killed during its Create: the cleanup of that run fails with exit 6 too, its journal kept', async () => {
    const state = join(dir, 'state-killed');
    const uploads = join(state, 'uploads');
    // run 1: its CreateMultipartUpload is stuck in the handshake when it is killed
    const before = sockets.length;
    const first = spawn(
      process.execPath,
      [bin, 'cp', '--key-file', keyFile, '--connect-timeout', '60', big, 's3://stalled/x'],
      { env: env(state), stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => first.on('close', resolve));
    for (let i = 0; i < 500 && sockets.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sockets.length, 'run 1 connected').toBeGreaterThan(before);
    first.kill('SIGKILL');
    await exited;
    const left = existsSync(uploads) ? readdirSync(uploads).filter((f) => f.endsWith('.json')) : [];
    expect(left, 'run 1 left the journal written before its Create').toHaveLength(1);
    // run 2 first looks for the upload run 1 may have created: the store never answers
    const second = await run(
      ['cp', '--key-file', keyFile, '--connect-timeout', '0.3', big, 's3://stalled/x'],
      {
        env: env(state),
      },
    );
    expectTimeout(second);
    expect(
      readdirSync(uploads).filter((f) => f.endsWith('.json')),
      'kept for a later run',
    ).toEqual(left);
  });
});
