/** `keygen`, `encrypt`, `decrypt`, `inspect`, `cat` and `rekey` on local files and pipes. */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, filesIn, run, tempDir } from './helpers.ts';

let dir: string;
let k1: string;
let k2: string;
let plain: Buffer;

beforeAll(async () => {
  buildCli();
  dir = tempDir();
  k1 = join(dir, 'k1');
  k2 = join(dir, 'k2');
  expect((await run(['keygen', '-o', k1])).code).toBe(0);
  expect((await run(['keygen', '-o', k2, '--quiet'])).code).toBe(0);
  plain = randomBytes(300_000);
  writeFileSync(join(dir, 'plain'), plain);
});

describe('keygen', () => {
  it('prints a padded base64 key on stdout and its key ID on stderr', async () => {
    const r = await run(['keygen']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    expect(r.stderr).toMatch(/^key ID [0-9a-f]{16}\n$/);
  });

  it('writes a file with mode 0600 and refuses to overwrite it (exit 2)', async () => {
    expect(statSync(k1).mode & 0o777).toBe(0o600);
    const again = await run(['keygen', '-o', k1]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');
    const json = await run(['keygen', '-o', join(dir, 'k-json'), '--json']);
    const parsed = JSON.parse(json.stdout.toString());
    expect(parsed.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(json.stdout.toString()).not.toContain(readFileSync(join(dir, 'k-json'), 'utf8').trim());
  });
});

describe('encrypt and decrypt', () => {
  it('round-trips a file to two keys; decrypt says which key opened it', async () => {
    const enc = await run([
      'encrypt',
      '--key-file',
      k1,
      '--key-file',
      k2,
      '-o',
      join(dir, 'sealed'),
      join(dir, 'plain'),
    ]);
    expect(enc.code).toBe(0);
    const dec = await run(['decrypt', '--key-file', k2, '-o', join(dir, 'opened'), join(dir, 'sealed')]);
    expect(dec.code).toBe(0);
    const id2 = (await run(['inspect', '--json', join(dir, 'sealed')])).stdout.toString();
    expect(JSON.parse(id2).keyIds).toHaveLength(2);
    expect(dec.stderr).toMatch(/opened with key ID [0-9a-f]{16}/);
    expect(readFileSync(join(dir, 'opened')).equals(plain)).toBe(true);
  });

  it('the same key given twice is one recipient; a key from the environment is said', async () => {
    const copy = join(dir, 'k1-copy');
    writeFileSync(copy, readFileSync(k1));
    const age = join(dir, 'age-twice');
    expect((await run(['keygen', '-q', '--type', 'x25519', '-o', age])).code).toBe(0);
    const publicKey = (await run(['keygen', '-y', age])).stdout.toString().trim();
    const cases = [
      ['--key-file', k1, '--key-file', copy],
      ['-i', age, '-r', publicKey],
    ];
    for (const keys of cases) {
      const out = join(dir, 'sealed-twice');
      const r = await run(['encrypt', ...keys, '-o', out, join(dir, 'plain')]);
      expect(r.code, r.stderr).toBe(0);
      const info = JSON.parse((await run(['inspect', '--json', out])).stdout.toString());
      expect(info.recipients, keys.join(' ')).toHaveLength(1);
    }
    const env = { ...process.env, SEALSTREAM_KEY: readFileSync(k1, 'utf8').trim() } as Record<string, string>;
    const fromEnv = await run(['encrypt', '-o', join(dir, 'sealed-env'), join(dir, 'plain')], { env });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(fromEnv.stderr).toContain('client-side keys from SEALSTREAM_KEY');
  });

  it('works through pipes (stdin to stdout)', async () => {
    const enc = await run(['encrypt', '--key-file', k1], { input: plain });
    expect(enc.code).toBe(0);
    const dec = await run(['decrypt', '--key-file', k1, '--json'], { input: enc.stdout });
    expect(dec.code).toBe(0);
    expect(dec.stdout.equals(plain)).toBe(true);
    // with data on stdout, the JSON result goes to stderr
    expect(JSON.parse(dec.stderr).plaintextSize).toBe(plain.length);
  });

  it('passphrase from a file', async () => {
    const pass = join(dir, 'pass');
    writeFileSync(pass, 'correct horse battery staple\n');
    const enc = await run(['encrypt', '--passphrase-file', pass, '--work-factor', '10'], { input: plain });
    const dec = await run(['decrypt', '--passphrase-file', pass], { input: enc.stdout });
    expect(dec.code).toBe(0);
    expect(dec.stderr).toContain('opened with a passphrase');
    expect(dec.stdout.equals(plain)).toBe(true);
  });

  it('a wrong key: exit 3, and no output file, not even a temporary one', async () => {
    const out = tempDir();
    const r = await run(['decrypt', '--key-file', k1, '-o', join(out, 'x'), join(dir, 'sealed-k2')]);
    expect(r.code).toBe(5); // no such input yet
    await run(['encrypt', '--key-file', k2, '-o', join(dir, 'sealed-k2'), join(dir, 'plain')]);
    const wrong = await run(['decrypt', '--key-file', k1, '-o', join(out, 'x'), join(dir, 'sealed-k2')]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('none of the keys');
    expect(filesIn(out)).toEqual([]);
  });

  it('tampered data: exit 4, and nothing left behind', async () => {
    const out = tempDir();
    const sealed = readFileSync(join(dir, 'sealed'));
    sealed[sealed.length - 40_000]! ^= 1;
    writeFileSync(join(out, 'tampered'), sealed);
    const r = await run(['decrypt', '--key-file', k1, '-o', join(out, 'x'), join(out, 'tampered')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/failed authentication/);
    expect(filesIn(out)).toEqual(['tampered']);
    const truncated = await run(['decrypt', '--key-file', k1], { input: sealed.subarray(0, 20_000) });
    expect(truncated.code).toBe(4);
  });

  it('usage errors exit 2; a key on the command line warns and never shows in output', async () => {
    expect((await run(['encrypt'], { input: 'x' })).code).toBe(2); // no recipient
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['decrypt', '--nope'])).code).toBe(2);
    expect((await run(['--help'])).code).toBe(0);
    const key = readFileSync(k1, 'utf8').trim();
    const r = await run(['encrypt', '--key', key, '--json'], { input: 'hello' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: a key given with --key is visible');
    expect(r.stderr).not.toContain(key);
    const bad = await run(['encrypt', '--key', `${key.slice(0, 40)}AAAA`], { input: 'hello' });
    expect(bad.code).toBe(3);
    expect(bad.stderr).not.toContain(key.slice(0, 40));
  });

  it('an output that cannot be written exits 1', async () => {
    const r = await run(['encrypt', '--key-file', k1, '-o', join(dir, 'plain', 'below-a-file')], {
      input: 'x',
    });
    expect(r.code).toBe(1);
  });
});

describe('work factors: the CLI writes nothing it cannot open', () => {
  it('encrypt refuses a work factor above the reader limit unless confirmed with --max-work-factor', async () => {
    const out = tempDir();
    const pass = join(dir, 'pass-wf');
    writeFileSync(pass, 'a passphrase for work factors\n');
    for (const wf of ['21', '22']) {
      const r = await run(['encrypt', '--passphrase-file', pass, '--work-factor', wf, '-o', join(out, 'x')], {
        input: 'hello',
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`above 20, the highest work factor readers accept by default`);
      expect(r.stderr).toContain(`confirm with --max-work-factor ${wf}`);
      expect(filesIn(out)).toEqual([]);
    }
    // confirmed, the run goes past the check (scrypt at logN 21 takes 2 GiB: the input is missing instead)
    const confirmed = await run([
      'encrypt',
      '--passphrase-file',
      pass,
      '--work-factor',
      '21',
      '--max-work-factor',
      '21',
      join(out, 'no-such-input'),
    ]);
    expect(confirmed.code, confirmed.stderr).toBe(5);
    // a lower limit given for the writer binds too
    const below = await run(
      ['encrypt', '--passphrase-file', pass, '--work-factor', '12', '--max-work-factor', '11'],
      { input: 'hello' },
    );
    expect(below.code).toBe(2);
    expect(below.stderr).toContain('given with --max-work-factor');
  });

  it('decrypt, cat and rekey open above a limit only when --max-work-factor raises it', async () => {
    const pass = join(dir, 'pass-wf');
    writeFileSync(pass, 'a passphrase for work factors\n');
    const sealed = join(dir, 'sealed-wf12');
    const enc = await run(['encrypt', '--passphrase-file', pass, '--work-factor', '12', '-o', sealed], {
      input: plain,
    });
    expect(enc.code, enc.stderr).toBe(0);
    const refused = await run(['decrypt', '--passphrase-file', pass, '--max-work-factor', '11', sealed]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('work factor 12, above the limit of 11');
    expect(refused.stderr).toContain('--max-work-factor N');
    const opened = await run(['decrypt', '--passphrase-file', pass, '--max-work-factor', '12', sealed]);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout.equals(plain)).toBe(true);
    const cat = ['cat', '--passphrase-file', pass, '--range', 'bytes=5-9', sealed];
    expect((await run([...cat, '--max-work-factor', '11'])).code).toBe(3);
    expect((await run([...cat, '--max-work-factor', '12'])).stdout.equals(plain.subarray(5, 10))).toBe(true);
    expect((await run(['cat', '--passphrase-file', pass, '--max-work-factor', '11', sealed])).code).toBe(3);
    const rekey = ['rekey', '--passphrase-file', pass, '--to-key-file', k1, sealed, '-o', join(dir, 'rk-wf')];
    expect((await run([...rekey, '--max-work-factor', '11'])).code).toBe(3);
    expect((await run([...rekey, '--max-work-factor', '12'])).code).toBe(0);
  });
});

describe('inspect, cat and rekey', () => {
  it('inspect tells the format without a key', async () => {
    const r = await run(['inspect', join(dir, 'sealed')]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/sealstream v1, cobblestone-256, 16384-byte chunks/);
    expect(r.stdout.toString()).toContain(`plaintext   ${plain.length} bytes`);
    const other = await run(['inspect', '--json', join(dir, 'plain')]);
    expect(JSON.parse(other.stdout.toString()).sealstream).toBe(false);
  });

  it('cat --range decrypts only the bytes asked for', async () => {
    const r = await run(['cat', '--key-file', k1, '--range', 'bytes=16000-17000', join(dir, 'sealed')]);
    expect(r.code).toBe(0);
    expect(r.stdout.equals(plain.subarray(16000, 17001))).toBe(true);
    const tail = await run(['cat', '--key-file', k1, '--range', 'bytes=-10', join(dir, 'sealed')]);
    expect(tail.stdout.equals(plain.subarray(-10))).toBe(true);
    const out = await run(['cat', '--key-file', k1, '--range', 'bytes=999999-', join(dir, 'sealed')]);
    expect(out.code).toBe(2);
  });

  it('cat --range names the last byte (HTTP text), with and without a key; an end past the file is clamped', async () => {
    const sealed = join(dir, 'sealed');
    const file = join(dir, 'plain');
    for (const [args, want] of [
      [['bytes=0-0', file], plain.subarray(0, 1)],
      [['bytes=7-7', file], plain.subarray(7, 8)],
      [[`bytes=${plain.length - 1}-`, file], plain.subarray(-1)],
      [[`bytes=5-${plain.length + 1000}`, file], plain.subarray(5)],
      [['--key-file', k1, 'bytes=0-0', sealed], plain.subarray(0, 1)],
      [['--key-file', k1, `bytes=${plain.length - 1}-${plain.length - 1}`, sealed], plain.subarray(-1)],
      [['--key-file', k1, `bytes=5-${plain.length + 1000}`, sealed], plain.subarray(5)],
    ] as const) {
      const flags = args.slice(0, -2);
      const r = await run(['cat', ...flags, '--range', args.at(-2)!, args.at(-1)!]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout.equals(want), args.join(' ')).toBe(true);
    }
    // a start past the end, and a last byte before the first: usage errors
    for (const range of [`bytes=${plain.length}-`, 'bytes=9-5']) {
      expect((await run(['cat', '--range', range, file])).code, range).toBe(2);
      expect((await run(['cat', '--key-file', k1, '--range', range, sealed])).code, range).toBe(2);
    }
  });

  it('cat --range is exact at chunk boundaries and inside the final chunk (through core reader)', async () => {
    // 300000 bytes: the final chunk holds [294912, 300000)
    for (const [a, b] of [
      [0, 0],
      [16383, 16384],
      [294911, 294912],
      [295000, 299000],
      [299999, 299999],
    ] as const) {
      const r = await run(['cat', '--key-file', k1, '--range', `bytes=${a}-${b}`, join(dir, 'sealed')]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.equals(plain.subarray(a, b + 1))).toBe(true);
    }
    const k3 = join(dir, 'k3');
    expect((await run(['keygen', '-o', k3, '--quiet'])).code).toBe(0);
    const wrong = await run(['cat', '--key-file', k3, '--range', 'bytes=0-9', join(dir, 'sealed')]);
    expect(wrong.code).toBe(3);
  });

  it('inspect: a file shorter than the magic is not sealstream; a cut header is TRUNCATED', async () => {
    writeFileSync(join(dir, 'short'), 'seal');
    const short = await run(['inspect', '--json', join(dir, 'short')]);
    expect(short.code).toBe(0);
    expect(JSON.parse(short.stdout.toString()).sealstream).toBe(false);
    writeFileSync(join(dir, 'cut'), readFileSync(join(dir, 'sealed')).subarray(0, 40));
    const cut = await run(['inspect', join(dir, 'cut')]);
    expect(cut.code).not.toBe(0);
    expect(cut.stderr).toMatch(/truncated/i);
  });

  it('rekey --add of a key that is already a recipient has nothing to add (exit 2)', async () => {
    const r = await run([
      'rekey',
      '--key-file',
      k1,
      '--to-key-file',
      k1,
      '--add',
      join(dir, 'sealed'),
      '-o',
      join(dir, 'same'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nothing to add');
  });

  it('rekey replaces the recipients and keeps the payload', async () => {
    const before = readFileSync(join(dir, 'sealed'));
    const r = await run([
      'rekey',
      '--key-file',
      k1,
      '--to-key-file',
      k2,
      join(dir, 'sealed'),
      '-o',
      join(dir, 'rekeyed'),
    ]);
    expect(r.code).toBe(0);
    const after = readFileSync(join(dir, 'rekeyed'));
    expect(after.subarray(-100_000).equals(before.subarray(-100_000))).toBe(true);
    expect((await run(['decrypt', '--key-file', k1, join(dir, 'rekeyed')])).code).toBe(3);
    const ok = await run(['decrypt', '--key-file', k2, join(dir, 'rekeyed')]);
    expect(ok.stdout.equals(plain)).toBe(true);
  });
});
