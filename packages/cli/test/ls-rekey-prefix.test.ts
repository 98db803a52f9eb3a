/**
 * `ls` and `rekey -r` against the local S3 server, on a prefix of 500+ mixed small objects:
 * client-side under two different keys, SSE-C, SSE-C around client-side, plaintext, and a few
 * a careful user or an attacker would put there (bound elsewhere, hostile names and identities,
 * a fake header, an empty object).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { inspectHeader, keyId, parseKey } from '@sealstream/core';
import { type Encryption, getObject, putObject } from '@sealstream/sos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, freshBucket, testClient } from '../../sos/test/helpers.ts';
import { bin, buildCli, type Run, run, storeEnv, tempDir } from './helpers.ts';

/** What must never reach a terminal raw from an object (a newline ends each line, so it is allowed). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to look for
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;
let dir: string;
const keyFiles: Record<string, string> = {};
const keys: Record<string, Uint8Array> = {};
const ids: Record<string, string> = {};

/** What each object was stored as, and its plaintext. */
const stored = new Map<string, { kind: string; plain: Uint8Array }>();
const EVIL_NAME = 'mixed/evil\n\x1b[31mred\u202etxt.bin';
const EVIL_IDENTITY = 'other/\x1b]0;pwned\x07\r\nplace';

async function put(
  key: string,
  kind: string,
  encryption: Encryption,
  plain = randomBytes(100 + (stored.size % 900)),
) {
  await putObject({ client, bucket, key, body: plain, encryption });
  stored.set(key, { kind, plain });
}

/** Runs `fn` over `items`, `n` at a time. */
async function inParallel<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

beforeAll(async () => {
  buildCli();
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
  dir = tempDir();
  for (const name of ['k1', 'k2', 'k3', 'ssec', 'ssec2']) {
    keyFiles[name] = join(dir, name);
    expect((await run(['keygen', '-q', '-o', keyFiles[name]!])).code).toBe(0);
    keys[name] = parseKey(readFileSync(keyFiles[name]!, 'utf8').trim());
    ids[name] = keyId(keys[name]!);
  }
  const plan: [string, string, Encryption][] = [];
  for (let i = 0; i < 150; i++)
    plan.push([`mixed/k1/${i}`, 'k1', { clientSide: { keys: [keys.k1!], identity: i % 2 === 0 } }]);
  for (let i = 0; i < 150; i++) plan.push([`mixed/k2/${i}`, 'k2', { clientSide: { keys: [keys.k2!] } }]);
  for (let i = 0; i < 90; i++) plan.push([`mixed/ssec/${i}`, 'ssec', { sseC: { key: keys.ssec! } }]);
  for (let i = 0; i < 10; i++)
    plan.push([
      `mixed/ssec-k1/${i}`,
      'ssec+k1',
      { sseC: { key: keys.ssec! }, clientSide: { keys: [keys.k1!] } },
    ]);
  for (let i = 0; i < 100; i++) plan.push([`mixed/plain/${i}`, 'plain', 'none']);
  await inParallel(plan, 16, ([key, kind, encryption]) => put(key, kind, encryption));
  // a hostile name, an identity full of terminal escapes, an object moved away from its binding
  await put(EVIL_NAME, 'k1', { clientSide: { keys: [keys.k1!] } });
  await put('mixed/odd/evil-identity', 'k1', { clientSide: { keys: [keys.k1!], identity: EVIL_IDENTITY } });
  await client.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'mixed/odd/moved', CopySource: `${bucket}/mixed/k1/0` }),
  );
  stored.set('mixed/odd/moved', { kind: 'k1', plain: stored.get('mixed/k1/0')!.plain });
  // starts like sealstream but is not; an empty object; an object outside the prefix
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'mixed/odd/fake',
      Body: Buffer.from('sealstream\x01garbage'),
    }),
  );
  stored.set('mixed/odd/fake', { kind: 'invalid', plain: new Uint8Array() });
  await put('mixed/odd/empty', 'plain', 'none', Buffer.alloc(0));
  await put('elsewhere/k1', 'k1', { clientSide: { keys: [keys.k1!] } });
}, 300_000);

afterAll(async () => {
  await cleanup?.();
  client?.destroy();
}, 120_000);

const PREFIX = () => `s3://${bucket}/mixed/`;
const inPrefix = () => [...stored.keys()].filter((k) => k.startsWith('mixed/'));

/** Key IDs in an object's header, read as the store holds it. */
async function keyIdsOf(key: string): Promise<string[]> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=0-4095' }));
  return inspectHeader(await got.Body!.transformToByteArray()).keyIds;
}

async function timed(args: string[]): Promise<Run & { seconds: number }> {
  const t = performance.now();
  const r = await run(args);
  return { ...r, seconds: (performance.now() - t) / 1000 };
}

async function lsJson(extra: string[] = []) {
  const r = await timed(['ls', '--json', ...extra, PREFIX()]);
  expect(r.code, r.stderr).toBe(0);
  const text = r.stdout.toString();
  // nothing from an object reaches the terminal raw
  expect(text).not.toMatch(UNSAFE);
  const parsed = JSON.parse(text);
  return {
    ...parsed,
    seconds: r.seconds,
    byKey: new Map(parsed.objects.map((o: any) => [o.key, o])) as Map<string, any>,
  };
}

// each run reads 500+ objects: minutes on a loaded two-core machine
describe('ls', { timeout: 300_000 }, () => {
  it('tells how each of 500+ objects is protected, without keys, with totals per key ID', async () => {
    const out = await lsJson();
    console.log(`ls --json of ${out.objects.length} objects: ${out.seconds.toFixed(2)} s`);
    expect(out.objects.map((o: any) => o.key).sort()).toEqual(inPrefix().sort());
    for (const [key, { kind }] of stored) {
      if (!key.startsWith('mixed/')) continue;
      const o = out.byKey.get(key)!;
      const expected = {
        k1: 'client-side',
        k2: 'client-side',
        ssec: 'sse-c',
        'ssec+k1': 'sse-c',
        plain: 'plaintext',
        invalid: 'invalid',
      }[kind];
      expect(o.protection, key).toBe(expected);
      if (kind === 'k1' || kind === 'k2') expect(o.clientSide.keyIds, key).toEqual([ids[kind]]);
      if (kind.startsWith('ssec')) expect(o.sseC, key).toEqual({ keyGiven: false, keyId: null });
    }
    expect(out.byKey.get('mixed/k1/0').clientSide.binding).toBe('bound');
    expect(out.byKey.get('mixed/k1/1').clientSide.binding).toBe('unbound');
    expect(out.byKey.get('mixed/odd/moved').clientSide).toMatchObject({
      binding: 'elsewhere',
      identity: `${bucket}/mixed/k1/0`,
    });
    expect(out.byKey.get('mixed/odd/evil-identity').clientSide.identity).toBe(EVIL_IDENTITY);
    expect(out.byKey.get('mixed/odd/fake').invalid).toMatch(/^[A-Z_]+$/);
    expect(out.totals.keyIds).toEqual({
      [ids.k1!]: { objects: 153, bytes: expect.any(Number) },
      [ids.k2!]: { objects: 150, bytes: expect.any(Number) },
    });
    expect(out.totals.other['sse-c, no key given opens it'].objects).toBe(100);
    expect(out.totals.other.plaintext.objects).toBe(101);
    expect(out.totals.objects).toBe(inPrefix().length);
  });

  it('with the SSE-C key: which objects it opens, and the client-side layer inside', async () => {
    const out = await lsJson(['--sse-c-file', keyFiles.ssec!]);
    expect(out.byKey.get('mixed/ssec/0')).toMatchObject({
      protection: 'sse-c',
      sseC: { keyGiven: true, keyId: ids.ssec },
    });
    expect(out.byKey.get('mixed/ssec-k1/0')).toMatchObject({
      protection: 'sse-c+client-side',
      clientSide: { keyIds: [ids.k1] },
      sseC: { keyId: ids.ssec },
    });
    expect(out.totals.other[`sse-c key ${ids.ssec}`].objects).toBe(100);
    expect(out.totals.keyIds[ids.k1!].objects).toBe(163);
    const wrong = await lsJson(['--sse-c-file', keyFiles.ssec2!]);
    expect(wrong.byKey.get('mixed/ssec/0').sseC).toEqual({ keyGiven: true, keyId: null });
  });

  it('prints one escaped line per object, flags plaintext, and totals', async () => {
    const r = await run(['ls', PREFIX()]);
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout.toString();
    expect(text).not.toMatch(UNSAFE);
    const lines = text.trimEnd().split('\n');
    const objectLines = lines.filter((l) => /^\d{4}-\d\d-\d\d /.test(l));
    expect(objectLines).toHaveLength(inPrefix().length);
    expect(objectLines.find((l) => l.endsWith('mixed/plain/7'))).toContain('PLAINTEXT');
    expect(objectLines.find((l) => l.endsWith('mixed/k2/7'))).toContain(`client-side key ${ids.k2}; unbound`);
    expect(objectLines.find((l) => l.endsWith('mixed/k1/8'))).toContain(`client-side key ${ids.k1}; bound`);
    expect(objectLines.find((l) => l.endsWith('mixed/ssec/1'))).toContain('sse-c (key needed)');
    expect(objectLines.find((l) => l.endsWith('mixed/odd/moved'))).toContain('BOUND ELSEWHERE');
    expect(text).toContain('mixed/evil\\u000a\\u001b[31mred\\u202etxt.bin');
    expect(text).toContain('\\u001b]0;pwned\\u0007\\u000d\\u000aplace');
    expect(lines.some((l) => l.includes(`client-side key ${ids.k1}`) && /\s153 objects/.test(l))).toBe(true);
  });

  it('reads a header longer than its first read (64 recipients, a long identity) with a second range', async () => {
    const many = [keys.k1!, ...Array.from({ length: 63 }, () => randomBytes(32))];
    const identity = `big/${'x'.repeat(1000)}`;
    await putObject({
      client,
      bucket,
      key: 'big/one',
      body: randomBytes(10),
      encryption: { clientSide: { keys: many, identity } },
    });
    const r = await run(['ls', '--json', `s3://${bucket}/big/`]);
    expect(r.code, r.stderr).toBe(0);
    const [o] = JSON.parse(r.stdout.toString()).objects;
    expect(o.clientSide.keyIds).toHaveLength(64);
    expect(o.clientSide.keyIds[0]).toBe(ids.k1);
    expect(o.clientSide.identity).toBe(identity);
  });

  it('refuses what is not a store location', async () => {
    const r = await run(['ls', dir]);
    expect(r.code).toBe(2);
    const missing = await run(['ls', `s3://${bucket}-missing/x`]);
    expect(missing.code, missing.stderr).toBe(5);
  });
});

describe('rekey -r', { timeout: 600_000 }, () => {
  const rotate = () => [
    'rekey',
    '-r',
    '--json',
    '--key-file',
    keyFiles.k1!,
    '--to-key-file',
    keyFiles.k3!,
    '--sse-c-file',
    keyFiles.ssec!,
    '--to-sse-c-file',
    keyFiles.ssec2!,
    PREFIX(),
  ];

  it('refuses new passphrases and flags that need -r', async () => {
    const r = await run([
      'rekey',
      '-r',
      '--key-file',
      keyFiles.k1!,
      '--to-passphrase-file',
      keyFiles.k2!,
      PREFIX(),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not passphrases');
    const p = await run([
      'rekey',
      '--parallel',
      '4',
      '--key-file',
      keyFiles.k1!,
      '--to-key-file',
      keyFiles.k3!,
      `${PREFIX()}k1/1`,
    ]);
    expect(p.code).toBe(2);
  });

  it('rotates a prefix from k1 and one SSE-C key to k3 and another, resumes after an interruption, then has nothing left to do', async () => {
    // a rotation of part of the prefix, then one interrupted (SIGINT) part-way
    const partial = await run([...rotate().slice(0, -1), `${PREFIX()}k1/1`]);
    expect(partial.code, partial.stderr).toBe(0);
    expect(JSON.parse(partial.stdout.toString()).rekeyed).toBe(61); // k1/1, k1/10-19, k1/100-149
    const interrupted = spawn(process.execPath, [bin, ...rotate(), '--parallel', '1'], {
      env: storeEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => interrupted.on('close', resolve));
    // interrupt once the run is under way: mixed/k1/0 (second in listing order) is on the new key
    for (let i = 0; i < 600 && !(await keyIdsOf('mixed/k1/0')).includes(ids.k3!); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    interrupted.kill('SIGINT');
    expect(await exited).toBe(130);

    const t = performance.now();
    const r = await run(rotate());
    const seconds = (performance.now() - t) / 1000;
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.toString());
    console.log(
      `rekey -r of ${summary.objects} objects: ${seconds.toFixed(2)} s, ${summary.rekeyed} rekeyed`,
    );
    expect(summary.objects).toBe(inPrefix().length);
    expect(summary.failed).toEqual([]);
    // what the earlier runs did is not redone
    expect(summary.skipped['already on the new keys']).toBeGreaterThanOrEqual(61);
    expect(summary.rekeyed + summary.skipped['already on the new keys']).toBe(163 + 90);

    const after = await lsJson(['--sse-c-file', keyFiles.ssec2!]);
    expect(after.totals.keyIds[ids.k1!]).toBeUndefined();
    expect(after.totals.keyIds[ids.k3!].objects).toBe(163);
    expect(after.totals.keyIds[ids.k2!].objects).toBe(150);
    expect(after.totals.other[`sse-c key ${ids.ssec2}`].objects).toBe(100);
    expect(after.byKey.get('mixed/k1/0').clientSide.binding).toBe('bound');
    expect(after.byKey.get('mixed/odd/evil-identity').clientSide.identity).toBe(EVIL_IDENTITY);

    // the data is intact under the new keys
    for (const key of ['mixed/k1/0', 'mixed/k1/149', 'mixed/odd/moved', EVIL_NAME]) {
      const got = await getObject({ client, bucket, key, encryption: { clientSide: { keys: [keys.k3!] } } });
      expect(Buffer.from(await collect(got.body)).equals(Buffer.from(stored.get(key)!.plain)), key).toBe(
        true,
      );
    }
    for (const [key, encryption] of [
      ['mixed/ssec/5', { sseC: { key: keys.ssec2! } }],
      ['mixed/ssec-k1/5', { sseC: { key: keys.ssec2! }, clientSide: { keys: [keys.k3!] } }],
    ] as [string, Encryption][]) {
      const got = await getObject({ client, bucket, key, encryption });
      expect(Buffer.from(await collect(got.body)).equals(Buffer.from(stored.get(key)!.plain)), key).toBe(
        true,
      );
    }
    // outside the prefix: untouched
    const outside = await getObject({
      client,
      bucket,
      key: 'elsewhere/k1',
      encryption: { clientSide: { keys: [keys.k1!] } },
    });
    expect((await collect(outside.body)).length).toBe(stored.get('elsewhere/k1')!.plain.length);

    // the same command again: everything is on the new keys already
    const again = JSON.parse((await run(rotate())).stdout.toString());
    expect(again.rekeyed).toBe(0);
    expect(again.skipped['already on the new keys']).toBe(163 + 90);
    expect(again.skipped['client-side: sealed to other keys']).toBe(150);
    expect(again.skipped['plaintext (rekey changes keys, not layers)']).toBe(101);
    expect(again.skipped['invalid sealstream header']).toBe(1);
  });
});
