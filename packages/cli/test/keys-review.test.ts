/**
 * The key lifecycle as a careless operator and a hostile input exercise it: key files that are no
 * key files, keys printed into readable files, rekeys that lock the user out or fail, and the
 * passphrase prompt under a pasted multibyte passphrase.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bash, bin, filesIn, keyAndPlainFile, run, runOnTty, sealstream, storeEnv } from './helpers.ts';

let dir: string;
let key: string;
let plain: Buffer;

beforeAll(async () => {
  ({ dir, key, plain } = await keyAndPlainFile(70_000));
});

/** The key ID a `key-id` run prints for the first key of `file`. */
async function idOf(file: string): Promise<string> {
  return (await run(['key-id', file])).stdout.toString().split(' ')[0]!;
}

describe('files given as key files that are none', () => {
  it('a data file as a key, recipients or passphrase file is refused at once (exit 3), not read whole or used', async () => {
    const big = join(dir, 'big.bin');
    // text lines, so that the old reading took its first line for a passphrase
    writeFileSync(big, `first line\n${'x'.repeat(2 << 20)}\n`);
    const sealed = join(dir, 'big-test.ss');
    for (const args of [
      ['encrypt', '--key-file', big, '-o', sealed, join(dir, 'plain')],
      ['encrypt', '-R', big, '-o', sealed, join(dir, 'plain')],
      ['encrypt', '--passphrase-file', big, '--work-factor', '10', '-o', sealed, join(dir, 'plain')],
      ['decrypt', '-i', big, '-o', '-', join(dir, 'plain')],
    ]) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toContain(`${big} is larger than 1 MiB: not a key, recipients or passphrase file`);
    }
    expect(filesIn(dir)).not.toContain('big-test.ss');
    const piped = await run(['key-id', '-'], { input: readFileSync(big) });
    expect(piped.code).toBe(3);
    expect(piped.stderr).toContain('key-id - is larger than 1 MiB');
  });

  it('a damaged key is named by its line in the file (comments counted), an SSH key as one; neither shown', async () => {
    const made = (await run(['keygen', '-t', 'x25519', '-q'])).stdout.toString();
    const secret = made.split('\n')[2]!;
    const damaged = `${secret.slice(0, 30)}${secret[30] === 'Q' ? 'P' : 'Q'}${secret.slice(31)}`;
    // age-keygen's layout: two comment lines, then the key on line 3
    writeFileSync(join(dir, 'damaged.age'), made.replace(secret, damaged));
    const r = await run(['decrypt', '-i', join(dir, 'damaged.age'), '-o', '-', join(dir, 'plain')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`--private-key-file ${join(dir, 'damaged.age')}, line 3: invalid key`);
    expect(r.stderr).not.toContain(damaged.slice(16, 60));
    // age takes SSH keys with -i; sealstream does not, and says so instead of "not base64"
    writeFileSync(
      join(dir, 'id_ed25519'),
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
    );
    writeFileSync(join(dir, 'id_ed25519.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN0 me@host\n');
    for (const file of ['id_ed25519', 'id_ed25519.pub']) {
      const ssh = await run(['decrypt', '-i', join(dir, file), '-o', '-', join(dir, 'plain')]);
      expect(ssh.code).toBe(3);
      expect(ssh.stderr).toContain(
        `${join(dir, file)}, line 1: this is an SSH or PEM key, which sealstream does not take`,
      );
      expect(ssh.stderr).not.toContain('b3BlbnNzaC1rZXkt');
    }
  });

  it('32 bytes that are a line of text are no key of typed text: refused as the text they are (exit 3)', async () => {
    for (const [name, text] of [
      ['short-lf.key', 'abcdefghijklmnopqrstuvwxyz01234\n'],
      ['short-crlf.key', 'abcdefghijklmnopqrstuvwxyz0123\r\n'],
    ]) {
      const file = join(dir, name!);
      writeFileSync(file, text!);
      expect(readFileSync(file)).toHaveLength(32);
      const r = await run(['encrypt', '--key-file', file, '-o', '-', join(dir, 'plain')]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`--key-file ${file}, line 1: invalid key`);
      expect(r.stderr).not.toContain('abcdefghij');
      expect(r.stdout).toHaveLength(0);
    }
    // 32 random bytes are a key as they are, whatever their last byte
    const bytes = randomBytes(32);
    bytes[0] = 0;
    bytes[31] = 0x0a;
    writeFileSync(join(dir, 'binary.key'), bytes);
    const sealed = await run([
      'encrypt',
      '--key-file',
      join(dir, 'binary.key'),
      '-o',
      '-',
      join(dir, 'plain'),
    ]);
    expect(sealed.code, sealed.stderr).toBe(0);
  });

  it('a device that never ends (/dev/zero) is refused after 1 MiB, not read until memory runs out', () => {
    const r = spawnSync(process.execPath, [bin, 'key-id', '/dev/zero'], {
      env: storeEnv(),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.signal, 'killed by the timeout: /dev/zero was read without end').toBeNull();
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('/dev/zero is larger than 1 MiB');
  });
});

describe('passphrase files', () => {
  it('a byte-order mark, spaces around it or a key in it: warned (it is all part of the passphrase), never shown', async () => {
    const cases: [string, string | Buffer, string][] = [
      ['bom.pass', Buffer.from('\uFEFFsecret words\r\n'), 'starts with a byte-order mark (U+FEFF'],
      ['spaces.pass', 'secret words \n', 'the passphrase begins or ends with a space or tab'],
      ['key.pass', readFileSync(key), 'holds a key, not a passphrase'],
    ];
    for (const [name, content, warning] of cases) {
      const file = join(dir, name);
      writeFileSync(file, content);
      const r = await run([
        'encrypt',
        '--passphrase-file',
        file,
        '--work-factor',
        '10',
        '-o',
        '-',
        join(dir, 'plain'),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`sealstream: warning: --passphrase-file ${file}`);
      expect(r.stderr).toContain(warning);
      expect(r.stderr).not.toContain('secret words');
      expect(r.stderr).not.toContain(readFileSync(key, 'utf8').trim());
    }
    const plainPassphrase = join(dir, 'plain.pass');
    writeFileSync(plainPassphrase, 'secret words\n');
    const quiet = await run([
      'encrypt',
      '--passphrase-file',
      plainPassphrase,
      '--work-factor',
      '10',
      '-o',
      '-',
      join(dir, 'plain'),
    ]);
    expect(quiet.stderr).not.toContain('warning');
  });
});

describe('stdin for keys and for data', () => {
  it('keys read from stdin (`-`) leave no data there: stdin as the input too is refused, nothing sealed', async () => {
    const keyText = readFileSync(key);
    const out = join(dir, 'from-stdin.ss');
    // this sealed an empty input and said so as a success
    const both = await run(['encrypt', '--key-file', '-', '-o', out], { input: keyText });
    expect(both.code, both.stderr).toBe(2);
    expect(both.stderr).toContain('stdin is read for --key-file -: it cannot also be the input');
    expect(filesIn(dir)).not.toContain('from-stdin.ss');
    const sealed = await run(['encrypt', '--key-file', key, '-o', out, join(dir, 'plain')]);
    expect(sealed.code).toBe(0);
    const passphrase = await run(['decrypt', '--passphrase-file', '-', '-o', '-'], {
      input: readFileSync(out),
    });
    expect(passphrase.code).toBe(2);
    expect(passphrase.stderr).toContain('stdin is read for --passphrase-file -: it cannot also be the input');
    // keys from stdin with the data in a file: what `-` is for (a key from a password manager)
    const opened = await run(['decrypt', '--key-file', '-', '-o', '-', out], { input: keyText });
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toEqual(plain);
  });
});

describe('keygen to stdout', () => {
  it('warns when the key went into a file other users can read, as age-keygen does', () => {
    const readable = join(dir, 'readable.key');
    const r = bash(`umask 022 && ${sealstream(['keygen'])} > '${readable}'`);
    expect(r.code).toBe(0);
    expect(statSync(readable).mode & 0o777).toBe(0o644);
    expect(r.stderr).toContain(
      'sealstream: warning: the key went to a file that other users can read (mode 0644)',
    );
    // the key is never in the warning
    expect(r.stderr).not.toContain(readFileSync(readable, 'utf8').trim());
    const age = bash(`umask 022 && ${sealstream(['keygen', '-t', 'x25519', '-q'])} > '${readable}.age'`);
    expect(age.stderr).toContain('(mode 0644)');
    // a private file, a pipe, or -o: nothing to say
    expect(bash(`umask 077 && ${sealstream(['keygen'])} > '${readable}.private'`).stderr).not.toContain(
      'warning',
    );
    expect(bash(`${sealstream(['keygen'])} | cat > /dev/null`).stderr).not.toContain('warning');
  });
});

describe('rekey of a local file', () => {
  it('to public keys only: warned that the keys given no longer open it; not when one is held or kept', async () => {
    const me = join(dir, 'me.age');
    expect((await run(['keygen', '-t', 'x25519', '-o', me, '-q'])).code).toBe(0);
    const publicKey = (await run(['keygen', '-y', me])).stdout.toString().trim();
    const file = join(dir, 'to-public.ss');
    expect((await run(['encrypt', '--key-file', key, '-o', file, join(dir, 'plain')])).code).toBe(0);

    const rotated = await run(['rekey', '--key-file', key, '--to-recipient', publicKey, file]);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toContain(
      `sealstream: warning: ${file} is now sealed only to public keys (x25519 public key ${await idOf(me)}): the keys given to open it no longer do`,
    );
    expect((await run(['decrypt', '--key-file', key, '-o', '-', file])).code).toBe(3);
    expect((await run(['decrypt', '-i', me, '-o', '-', file])).stdout).toEqual(plain);

    // the private key of the new public key opened it: the user holds it
    const own = await run(['rekey', '-i', me, '--to-recipient', publicKey, file]);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stderr).not.toContain('warning');
    // --add keeps the recipients that opened it
    const added = await run(['rekey', '-i', me, '--add', '--to-key-file', key, file]);
    expect(added.code).toBe(0);
  });

  it('with a key that does not open it: NO_MATCHING_KEY naming the key IDs, exit 3, the file untouched', async () => {
    const file = join(dir, 'wrong-old.ss');
    expect((await run(['encrypt', '--key-file', key, '-o', file, join(dir, 'plain')])).code).toBe(0);
    const before = readFileSync(file);
    const stranger = join(dir, 'stranger.key');
    const next = join(dir, 'next.key');
    await run(['keygen', '-o', stranger, '-q']);
    await run(['keygen', '-o', next, '-q']);
    const r = await run(['rekey', '--key-file', stranger, '--to-key-file', next, file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `it is sealed to key ${await idOf(key)}; keys given: key ${await idOf(stranger)}`,
    );
    for (const k of [key, stranger, next]) expect(r.stderr).not.toContain(readFileSync(k, 'utf8').trim());
    expect(readFileSync(file)).toEqual(before);
    expect(filesIn(dir).filter((f) => f.includes('sealstream-partial'))).toEqual([]);
  });

  it('--add of passphrases past the scrypt budget readers accept is refused, the file untouched', async () => {
    const file = join(dir, 'passphrases.ss');
    const [p1, p2] = [join(dir, 'p1.pass'), join(dir, 'p2.pass')];
    writeFileSync(p1, 'first passphrase\n');
    writeFileSync(p2, 'second passphrase\n');
    const limits = ['--work-factor', '10', '--max-work-factor', '10'];
    expect(
      (await run(['encrypt', '--passphrase-file', p1, ...limits, '-o', file, join(dir, 'plain')])).code,
    ).toBe(0);
    const add = ['rekey', '--passphrase-file', p1, '--add', '--to-passphrase-file', p2, ...limits, file];
    // two stanzas at logN 10: 2^11 in all, the budget of --max-work-factor 10
    expect((await run(add)).code).toBe(0);
    const before = readFileSync(file);
    const third = await run(add);
    expect(third.code).toBe(2);
    expect(third.stderr).toContain('the file would hold 3 passphrase stanzas');
    expect(readFileSync(file)).toEqual(before);
    // what was written opens with either passphrase under the same limit
    for (const p of [p1, p2]) {
      expect(
        (await run(['decrypt', '--passphrase-file', p, '--max-work-factor', '10', '-o', '-', file])).stdout,
      ).toEqual(plain);
    }
  });

  it('an altered stanza under the right key is said to be altered, not a wrong key', async () => {
    const file = join(dir, 'altered.ss');
    expect((await run(['encrypt', '--key-file', key, '-o', file, join(dir, 'plain')])).code).toBe(0);
    const bytes = readFileSync(file);
    const headerLength = JSON.parse((await run(['inspect', '--json', file])).stdout.toString()).headerLength;
    bytes[headerLength - 1]! ^= 1; // the last byte of the stanza's wrap
    writeFileSync(file, bytes);
    const r = await run(['decrypt', '--key-file', key, '-o', '-', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `the stanza for key ${await idOf(key)} names a key given but does not open under it`,
    );
  });
});

describe('passphrase prompt', () => {
  it('a passphrase whose multibyte characters arrive split over two reads (a paste) is the one typed', async () => {
    const passphrase = 'pässwörd ✓ très long';
    writeFileSync(join(dir, 'utf8.pass'), `${passphrase}\n`);
    const file = join(dir, 'utf8.ss');
    const sealed = await run([
      'encrypt',
      '--passphrase-file',
      join(dir, 'utf8.pass'),
      '--work-factor',
      '10',
      '-o',
      file,
      join(dir, 'plain'),
    ]);
    expect(sealed.code).toBe(0);
    const bytes = Buffer.from(`${passphrase}\r`);
    const cut = bytes.indexOf(Buffer.from('ä')) + 1; // between the two bytes of ä
    let typed = false;
    const r = await runOnTty(['decrypt', '--passphrase', '-o', join(dir, 'utf8.out'), file], (out, write) => {
      if (typed || !out.includes('passphrase: ')) return;
      typed = true;
      write(bytes.subarray(0, cut));
      setTimeout(() => write(bytes.subarray(cut)), 300);
    });
    expect(r.code, r.output).toBe(0);
    expect(readFileSync(join(dir, 'utf8.out'))).toEqual(plain);
  });
});
