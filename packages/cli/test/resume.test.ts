/**
 * `cp FILE s3://...` resuming, as a user meets it: Ctrl-C keeps the upload and says how to go on,
 * the same command continues it and says what it skipped, a changed file or other keys are
 * refused with the command that starts over, stdin is not resumable, `--restart`, `--no-resume`,
 * the state folder, a corrupt journal; and no journal holds key material or a passphrase.
 * The proxy (resume-proxy.ts) holds the upload at a known point before each interruption.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { abortIncompleteUpload, listIncompleteUploads } from '@sealstream/sos';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshBucket, testClient } from '../../sos/test/helpers.ts';
import { abortAllUploads } from '../../sos/test/incomplete-helpers.ts';
import { buildCli, run, storeEnv, tempDir } from './helpers.ts';
import { journals, keyForms, plaintextHash, startCp } from './resume-helpers.ts';
import { type S3Proxy, startS3Proxy } from './resume-proxy.ts';

const MiB = 1024 * 1024;

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;
let proxy: S3Proxy;
let dir: string;
let key1: string;
let key2: string;
let ssec: string;
let passFile: string;
const PASSPHRASE = 'correct horse battery staple resume';

beforeAll(async () => {
  buildCli();
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
  const s3 = inject('s3');
  proxy = await startS3Proxy(s3.endpoint, s3.caFile);
  dir = tempDir();
  [key1, key2, ssec] = ['k1', 'k2', 'ssec'].map((n) => join(dir, n)) as [string, string, string];
  for (const k of [key1, key2, ssec]) expect((await run(['keygen', '-o', k, '-q'])).code).toBe(0);
  passFile = join(dir, 'pass');
  writeFileSync(passFile, `${PASSPHRASE}\n`);
});

afterAll(async () => {
  await proxy?.close();
  if (client && bucket) await abortAllUploads(client, bucket);
  await cleanup?.();
  client?.destroy();
});

/** A file of `size` random bytes and its SHA-256. */
function file(name: string, size = 30 * MiB): { path: string; sha256: string } {
  const path = join(dir, name);
  const data = randomBytes(size);
  writeFileSync(path, data);
  return { path, sha256: createHash('sha256').update(data).digest('hex') };
}

/**
 * Starts `cp ARGS` through the proxy with every part after the first `parts` held, waits until
 * the journal records those parts, then stops the run with `signal`.
 */
async function interrupt(
  args: string[],
  state: string,
  signal: NodeJS.Signals,
  parts = 2,
  env: Record<string, string> = {},
) {
  const seen = new Set<string>();
  proxy.nextRun();
  let n = 0;
  proxy.gate((x) => (x.kind === 'part' && n++ >= parts ? { kind: 'hold' } : { kind: 'pass' }));
  const cp = startCp(args, state, seen, proxy.endpoint, env);
  const ended = cp.exit.then((e) => {
    throw new Error(`cp ended before it could be interrupted (${e.code}): ${e.stderr}`);
  });
  await Promise.race([
    proxy.until(() => (journals(state)[0]?.parts ?? 0) >= parts, `${parts} parts journaled`),
    ended,
  ]);
  cp.child.kill(signal);
  const out = await cp.exit;
  cp.stopWatching();
  proxy.dropAll();
  proxy.gate(() => ({ kind: 'pass' }));
  for (const j of journals(state)) seen.add(j.text);
  return { ...out, seen };
}

/** Runs `cp ARGS` through the proxy, to the end. */
async function cp(args: string[], state: string, env: Record<string, string> = {}) {
  const seen = new Set<string>();
  const c = startCp(args, state, seen, proxy.endpoint, env);
  const out = await c.exit;
  c.stopWatching();
  return { ...out, seen };
}

async function uploadsOf(key: string): Promise<string[]> {
  return (await listIncompleteUploads({ client, bucket, prefix: key }))
    .filter((u) => u.key === key)
    .map((u) => u.uploadId);
}

describe('cp FILE s3://... resumes', () => {
  it('Ctrl-C keeps the upload and says how to go on; the same command resumes it and says what it skipped', async () => {
    const src = file('ctrl-c.bin');
    const state = tempDir();
    const target = `s3://${bucket}/ctrl-c.bin`;
    const args = ['cp', '--key-file', key1, src.path, target];
    const stopped = await interrupt(args, state, 'SIGINT');
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain('interrupted (SIGINT)');
    expect(stopped.stderr).toContain(`the upload of ${src.path} -> ${target} is kept on the store`);
    expect(stopped.stderr).toContain('run the same command again to resume');
    const [id] = await uploadsOf('ctrl-c.bin');
    expect(id).toBeDefined();
    expect(stopped.stderr).toContain(`sealstream uploads abort ${target} --upload-id ${id}`);
    expect(journals(state)).toHaveLength(1);
    // the journal folder is the user's alone
    expect(statSync(join(state, 'uploads')).mode & 0o777).toBe(0o700);
    expect(statSync(join(state, 'uploads', readdirSync(join(state, 'uploads'))[0]!)).mode & 0o777).toBe(
      0o600,
    );

    // `uploads ls` shows it
    const ls = await run(['uploads', 'ls', `s3://${bucket}/ctrl-c`]);
    expect(ls.stdout.toString()).toContain(id!);

    const again = await cp([...args, '--json'], state);
    expect(again.code, again.stderr).toBe(0);
    const result = JSON.parse(again.stdout);
    expect(result.files[0].resumed).toMatchObject({ uploadId: id, partsSkipped: 2, partsTotal: 4 });
    expect(result.files[0].resumed.bytesSkipped).toBe(16 * MiB);
    expect(result.files[0].size).toBe(30 * MiB);
    const text = await cp(args, tempDir()); // a fresh state: a plain upload, nothing said about resuming
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).not.toMatch(/resum/i);

    expect((await plaintextHash(['--key-file', key1, target])).sha256).toBe(src.sha256);
    expect(await uploadsOf('ctrl-c.bin')).toEqual([]);
    expect(journals(state)).toEqual([]);
    for (const j of [...stopped.seen, ...again.seen])
      for (const form of keyForms(Buffer.from(readFileSync(key1, 'utf8').trim(), 'base64')))
        expect(j.includes(form)).toBe(false);
  });

  it('a network failure keeps the upload and says how to go on (exit 6)', async () => {
    const src = file('network.bin');
    const state = tempDir();
    const target = `s3://${bucket}/network.bin`;
    const args = ['cp', '--key-file', key1, '--read-timeout', '1', src.path, target];
    proxy.nextRun();
    let n = 0;
    // one part stored, then the store stops answering parts
    proxy.gate((x) => (x.kind === 'part' && n++ >= 1 ? { kind: 'hold' } : { kind: 'pass' }));
    const failed = await cp([...args, '--json'], state);
    proxy.dropAll();
    proxy.gate(() => ({ kind: 'pass' }));
    expect(failed.code, failed.stderr).toBe(6);
    const error = JSON.parse(failed.stdout).error;
    expect(error.code).toBe('TIMEOUT');
    const [id] = await uploadsOf('network.bin');
    expect(error.message).toContain(`upload of ${src.path} -> ${target} stopped`);
    expect(error.message).toContain(`kept on the store (upload ${id})`);
    expect(error.hint).toContain('run the same command again to resume');
    expect(error.hint).toContain(`sealstream uploads abort ${target} --upload-id ${id}`);
    const again = await cp(args, state);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('1 of 4 parts (8.0 MiB) already stored');
    expect((await plaintextHash(['--key-file', key1, target])).sha256).toBe(src.sha256);
  });

  it('prints what it skipped on stderr', async () => {
    const src = file('told.bin');
    const state = tempDir();
    const args = ['cp', '--sse-c-file', ssec, src.path, `s3://${bucket}/told.bin`];
    const stopped = await interrupt(args, state, 'SIGTERM');
    expect(stopped.code, stopped.stderr).toBe(143);
    const again = await cp(args, state);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(
      `resuming the interrupted upload of ${src.path} -> s3://${bucket}/told.bin: 2 of 4 parts (16.0 MiB) already stored, not sent again`,
    );
    expect(again.stderr).toMatch(/; resumed: 2 of 4 parts \(16\.0 MiB\) were already stored/);
    expect((await plaintextHash(['--sse-c-file', ssec, `s3://${bucket}/told.bin`])).sha256).toBe(src.sha256);
    const sseCKey = Buffer.from(readFileSync(ssec, 'utf8').trim(), 'base64');
    for (const j of [...stopped.seen, ...again.seen])
      for (const form of keyForms(sseCKey)) expect(j.includes(form)).toBe(false);
  });

  it('a changed file is refused with the command that starts over; --restart does, aborting the old upload', async () => {
    const src = file('changed.bin');
    const state = tempDir();
    const target = `s3://${bucket}/changed.bin`;
    const args = ['cp', '--key-file', key1, src.path, target];
    expect((await interrupt(args, state, 'SIGKILL')).signal).toBe('SIGKILL');
    const [old] = await uploadsOf('changed.bin');
    appendFileSync(src.path, 'more');

    const refused = await cp([...args, '--json'], state);
    expect(refused.code, refused.stderr).toBe(1);
    const error = JSON.parse(refused.stdout).error;
    expect(error.code).toBe('SOURCE_CHANGED');
    expect(error.message).toContain(`${src.path} changed since its interrupted upload to ${target} began`);
    expect(error.hint).toContain('--restart');
    expect(error.hint).toContain(`sealstream uploads abort ${target}`);
    // nothing was touched
    expect(await uploadsOf('changed.bin')).toEqual([old]);
    expect(journals(state)).toHaveLength(1);

    const restarted = await cp([...args, '--restart'], state);
    expect(restarted.code, restarted.stderr).toBe(0);
    const data = readFileSync(src.path);
    expect((await plaintextHash(['--key-file', key1, target])).sha256).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
    expect(await uploadsOf('changed.bin')).toEqual([]);
    expect(journals(state)).toEqual([]);
  });

  it('a file that changes while it is uploaded: the hint says --restart, not to run the same command again', async () => {
    const src = file('changes-midway.bin');
    const state = tempDir();
    const target = `s3://${bucket}/changes-midway.bin`;
    const args = ['cp', '--key-file', key1, src.path, target];
    // hold the upload after two parts, change the file, then let the parts through: the check
    // before CompleteMultipartUpload finds the change
    proxy.nextRun();
    let n = 0;
    proxy.gate((x) => (x.kind === 'part' && n++ >= 2 ? { kind: 'hold' } : { kind: 'pass' }));
    const running = startCp([...args, '--json'], state, new Set(), proxy.endpoint);
    await proxy.until(() => (journals(state)[0]?.parts ?? 0) >= 2, '2 parts journaled');
    appendFileSync(src.path, 'more');
    proxy.gate(() => ({ kind: 'pass' }));
    proxy.dropAll();
    const out = await running.exit;
    running.stopWatching();
    expect(out.code, out.stderr).toBe(1);
    const error = JSON.parse(out.stdout).error;
    expect(error.message).toContain('changed while it was being uploaded');
    // running the same command again is refused (SOURCE_CHANGED): the hint must not send the user there
    expect(error.hint).not.toContain('run the same command again to resume');
    expect(error.hint).toContain('--restart');
    const [kept] = await uploadsOf('changes-midway.bin');
    expect(error.hint).toContain(`sealstream uploads abort ${target} --upload-id ${kept}`);

    const restarted = await cp([...args, '--restart'], state);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(await uploadsOf('changes-midway.bin')).toEqual([]);
  });

  it('other keys are refused with a clear error; after `uploads abort` the same command starts over', async () => {
    const src = file('rekeyed.bin');
    const state = tempDir();
    const target = `s3://${bucket}/rekeyed.bin`;
    const args = ['cp', '--key-file', key1, src.path, target];
    expect((await interrupt(args, state, 'SIGKILL')).signal).toBe('SIGKILL');
    const other = await cp(['cp', '--key-file', key2, src.path, target, '--json'], state);
    expect(other.code, other.stderr).toBe(3);
    const error = JSON.parse(other.stdout).error;
    expect(error.code).toBe('RESUME_KEY_MISMATCH');
    expect(error.message).toContain(
      `the keys given do not match the interrupted upload of ${src.path} -> ${target}`,
    );
    expect(error.hint).toContain('--restart');
    expect(journals(state)).toHaveLength(1);
    // the SSE-C layer counts too: the same client-side key plus an SSE-C key is another upload
    const plusSseC = await cp(['cp', '--key-file', key1, '--sse-c-file', ssec, src.path, target], state);
    expect(plusSseC.code, plusSseC.stderr).toBe(3);

    const [id] = await uploadsOf('rekeyed.bin');
    const aborted = await run(['uploads', 'abort', target]);
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(aborted.stderr).toContain(`aborted upload ${id}`);
    // the journal names an upload the store no longer has: the upload starts over from zero
    const fresh = await cp([...args, '--json'], state);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(JSON.parse(fresh.stdout).files[0].resumed).toBeUndefined();
    expect((await plaintextHash(['--key-file', key1, target])).sha256).toBe(src.sha256);
    expect(await uploadsOf('rekeyed.bin')).toEqual([]);
    expect(journals(state)).toEqual([]);
  });

  it('a passphrase upload resumes with the passphrase, and no journal holds it', async () => {
    const src = file('pass.bin');
    const state = tempDir();
    const args = [
      'cp',
      '--passphrase-file',
      passFile,
      '--work-factor',
      '10',
      src.path,
      `s3://${bucket}/pass.bin`,
    ];
    const stopped = await interrupt(args, state, 'SIGINT');
    expect(stopped.code, stopped.stderr).toBe(130);
    const again = await cp(args, state);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('2 of 4 parts');
    for (const j of [...stopped.seen, ...again.seen]) {
      expect(j).not.toContain(PASSPHRASE);
      expect(j).not.toContain(Buffer.from(PASSPHRASE).toString('base64'));
      expect(j).not.toContain(Buffer.from(PASSPHRASE).toString('hex'));
    }
    expect((await plaintextHash(['--passphrase-file', passFile, `s3://${bucket}/pass.bin`])).sha256).toBe(
      src.sha256,
    );
  });
});

describe('what is not resumed', () => {
  it('stdin: no journal; --restart says it is not resumable, and nothing is said without it', async () => {
    const state = tempDir();
    const data = randomBytes(12 * MiB);
    const env = storeEnv({ SEALSTREAM_STATE_DIR: state, SEALSTREAM_NO_PROGRESS: '1' });
    const plain = await run(['cp', '--key-file', key1, '-', `s3://${bucket}/stdin.bin`], {
      input: data,
      env,
    });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).not.toMatch(/resum/i);
    const asked = await run(['cp', '--key-file', key1, '--restart', '-', `s3://${bucket}/stdin.bin`], {
      input: data,
      env,
    });
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stderr).toContain('an upload from stdin is not resumable');
    expect(readdirSync(state)).toEqual([]);
  });

  it('--no-resume: an interrupted upload is aborted and no journal is kept', async () => {
    const src = file('no-resume.bin');
    const state = tempDir();
    const runNumber = proxy.nextRun();
    let n = 0;
    proxy.gate((x) => (x.kind === 'part' && n++ >= 2 ? { kind: 'hold' } : { kind: 'pass' }));
    const c = startCp(
      ['cp', '--no-resume', '--key-file', key1, src.path, `s3://${bucket}/no-resume.bin`],
      state,
      new Set(),
      proxy.endpoint,
    );
    await proxy.until(
      () => proxy.exchanges.filter((x) => x.run === runNumber && x.kind === 'part' && x.relayed).length >= 2,
      'two parts',
    );
    c.child.kill('SIGINT');
    const out = await c.exit;
    c.stopWatching();
    proxy.dropAll();
    proxy.gate(() => ({ kind: 'pass' }));
    expect(out.code, out.stderr).toBe(130);
    expect(await uploadsOf('no-resume.bin')).toEqual([]);
    expect(readdirSync(state)).toEqual([]);
    expect((await run(['cp', '--no-resume', '--restart', src.path, `s3://${bucket}/x`])).code).toBe(2);
  });

  it('a state folder that cannot be made: a warning, and the upload goes on unresumable', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    const src = file('no-state.bin', 1 * MiB);
    const out = await cp(
      ['cp', '--key-file', key1, src.path, `s3://${bucket}/no-state.bin`],
      join(blocker, 'state'),
    );
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toContain('cannot keep a resume journal in');
    expect(out.stderr).toContain('this upload will not be resumable');
  });

  it('XDG_STATE_HOME is used when SEALSTREAM_STATE_DIR is not set; a corrupt journal is refused until --restart', async () => {
    const xdg = tempDir();
    const src = file('xdg.bin');
    const target = `s3://${bucket}/xdg.bin`;
    const args = ['cp', '--key-file', key1, src.path, target];
    const env = { SEALSTREAM_STATE_DIR: '', XDG_STATE_HOME: xdg };
    const state = join(xdg, 'sealstream');
    expect((await interrupt(args, state, 'SIGKILL', 2, env)).signal).toBe('SIGKILL');
    const [name] = readdirSync(join(state, 'uploads'));
    expect(name).toMatch(/^[0-9a-f]{64}\.json$/);
    writeFileSync(join(state, 'uploads', name!), '{"format":"sealstream-upload-journal","version":1,');
    const refused = await cp(args, state, env);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`the resume journal of ${src.path} -> ${target} cannot be used`);
    expect(refused.stderr).toContain('--restart');
    const restarted = await cp([...args, '--restart'], state, env);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.stderr).toContain('could not be read and was removed');
    expect(restarted.stderr).toContain(`sealstream uploads ls ${target}`);
    expect((await plaintextHash(['--key-file', key1, target])).sha256).toBe(src.sha256);
    // the corrupt journal named an upload that --restart could not know of: it is listed for the user
    for (const id of await uploadsOf('xdg.bin'))
      await abortIncompleteUpload({ client, bucket, key: 'xdg.bin', uploadId: id });
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'xdg.bin' }));
  });
});
