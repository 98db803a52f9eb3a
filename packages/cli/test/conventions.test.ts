/**
 * The CLI in the habits of aws-cli, mc and openssl users (issue 12 item 3), against the local S3
 * server: raw 32-byte key files, aws-cli's and mc's SSE-C spellings, global options before the
 * subcommand, AWS profiles with `[services]` sections, `--allow-http`, keys from the environment,
 * `--json` for every command and every error, rates, hints, `cp -r` and symbolic links, timeouts.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, testClient } from '../../sos/test/helpers.ts';
import { buildCli, run, storeEnv, tempDir } from './helpers.ts';

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;
let dir: string;
let rawKey: string;
let rawBytes: Buffer;
let plainFile: string;
const plain = randomBytes(50_000);

beforeAll(async () => {
  buildCli();
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
  dir = tempDir();
  rawKey = join(dir, 'raw.bin');
  rawBytes = randomBytes(32);
  writeFileSync(rawKey, rawBytes);
  plainFile = join(dir, 'plain');
  writeFileSync(plainFile, plain);
});

afterAll(async () => {
  await cleanup?.();
  client?.destroy();
});

/** The bytes the store holds for a key, fetched with SSE-C `key` (the server decrypts). */
async function storedWithSseC(key: string, sseCKey: Buffer): Promise<Buffer> {
  const { createHash } = await import('node:crypto');
  const got = await client.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      SSECustomerAlgorithm: 'AES256',
      SSECustomerKey: sseCKey.toString('base64'),
      SSECustomerKeyMD5: createHash('md5').update(sseCKey).digest('base64'),
    }),
  );
  return Buffer.from(await got.Body!.transformToByteArray());
}

describe('key files and SSE-C spellings', () => {
  it('a raw 32-byte key file (openssl rand 32) works for client-side keys and SSE-C', async () => {
    const up = await run(['cp', '--key-file', rawKey, plainFile, `s3://${bucket}/raw/cs`]);
    expect(up.code, up.stderr).toBe(0);
    const down = await run(['cat', '--key-file', rawKey, `s3://${bucket}/raw/cs`]);
    expect(down.stdout.equals(plain)).toBe(true);
    const ssec = await run(['cp', '--sse-c-file', rawKey, plainFile, `s3://${bucket}/raw/ssec`]);
    expect(ssec.code, ssec.stderr).toBe(0);
    expect((await storedWithSseC('raw/ssec', rawBytes)).equals(plain)).toBe(true);
  });

  it("aws-cli's --sse-c AES256 --sse-c-key fileb://FILE and a 32-character key; --sse-c KEY still works", async () => {
    const a = await run([
      'cp',
      '--sse-c',
      'AES256',
      '--sse-c-key',
      `fileb://${rawKey}`,
      plainFile,
      `s3://${bucket}/aws/a`,
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect((await storedWithSseC('aws/a', rawBytes)).equals(plain)).toBe(true);
    // --sse-c alone names the algorithm too
    const alone = await run(['cat', '--sse-c', '--sse-c-key', `fileb://${rawKey}`, `s3://${bucket}/aws/a`]);
    expect(alone.stdout.equals(plain)).toBe(true);
    // 32 characters: the key's bytes, as aws-cli takes --sse-c-key
    const ascii = 'abcdefghijklmnopqrstuvwxyz012345';
    const b = await run(['cp', '--sse-c', 'AES256', '--sse-c-key', ascii, plainFile, `s3://${bucket}/aws/b`]);
    expect(b.code, b.stderr).toBe(0);
    expect((await storedWithSseC('aws/b', Buffer.from(ascii))).equals(plain)).toBe(true);
    // this CLI's older spelling: --sse-c KEY (base64)
    const old = await run(['cat', '--sse-c', rawBytes.toString('base64'), `s3://${bucket}/aws/a`]);
    expect(old.stdout.equals(plain)).toBe(true);
    // AES256 without a key is a usage error that says what is missing
    const missing = await run(['cp', '--sse-c', 'AES256', plainFile, `s3://${bucket}/aws/c`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--sse-c-key');
    // two keys at once: refused
    const two = await run([
      'cp',
      '--sse-c-file',
      rawKey,
      '--sse-c-key',
      `fileb://${rawKey}`,
      plainFile,
      `s3://${bucket}/aws/c`,
    ]);
    expect(two.code).toBe(2);
    // a fileb:// file that is not a key
    const notKey = join(dir, 'not-a-key');
    writeFileSync(notKey, randomBytes(31));
    expect(
      (await run(['cp', '--sse-c-key', `fileb://${notKey}`, plainFile, `s3://${bucket}/aws/c`])).code,
    ).toBe(3);
  });

  it("mc's --enc-c with the user's own alias and a 32-character key; two s3 aliases are refused", async () => {
    const key = 'MzJieXRlc2xvbmdzZWNyZWFiY2RlZmcJ';
    const entry = `myminio/${bucket}/mc/=${key}`;
    const up = await run(['cp', '--enc-c', entry, plainFile, `s3://${bucket}/mc/x`]);
    expect(up.code, up.stderr).toBe(0);
    expect((await storedWithSseC('mc/x', Buffer.from(key))).equals(plain)).toBe(true);
    // not covered by the map: refused, not stored in plaintext
    const outside = await run(['cp', '--enc-c', entry, plainFile, `s3://${bucket}/other/x`]);
    expect(outside.code).toBe(3);
    const two = await run([
      'cp',
      '--enc-c',
      entry,
      '--enc-c',
      `play/${bucket}=${key}`,
      plainFile,
      `s3://${bucket}/mc/y`,
    ]);
    expect(two.code).toBe(3);
    expect(two.stderr).toContain('"myminio" and "play"');
    expect(two.stderr).not.toContain(key);
  });
});

describe('keys from the environment', () => {
  it('SEALSTREAM_KEY, SEALSTREAM_KEY_FILE and SEALSTREAM_PRIVATE_KEY_FILE; flags win over them', async () => {
    const text = randomBytes(32).toString('base64');
    const env = storeEnv({ SEALSTREAM_KEY: text });
    const up = await run(['cp', plainFile, `s3://${bucket}/env/a`, '--json'], { env });
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout.toString()).files[0].clientSide).toBe(true);
    expect(up.stdout.toString() + up.stderr).not.toContain(text.slice(0, 12));
    const keyFile = join(dir, 'env.key');
    writeFileSync(keyFile, `${text}\n`);
    const down = await run(['cat', `s3://${bucket}/env/a`], {
      env: storeEnv({ SEALSTREAM_KEY_FILE: keyFile }),
    });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout.equals(plain)).toBe(true);
    // an age private key file from the environment
    const made = join(dir, 'env-age.key');
    expect((await run(['keygen', '--type', 'x25519', '-o', made, '-q'])).code).toBe(0);
    const sealed = join(dir, 'env.sealed');
    const e = await run(['encrypt', '-o', sealed, plainFile], {
      env: storeEnv({ SEALSTREAM_PRIVATE_KEY_FILE: made }),
    });
    expect(e.code, e.stderr).toBe(0);
    expect((await run(['decrypt', '-i', made, sealed])).stdout.equals(plain)).toBe(true);
    // a key flag replaces the environment's keys: the environment's key is not tried
    const other = await run(['cat', '--key-file', rawKey, `s3://${bucket}/env/a`], { env });
    expect(other.code).toBe(3);
    // with an SSE-C option, the environment's client-side key is not added
    const ssec = await run(['cp', '--sse-c-file', rawKey, '--json', plainFile, `s3://${bucket}/env/b`], {
      env,
    });
    expect(JSON.parse(ssec.stdout.toString()).files[0].clientSide).toBe(false);
    // a malformed key in the environment: named by its variable, never shown
    const bad = await run(['cp', plainFile, `s3://${bucket}/env/c`], {
      env: storeEnv({ SEALSTREAM_KEY: text.slice(0, 40) }),
    });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('SEALSTREAM_KEY');
    expect(bad.stderr).not.toContain(text.slice(0, 12));
  });
});

describe('store settings', () => {
  it('global options before the subcommand; a profile whose endpoint is in a [services] section', async () => {
    const s3 = storeEnv();
    const config = join(dir, 'aws-config');
    writeFileSync(
      config,
      `[profile local]\nregion = ${s3.AWS_REGION}\nservices = here\nca_bundle = ${s3.AWS_CA_BUNDLE}\n\n[services here]\ns3 =\n  endpoint_url = ${s3.AWS_ENDPOINT_URL_S3}\n`,
    );
    const credentials = join(dir, 'aws-credentials');
    writeFileSync(
      credentials,
      `[local]\naws_access_key_id = ${s3.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${s3.AWS_SECRET_ACCESS_KEY}\n`,
    );
    const env = { ...s3, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials };
    for (const name of [
      'AWS_ENDPOINT_URL_S3',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_CA_BUNDLE',
      'AWS_REGION',
    ])
      delete (env as Record<string, string | undefined>)[name];
    const up = await run(
      ['--profile', 'local', '--json', 'cp', '--key-file', rawKey, plainFile, `s3://${bucket}/prof/a`],
      { env },
    );
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout.toString()).command).toBe('cp');
    const down = await run(['--profile=local', '-q', 'cat', '--key-file', rawKey, `s3://${bucket}/prof/a`], {
      env,
    });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout.equals(plain)).toBe(true);
    // without the profile: no endpoint, and the hint names the [services] section
    const none = await run(['cat', '--key-file', rawKey, `s3://${bucket}/prof/a`], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('services');
  });

  /** `cp --no-encryption` of the plain file with `flags`: the store settings are what is tested. */
  const plainUpload = (flags: string[], env?: Record<string, string>) =>
    run(['cp', '--no-encryption', ...flags, plainFile, `s3://${bucket}/settings`], env ? { env } : {});

  it('plain http: refused with a hint naming --allow-http; with it, loopback is tried (and a timeout flag is taken)', async () => {
    const refused = await plainUpload(['--endpoint', 'http://127.0.0.1:9']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--allow-http');
    const tried = await plainUpload([
      '--endpoint',
      'http://127.0.0.1:9',
      '--allow-http',
      '--connect-timeout',
      '2',
    ]);
    expect(tried.code, tried.stderr).toBe(6); // connection refused: a network failure, not a usage error
    const remote = await plainUpload(['--endpoint', 'http://192.0.2.1', '--allow-http']);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('only to this machine');
    const badTimeout = await plainUpload(['--read-timeout', '0']);
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toContain('--read-timeout');
  });

  it('a self-signed certificate without its CA gets a hint naming --ca-bundle; wrong credentials one naming them', async () => {
    const env = storeEnv();
    delete (env as Record<string, string | undefined>).AWS_CA_BUNDLE;
    const tls = await plainUpload(['--read-timeout', '20'], env);
    expect(tls.code).toBe(6);
    expect(tls.stderr).toContain('--ca-bundle');
    const withCa = await plainUpload(['--ca-bundle', storeEnv().AWS_CA_BUNDLE!], env);
    expect(withCa.code, withCa.stderr).toBe(0);
    const creds = await plainUpload([], storeEnv({ AWS_SECRET_ACCESS_KEY: 'not-the-secret' }));
    expect(creds.code).toBe(3);
    expect(creds.stderr).toMatch(/hint: .*credentials/);
  });
});

describe('output', () => {
  it('--json on every command, errors included, with a stable code', async () => {
    const sealed = join(dir, 'j.sealed');
    expect((await run(['encrypt', '--key-file', rawKey, '-o', sealed, plainFile])).code).toBe(0);
    const cat = await run(['cat', '--json', '--key-file', rawKey, sealed]);
    expect(cat.code).toBe(0);
    expect(cat.stdout.equals(plain)).toBe(true);
    expect(JSON.parse(cat.stderr.trim().split('\n').pop()!)).toEqual({ command: 'cat', ok: true });
    expect((await run(['cp', '--key-file', rawKey, plainFile, `s3://${bucket}/json/cs`])).code).toBe(0);
    const otherKey = join(dir, 'other.key');
    writeFileSync(otherKey, randomBytes(32));
    const cases: [string[], string, number][] = [
      [['decrypt', '--json', '--key-file', join(dir, 'missing.key'), sealed], 'NOT_FOUND', 5],
      [['decrypt', '--json', '--key-file', plainFile, sealed], 'INVALID_KEY', 3],
      [['--json', 'decrypt', '--bogus', sealed], 'USAGE', 2],
      [['cat', '--json', `s3://${bucket}/no/such/object`, '--key-file', rawKey], 'NOT_FOUND', 5],
      [['decrypt', '--json', '--key-file', otherKey, sealed], 'NO_MATCHING_KEY', 3],
      [
        ['cp', '--json', '--sse-c-file', rawKey, `s3://${bucket}/json/cs`, join(dir, 'wrong')],
        'SSE_C_NOT_APPLIED',
        3,
      ],
    ];
    for (const [args, code, exitCode] of cases) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(exitCode);
      // on stdout, or on stderr when stdout carries data (cat)
      const line =
        r.stdout.length > 0 ? r.stdout.toString() : r.stderr.split('\n').find((l) => l.startsWith('{'));
      const json = JSON.parse(line ?? '');
      expect(json.error.code, args.join(' ')).toBe(code);
      expect(json.error.exitCode).toBe(exitCode);
      expect(typeof json.error.message).toBe('string');
    }
    // a missing key file says so in words
    const missing = await run(['decrypt', '--key-file', join(dir, 'missing.key'), sealed]);
    expect(missing.stderr).toContain('no such file');
  });

  it('cp -r reports symbolic links it skips; --parallel on one file is said to be ignored; rates are rounded', async () => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    writeFileSync(join(tree, 'a'), 'a');
    writeFileSync(join(tree, 'sub', 'b'), 'b');
    symlinkSync(plainFile, join(tree, 'link'));
    const r = await run(['cp', '-r', '--key-file', rawKey, '--json', tree, `s3://${bucket}/tree/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`skipped ${join(tree, 'link')}: a symbolic link`);
    const result = JSON.parse(r.stdout.toString());
    expect(result.files).toHaveLength(2);
    expect(result.skipped).toEqual([{ path: join(tree, 'link'), reason: 'a symbolic link (not followed)' }]);
    const one = await run(['cp', '--parallel', '8', '--key-file', rawKey, plainFile, `s3://${bucket}/one`]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toContain('--parallel is ignored for one file');
    // "copied … in 0.2 s (1.2 MiB/s)": one decimal at most, never a float's tail
    expect(one.stderr).toMatch(/\((\d+ B|\d+(\.\d)? [KMGT]iB)\/s\)/);
  });

  it('help texts: rekey says SSE-C objects are streamed down and up; decrypt has no --work-factor', async () => {
    const rekey = await run(['rekey', '--help']);
    expect(rekey.stdout.toString().replace(/\s+/g, ' ')).toContain('streamed down and up');
    const decrypt = await run(['decrypt', '--help']);
    expect(decrypt.stdout.toString()).not.toMatch(/\s--work-factor/);
    expect(decrypt.stdout.toString()).toContain('--private-key-file');
    expect((await run(['encrypt', '--help'])).stdout.toString()).toContain('-r, --recipient');
  });
});
