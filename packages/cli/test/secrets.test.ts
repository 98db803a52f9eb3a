/**
 * Secrets: key files are 0600 from their first byte and replaced atomically; key text never
 * appears in any output, whatever path parsed it; keys given on the command line leave the
 * process list first thing; partial outputs are 0600 and cleaned up, also after a killed run;
 * what `inspect` prints from an object cannot drive the terminal.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { inspectHeader } from '@sealstream/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { bin, buildCli, filesIn, run, storeEnv, tempDir } from './helpers.ts';

let dir: string;
let keyFile: string;
let keyText: string;

beforeAll(async () => {
  buildCli();
  dir = tempDir();
  keyFile = join(dir, 'key');
  expect((await run(['keygen', '-o', keyFile, '-q'])).code).toBe(0);
  keyText = readFileSync(keyFile, 'utf8').trim();
});

/** Every form a key's bytes can be written in, cut in pieces: none may appear in any output. */
function forms(text: string): string[] {
  const bytes = Buffer.from(text, 'base64');
  const all = [
    bytes.toString('base64'),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    text,
  ];
  return all.flatMap((f) => [f.slice(0, 12), f.slice(12, 24), f.slice(-12)]);
}

function expectNoKey(output: string, text: string, what: string): void {
  for (const piece of forms(text)) expect(output, `${what}: ${piece}`).not.toContain(piece);
}

describe('key files', () => {
  it('keygen --force over a 0644 file: the key is never in a file another user can read', async () => {
    const out = join(dir, 'replaced.key');
    writeFileSync(out, 'old\n', { mode: 0o644 });
    // a reader polling the folder sees only files of mode 0600 or the old content
    const seen: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const name of readdirSync(dir)) {
          if (!name.includes('replaced.key')) continue;
          try {
            // mode and content of one file: through one descriptor (a stat then a read by name
            // could see the old file's mode and, renamed over it meanwhile, the new one's content)
            const fd = openSync(join(dir, name), 'r');
            try {
              const mode = fstatSync(fd).mode & 0o777;
              const content = readFileSync(fd, 'utf8');
              if (mode !== 0o600 && content !== 'old\n')
                seen.push(`${name} ${mode.toString(8)} ${content.length}`);
            } finally {
              closeSync(fd);
            }
          } catch {
            // renamed away meanwhile
          }
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 5; i++) {
      const r = await run(['keygen', '-o', out, '--force', '-q']);
      expect(r.code, r.stderr).toBe(0);
    }
    watching = false;
    await watcher;
    expect(seen).toEqual([]);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    expect(filesIn(dir).filter((f) => f.includes('sealstream-partial'))).toEqual([]);
    const again = await run(['keygen', '-o', out]);
    expect(again.code).toBe(2);
    expect(readFileSync(out, 'utf8')).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
  });
});

describe('key text never in any output', () => {
  it('keys, key files, SSE-C keys, key maps (flag and environment), malformed or not', {
    timeout: 300_000,
  }, async () => {
    const k = keyText;
    const hex = Buffer.from(k, 'base64').toString('hex');
    const bad = `${k.slice(0, 40)}AA`; // 31 bytes
    const badHex = hex.slice(0, 62);
    const file = (name: string, content: string) => {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    };
    const plain = file('plain-for-keys', 'hello');
    const target = 's3://some-bucket/x';
    const cases: { args: string[]; env?: Record<string, string>; secret: string; ok?: true }[] = [
      { args: ['encrypt', '--key', bad, plain], secret: bad },
      { args: ['encrypt', '--key', badHex, plain], secret: badHex },
      { args: ['encrypt', '--json', '--key', k, plain], secret: k, ok: true },
      { args: ['encrypt', '--key-file', file('bad-key-file', `# keys\n${bad}\n`), plain], secret: bad },
      { args: ['encrypt', '--key-file', file('two-bad', `${k}\n${badHex}\n`), plain], secret: badHex },
      { args: ['cp', '--sse-c', bad, plain, target], secret: bad },
      { args: ['cp', '--sse-c-file', file('ssec-two', `${k}\n${k}\n`), plain, target], secret: k },
      { args: ['cp', '--sse-c-file', file('ssec-bad', `${badHex}\n`), plain, target], secret: badHex },
      ...[
        k,
        hex,
        `s3/some-bucket:${k}`,
        `s3/some-bucket/${k}`,
        `s3/some-bucket=${bad}`,
        `s3/a=${k},${hex}`,
      ].flatMap((map) => [
        { args: ['cp', '--encrypt-key', map, plain, target], secret: map.includes(bad) ? bad : k },
        {
          args: ['cp', '--json', plain, target],
          env: { SEALSTREAM_ENCRYPT_KEY: map },
          secret: map.includes(bad) ? bad : k,
        },
        { args: ['cat', target], env: { SEALSTREAM_ENCRYPT_KEY: map }, secret: map.includes(bad) ? bad : k },
      ]),
      { args: ['rekey', '--key-file', keyFile, '--to-key', bad, plain], secret: bad },
      // the spellings and sources added for aws-cli, mc and CI users
      { args: ['cp', '--sse-c', 'AES256', '--sse-c-key', bad, plain, target], secret: bad },
      {
        args: ['cp', '--sse-c-key', `file://${file('ssec-text-bad', `${bad}\n`)}`, plain, target],
        secret: bad,
      },
      { args: ['cp', '--enc-c', `myminio/some-bucket=${bad}`, plain, target], secret: bad },
      { args: ['cp', '--enc-c', `a/some-bucket=${k}`, '--enc-c', `b/x=${k}`, plain, target], secret: k },
      { args: ['cp', '--json', plain, target], env: { SEALSTREAM_KEY: bad }, secret: bad },
      { args: ['cat', target], env: { SEALSTREAM_KEY_FILE: file('env-bad', `${badHex}\n`) }, secret: badHex },
      { args: ['encrypt', '--json', plain], env: { SEALSTREAM_KEY: k }, secret: k, ok: true },
      { args: ['rekey', '--sse-c-file', keyFile, '--to-sse-c', bad, target], secret: bad },
      // a secret key given where a public key belongs: the text is no public key, so not repeated
      { args: ['encrypt', '-R', keyFile, plain], secret: k },
      { args: ['encrypt', '-r', k, plain], secret: k },
      { args: ['encrypt', '--recipient', hex, plain], secret: k },
      { args: ['cp', '--recipients-file', keyFile, plain, target], secret: k },
      { args: ['rekey', '--key-file', keyFile, '--to-recipients-file', keyFile, plain], secret: k },
      { args: ['rekey', '--key-file', keyFile, '--to-recipient', k, plain], secret: k },
    ];
    for (const c of cases) {
      const r = await run(c.args, {
        env: storeEnv({ AWS_ENDPOINT_URL_S3: 'https://127.0.0.1:9', ...c.env }),
      });
      const what = `${c.args.join(' ')} ${JSON.stringify(c.env ?? {})}`;

      if (c.ok) expect(r.code, `${what}\n${r.stderr}`).toBe(0);
      else expect(r.code, `${what}\n${r.stderr}`).not.toBe(0);
      expectNoKey(r.stdout.toString('latin1') + r.stderr, c.secret, what);
      if (c.secret !== k) expectNoKey(r.stdout.toString('latin1') + r.stderr, k, what);
    }
  });

  it('age private keys: malformed, or given where a public key belongs, never echoed', async () => {
    const made = join(dir, 'age-secret.key');
    expect((await run(['keygen', '--type', 'x25519', '-o', made, '-q'])).code).toBe(0);
    const secret = readFileSync(made, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
    const body = secret.slice('AGE-SECRET-KEY-1'.length);
    const broken = `AGE-SECRET-KEY-1${body.slice(0, -1)}${body.endsWith('Q') ? 'P' : 'Q'}`; // checksum fails
    const plain = join(dir, 'plain-for-age');
    writeFileSync(plain, 'hello');
    const brokenFile = join(dir, 'age-broken.key');
    writeFileSync(brokenFile, `# created: now\n${broken}\n`);
    const cases: string[][] = [
      ['encrypt', '-i', brokenFile, plain],
      ['decrypt', '--key-file', brokenFile, plain],
      ['encrypt', '-r', secret, plain], // a private key where a public key belongs
      ['encrypt', '-R', made, plain],
      ['keygen', '-y', brokenFile],
      ['key-id', brokenFile],
      ['encrypt', '--json', plain],
    ];
    for (const args of cases) {
      const r = await run(args, { env: storeEnv({ SEALSTREAM_KEY: broken }) });
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).not.toBe(0);
      const out = r.stdout.toString('latin1') + r.stderr;
      for (const piece of [body.slice(0, 12), body.slice(20, 32), body.slice(-12), broken.slice(-12)])
        expect(out, `${args.join(' ')}: ${piece}`).not.toContain(piece);
    }
    // a passphrase file given as a recipients file: not a public key, and never repeated
    const passphrase = 'correct horse battery staple';
    const passphraseFile = join(dir, 'passphrase.txt');
    writeFileSync(passphraseFile, `${passphrase}\n`);
    for (const args of [
      ['encrypt', '-R', passphraseFile, plain],
      ['encrypt', '-r', passphrase, plain],
    ]) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(3);
      expect(r.stderr).toContain('is not a public key');
      for (const word of passphrase.split(' ')) expect(r.stderr, args.join(' ')).not.toContain(word);
    }
    // keygen -y and key-id of a good key file print the public key only
    for (const args of [
      ['keygen', '-y', made],
      ['key-id', '--json', made],
    ]) {
      const r = await run(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString() + r.stderr).not.toContain(body.slice(0, 12));
    }
  });

  it('a key on the command line is out of the process list before the prompt, and before the program loads', async () => {
    // stdin held open: the process waits for data, long after start-up
    const child = spawn(process.execPath, [bin, 'encrypt', '--key', keyText], {
      env: storeEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const started = performance.now();
    let stderr = '';
    let warnedAt: number | undefined;
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      warnedAt ??= performance.now() - started;
    });
    let lastSeen = -1;
    let title = '';
    while (warnedAt === undefined && performance.now() - started < 30_000) {
      try {
        title = readFileSync(`/proc/${child.pid}/cmdline`, 'latin1');
        if (title.includes(keyText.slice(0, 20))) lastSeen = performance.now() - started;
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    title = readFileSync(`/proc/${child.pid}/cmdline`, 'latin1');
    child.stdin.end('data');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code, stderr).toBe(0);
    expect(warnedAt).toBeDefined();
    expect(title.replace(/\0+$/, '')).toBe('sealstream');
    // gone before the program itself (commander, the SDK) was loaded: before its first message
    expect(lastSeen).toBeLessThan(warnedAt!);
    console.info(
      `key visible in /proc/PID/cmdline until ${lastSeen.toFixed(0)} ms; first message at ${warnedAt!.toFixed(0)} ms`,
    );
  });
});

describe('partial outputs', () => {
  function startDecrypt(out: string): { child: ChildProcess; exit: Promise<number | null> } {
    const child = spawn(process.execPath, [bin, 'decrypt', '--key-file', keyFile, '-o', out], {
      env: storeEnv(),
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    child.stdin!.on('error', () => {});
    child.stderr!.resume();
    return { child, exit: new Promise((r) => child.on('close', r)) };
  }

  it('are created 0600 (they may hold plaintext) and removed on SIGTERM; the finished file gets the usual mode', async () => {
    const sealed = (await run(['encrypt', '--key-file', keyFile], { input: randomBytes(3 << 20) })).stdout;
    const out = tempDir();
    const { child, exit } = startDecrypt(join(out, 'plain'));
    child.stdin!.write(sealed.subarray(0, 1 << 20));
    const deadline = Date.now() + 30_000;
    while (readdirSync(out).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const [partial] = readdirSync(out);
    expect(partial).toMatch(new RegExp(`^\\.plain\\.${child.pid}-[0-9a-f]{12}\\.sealstream-partial$`));
    expect(statSync(join(out, partial!)).mode & 0o777).toBe(0o600);
    child.kill('SIGTERM');
    expect(await exit).toBe(143);
    expect(readdirSync(out)).toEqual([]);
    const done = await run(['decrypt', '--key-file', keyFile, '-o', join(out, 'plain')], { input: sealed });
    expect(done.code).toBe(0);
    expect(statSync(join(out, 'plain')).mode & 0o777).toBe(0o666 & ~process.umask());
  });

  it('a partial left by a killed run is removed by the next run writing the same output, and said', async () => {
    const sealed = (await run(['encrypt', '--key-file', keyFile], { input: 'x'.repeat(100) })).stdout;
    const out = tempDir();
    const { child, exit } = startDecrypt(join(out, 'plain'));
    child.stdin!.write(sealed.subarray(0, 50));
    const deadline = Date.now() + 30_000;
    while (readdirSync(out).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exit;
    const [stale] = readdirSync(out);
    expect(stale).toMatch(/\.sealstream-partial$/);
    writeFileSync(join(out, '.plain.0123456789ab.sealstream-partial'), 'from an older version');
    const next = await run(['decrypt', '--key-file', keyFile, '-o', join(out, 'plain')], { input: sealed });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain(`removed ${join(out, stale!)}, left by an earlier run that was killed`);
    expect(next.stderr).toContain(
      '.plain.0123456789ab.sealstream-partial is the partial output of an earlier run',
    );
    expect(existsSync(join(out, stale!))).toBe(false);
    expect(readdirSync(out).sort()).toEqual(['.plain.0123456789ab.sealstream-partial', 'plain']);
  });
});

describe('inspect', () => {
  it('escapes what it prints from an object: no terminal escapes, no fake recipients', async () => {
    const sealedPath = join(dir, 'hostile.ss');
    const enc = await run(['encrypt', '--key-file', keyFile, '-o', sealedPath], { input: 'hello' });
    expect(enc.code).toBe(0);
    const sealed = readFileSync(sealedPath);
    const { headerLength } = inspectHeader(sealed);
    // SPEC §4: magic, version, u32 Lc, content header, u32 Lr, recipients block (msgpack [stanza])
    const contextEnd = 15 + sealed.readUInt32BE(11);
    const blockLength = sealed.readUInt32BE(contextEnd);
    expect(contextEnd + 4 + blockLength).toBe(headerLength);
    expect(sealed[contextEnd + 4]).toBe(0x91); // an array of one stanza
    const original = sealed.subarray(contextEnd + 5, headerLength);
    const name = Buffer.from('\x1b[2K\rkey 0000000000000000\x1b]0;owned\x07\u202e\u009b2J');
    expect(name.length).toBeLessThan(256);
    const stanza = Buffer.concat([
      Buffer.from([0x81, 0xa4]),
      Buffer.from('type'),
      name.length < 32 ? Buffer.from([0xa0 | name.length]) : Buffer.from([0xd9, name.length]),
      name,
    ]);
    const block = Buffer.concat([Buffer.from([0x92]), stanza, original]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(block.length);
    const newHeader = Buffer.concat([sealed.subarray(0, contextEnd), length, block]);
    const hostile = Buffer.concat([newHeader, sealed.subarray(headerLength)]);
    expect(inspectHeader(hostile).recipients[0]).toMatchObject({ type: 'unknown' });
    writeFileSync(sealedPath, hostile);
    for (const args of [
      ['inspect', sealedPath],
      ['inspect', '--json', sealedPath],
    ]) {
      const r = await run(args);
      expect(r.code, r.stderr).toBe(0);
      const text = r.stdout.toString('utf8');
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
      expect(text).toContain(args.includes('--json') ? '\\u001b[2K' : '\\x1b[2K');
    }
    const text = (await run(['inspect', sealedPath])).stdout.toString();
    expect(text).toMatch(/unknown type \\x1b\[2K\\x0dkey 0000000000000000\\x1b\]0;owned\\x07\\u202e\\x9b2J/);
  });
});
