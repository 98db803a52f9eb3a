/**
 * Public-key recipients from the command line, in age's habits: keys made by Debian's
 * `age-keygen` and by `sealstream keygen --type x25519|pq`, `-r`, `-R`, `-i`, `keygen -y`,
 * `key-id`; one object sealed to an age-keygen recipient, a post-quantum recipient, a raw key and
 * a passphrase at once opens with each of them, locally and from the local S3 server.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, testClient } from '../../sos/test/helpers.ts';
import { buildCli, run, tempDir } from './helpers.ts';

const AGE_KEYGEN = '/usr/bin/age-keygen';

let dir: string;
let ageKey: string; // made by age-keygen
let agePublic: string;
let pqKey: string; // made by sealstream keygen --type pq
let pqPublicFile: string;
let rawKey: string; // 32 bytes as they are (openssl rand 32)
let passFile: string;
let plain: Buffer;
let plainFile: string;

/** The ways to open an object sealed to every recipient above, and the key ID each reports. */
let openers: { name: string; args: string[] }[];

beforeAll(async () => {
  if (!existsSync(AGE_KEYGEN)) throw new Error(`${AGE_KEYGEN} is missing: apt-get install age`);
  buildCli();
  dir = tempDir();
  ageKey = join(dir, 'age.key');
  execFileSync(AGE_KEYGEN, ['-o', ageKey], { stdio: 'pipe' });
  agePublic = execFileSync(AGE_KEYGEN, ['-y', ageKey]).toString().trim();
  pqKey = join(dir, 'pq.key');
  const made = await run(['keygen', '--type', 'pq', '-o', pqKey]);
  expect(made.code, made.stderr).toBe(0);
  pqPublicFile = join(dir, 'pq.pub');
  const y = await run(['keygen', '-y', pqKey]);
  expect(y.code, y.stderr).toBe(0);
  writeFileSync(pqPublicFile, `# a recipients file as age -R reads it\n${y.stdout}`);
  rawKey = join(dir, 'raw.bin');
  writeFileSync(rawKey, randomBytes(32));
  passFile = join(dir, 'pass');
  writeFileSync(passFile, 'correct horse battery staple\n');
  plain = randomBytes(100_000);
  plainFile = join(dir, 'plain');
  writeFileSync(plainFile, plain);
  openers = [
    { name: 'age-keygen private key (-i)', args: ['-i', ageKey] },
    { name: 'post-quantum private key (--private-key-file)', args: ['--private-key-file', pqKey] },
    { name: 'raw 32-byte key file', args: ['--key-file', rawKey] },
    { name: 'passphrase', args: ['--passphrase-file', passFile] },
  ];
});

/** The recipient flags that seal to all four at once. */
function sealTo(): string[] {
  return [
    '--recipient',
    agePublic,
    '--recipients-file',
    pqPublicFile,
    '--key-file',
    rawKey,
    '--passphrase-file',
    passFile,
    '--work-factor',
    '10',
  ];
}

describe('keygen for age keys', () => {
  it('--type x25519 and pq write age-format private key files, 0600, and print the public key', async () => {
    for (const [type, prefix, secret] of [
      ['x25519', 'age1', 'AGE-SECRET-KEY-1'],
      ['pq', 'age1pq1', 'AGE-SECRET-KEY-PQ-1'],
    ] as const) {
      const file = join(dir, `made-${type}.key`);
      const r = await run(['keygen', '--type', type, '-o', file, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const facts = JSON.parse(r.stdout.toString());
      expect(facts.publicKey.startsWith(prefix)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const text = readFileSync(file, 'utf8');
      expect(text).toMatch(/^# created: .*\n# public key: age1/);
      expect(text).toContain(`\n${secret}`);
      // the private key never in the output
      expect(r.stdout.toString() + r.stderr).not.toContain('AGE-SECRET-KEY');
      const again = await run(['keygen', '--type', type, '-o', file]);
      expect(again.code).toBe(2);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
    // age-keygen reads the x25519 file sealstream wrote, and agrees on its public key
    const ours = JSON.parse(
      (await run(['keygen', '-y', join(dir, 'made-x25519.key'), '--json'])).stdout.toString(),
    );
    const theirs = execFileSync(AGE_KEYGEN, ['-y', join(dir, 'made-x25519.key')])
      .toString()
      .trim();
    expect(ours.publicKeys[0].publicKey).toBe(theirs);
  });

  it('keygen -y prints what age-keygen -y prints; key-id names raw keys and age keys', async () => {
    const y = await run(['keygen', '-y', ageKey]);
    expect(y.code, y.stderr).toBe(0);
    expect(y.stdout.toString().trim()).toBe(agePublic);
    const stdin = await run(['keygen', '-y', '-'], { input: readFileSync(ageKey) });
    expect(stdin.stdout.toString().trim()).toBe(agePublic);
    const raw = await run(['keygen', '-y', rawKey]);
    expect(raw.code).toBe(3);
    expect(raw.stderr).toContain('raw (symmetric) key');

    const ids = await run(['key-id', '--json', ageKey, pqKey, pqPublicFile, rawKey]);
    expect(ids.code, ids.stderr).toBe(0);
    const keys = JSON.parse(ids.stdout.toString()).keys;
    expect(keys.map((k: { type: string }) => k.type)).toEqual([
      'x25519',
      'mlkem768x25519',
      'mlkem768x25519',
      'raw',
    ]);
    // a private key and its public key have one key ID
    expect(keys[1].keyId).toBe(keys[2].keyId);
    expect(keys[0].publicKey).toBe(agePublic);
    expect(JSON.stringify(keys)).not.toContain('AGE-SECRET-KEY');
  });
});

describe('local files', () => {
  it('sealed to an age-keygen recipient, a PQ recipient, a raw key and a passphrase: each opens it, inspect names them all', async () => {
    const sealed = join(dir, 'four.sealed');
    const e = await run(['encrypt', ...sealTo(), '-o', sealed, plainFile, '--json']);
    expect(e.code, e.stderr).toBe(0);
    const ids = (await run(['key-id', '--json', ageKey, pqKey, rawKey])).stdout.toString();
    const [ageId, pqId, rawId] = JSON.parse(ids).keys.map((k: { keyId: string }) => k.keyId);
    // key files first, then -i, -r and -R (each flag's keys in the order given)
    expect(JSON.parse(e.stdout.toString()).keyIds).toEqual([rawId, ageId, pqId]);

    const inspected = await run(['inspect', sealed]);
    expect(inspected.stdout.toString()).toContain(`x25519 public key ${ageId}`);
    expect(inspected.stdout.toString()).toContain(`mlkem768x25519 public key ${pqId}`);
    expect(inspected.stdout.toString()).toContain(`key ${rawId}`);
    expect(inspected.stdout.toString()).toContain('passphrase (scrypt logN 10)');

    const expectedIds = [ageId, pqId, rawId, null];
    for (const [i, o] of openers.entries()) {
      const d = await run(['decrypt', ...o.args, sealed, '--json', '-o', join(dir, `out-${i}`)]);
      expect(d.code, `${o.name}: ${d.stderr}`).toBe(0);
      expect(JSON.parse(d.stdout.toString()).keyId, o.name).toBe(expectedIds[i]);
      expect(readFileSync(join(dir, `out-${i}`)).equals(plain), o.name).toBe(true);
      const c = await run(['cat', ...o.args, sealed, '--range', 'bytes=1000-1999']);
      expect(c.code, `${o.name}: ${c.stderr}`).toBe(0);
      expect(c.stdout.equals(plain.subarray(1000, 2000)), o.name).toBe(true);
    }
    // Debian's age cannot open it (our stanzas are not age's), and a wrong age key opens nothing
    const other = join(dir, 'other.key');
    execFileSync(AGE_KEYGEN, ['-o', other], { stdio: 'pipe' });
    const wrong = await run(['decrypt', '-i', other, sealed]);
    expect(wrong.code).toBe(3);
    expect(wrong.stdout.length).toBe(0);
  });

  it('-r/-R short flags on encrypt; a private key file seals to its public key; a public key cannot open', async () => {
    const sealed = join(dir, 'short.sealed');
    const e = await run(['encrypt', '-r', agePublic, '-R', pqPublicFile, '-o', sealed, plainFile]);
    expect(e.code, e.stderr).toBe(0);
    const byPrivate = join(dir, 'by-private.sealed');
    expect((await run(['encrypt', '-i', ageKey, '-o', byPrivate, plainFile])).code).toBe(0);
    for (const file of [sealed, byPrivate]) {
      const d = await run(['decrypt', '-i', ageKey, file]);
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout.equals(plain)).toBe(true);
    }
    // a public key in a key file given to decrypt: a clear key error, not "no matching key"
    const pubFile = join(dir, 'age.pub');
    writeFileSync(pubFile, `${agePublic}\n`);
    const d = await run(['decrypt', '--key-file', pubFile, sealed]);
    expect(d.code).toBe(3);
    expect(d.stderr).toContain('public key');
    expect(d.stderr).toContain('-i FILE');
    // a bad recipient names the flag, and says what is expected
    const bad = await run(['encrypt', '-r', 'age1notakey', plainFile]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('--recipient #1');
  });

  it('rekey: --to-recipient and --to-recipients-file replace or add recipients; the old ones stop or keep working', async () => {
    const file = join(dir, 'rekey.sealed');
    expect((await run(['encrypt', '--key-file', rawKey, '-o', file, plainFile])).code).toBe(0);
    const r = await run(['rekey', '--key-file', rawKey, '--to-recipient', agePublic, file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((await run(['decrypt', '--key-file', rawKey, file])).code).toBe(3);
    expect((await run(['decrypt', '-i', ageKey, file])).stdout.equals(plain)).toBe(true);
    const add = await run(['rekey', '-i', ageKey, '--to-recipients-file', pqPublicFile, '--add', file]);
    expect(add.code, add.stderr).toBe(0);
    for (const key of [ageKey, pqKey]) {
      expect((await run(['decrypt', '-i', key, file])).stdout.equals(plain)).toBe(true);
    }
    // adding a recipient that is already one: nothing to add
    const again = await run(['rekey', '-i', ageKey, '--to-recipient', agePublic, '--add', file]);
    expect(again.code).toBe(2);
  });
});

describe('through the local S3 server', () => {
  let client: S3Client;
  let bucket: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    client = testClient();
    ({ bucket, cleanup } = await freshBucket(client));
  });
  afterAll(async () => {
    await cleanup?.();
    client?.destroy();
  });

  it('cp up sealed to all four; cp down and cat open with each; rekey -i to a new recipient', {
    timeout: 180_000,
  }, async () => {
    const url = `s3://${bucket}/age/four.bin`;
    const up = await run(['cp', ...sealTo(), '--bind', plainFile, url]);
    expect(up.code, up.stderr).toBe(0);
    for (const [i, o] of openers.entries()) {
      const down = await run(['cp', ...o.args, '--bind', url, join(dir, `down-${i}`)]);
      expect(down.code, `${o.name}: ${down.stderr}`).toBe(0);
      expect(readFileSync(join(dir, `down-${i}`)).equals(plain), o.name).toBe(true);
      const cat = await run(['cat', ...o.args, '--bind', url, '--range', 'bytes=-500']);
      expect(cat.code, `${o.name}: ${cat.stderr}`).toBe(0);
      expect(cat.stdout.equals(plain.subarray(plain.length - 500)), o.name).toBe(true);
    }
    const inspected = await run(['inspect', url, '--json']);
    const kinds = JSON.parse(inspected.stdout.toString()).recipients.map((r: { type: string }) => r.type);
    expect(kinds).toEqual(['key', 'x25519', 'mlkem768x25519', 'passphrase']);

    const fresh = join(dir, 'fresh.key');
    execFileSync(AGE_KEYGEN, ['-o', fresh], { stdio: 'pipe' });
    const freshPublic = execFileSync(AGE_KEYGEN, ['-y', fresh]).toString().trim();
    const rk = await run(['rekey', '-i', pqKey, '--bind', '--to-recipient', freshPublic, url]);
    expect(rk.code, rk.stderr).toBe(0);
    expect((await run(['cat', '-i', pqKey, '--bind', url])).code).toBe(3);
    const after = await run(['cat', '-i', fresh, '--bind', url]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout.equals(plain)).toBe(true);
  });
});
