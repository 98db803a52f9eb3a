/**
 * The resume journal's building blocks, without a server: strict reading, atomic 0600 writes in
 * order, the source fingerprint, and the multipart ETag that recognizes a completed upload.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { multipartEtag } from '../src/resume/etag.ts';
import { fingerprint, readAt, sourceDifference } from '../src/resume/fingerprint.ts';
import { isCreated, type Journal, JournalWriter, readJournal } from '../src/resume/journal.ts';
import { scratchDir } from './helpers.ts';

const dir = scratchDir('journal');
const MiB = 1024 * 1024;

function journal(overrides: Partial<Journal> = {}): Journal {
  return {
    format: 'sealstream-upload-journal',
    version: 1,
    bucket: 'b',
    key: 'k',
    uploadId: 'u1',
    created: '2026-01-01T00:00:00.000Z',
    encryption: 'client-side',
    header: Buffer.from('header bytes').toString('base64'),
    plan: { partSize: 5 * MiB, size: 12 * MiB, sealedSize: 12 * MiB + 1000, parts: 3 },
    source: { path: '/x', size: 12 * MiB, mtimeMs: 1, headSha256: 'a', tailSha256: 'b' },
    parts: [{ number: 2, etag: '"e"', size: 5 * MiB, plaintext: [5 * MiB - 16, 10 * MiB] }],
    ...overrides,
  };
}

describe('reading', () => {
  it('no file: undefined; a valid journal: as written', async () => {
    expect(await readJournal(join(dir, 'absent.json'))).toBeUndefined();
    const path = join(dir, 'valid.json');
    writeFileSync(path, JSON.stringify(journal()));
    expect(await readJournal(path)).toEqual(journal());
  });

  it('a journal written before CreateMultipartUpload: no upload ID and no part', async () => {
    const path = join(dir, 'before-create.json');
    const { uploadId: _id, ...before } = journal({ parts: [] });
    writeFileSync(path, JSON.stringify(before));
    const read = await readJournal(path);
    expect(read).toEqual(before);
    expect(read && isCreated(read)).toBe(false);
  });

  it.each([
    ['another version', { version: 2 }],
    ['a part size under 5 MiB', { plan: { partSize: 1, size: 10, sealedSize: 10, parts: 10 } }],
    [
      'a part count that does not follow from the plan',
      { plan: { partSize: 5 * MiB, size: 1, sealedSize: 12 * MiB, parts: 2 } },
    ],
    ['client-side without a header', { header: undefined }],
    ['a header that is not base64', { header: 'not base64!' }],
    ['SSE-C without its key check', { encryption: 'sse-c' as const, header: undefined }],
    ['a part twice', { parts: [...journal().parts, ...journal().parts] }],
    [
      'a part past the plan',
      { parts: [{ number: 4, etag: '"e"', size: 1, plaintext: [0, 1] as [number, number] }] },
    ],
    ['no upload ID', { uploadId: '' }],
    ['no upload ID yet, but parts acknowledged', { uploadId: undefined }],
  ])('refused whole: %s', async (_label, overrides) => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify(journal(overrides as Partial<Journal>)));
    const err = await readJournal(path).catch((e) => e);
    expect(err.code).toBe('JOURNAL_INVALID');
  });
});

describe('writing', () => {
  it('atomically, mode 0600, in the order asked, no temporary file left; removal', async () => {
    const path = join(dir, 'written.json');
    const writer = new JournalWriter(path);
    const writes = [1, 2, 3].map((n) => writer.write(journal({ uploadId: `u${n}` })));
    await Promise.all(writes);
    expect((await readJournal(path))?.uploadId).toBe('u3');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    await writer.remove();
    expect(await readJournal(path)).toBeUndefined();
    await writer.remove(); // already gone: fine
  });

  it('removal also takes what a write killed half-way left beside the journal, and nothing else', async () => {
    const sub = mkdtempSync(join(dir, 'stale-'));
    const path = join(sub, 'j.json');
    const writer = new JournalWriter(path);
    await writer.write(journal());
    // what a process killed between open() and rename() leaves; and files that only look alike
    for (const name of [
      'j.json.4242.0.tmp',
      'j.json.4242.17.tmp',
      'j.json.notes.tmp',
      'j.json.4242.0.tmp.keep',
      'other.json.1.0.tmp',
    ])
      writeFileSync(join(sub, name), 'x');
    await writer.remove();
    expect(readdirSync(sub).sort()).toEqual([
      'j.json.4242.0.tmp.keep',
      'j.json.notes.tmp',
      'other.json.1.0.tmp',
    ]);
  });

  it('a journal that cannot be written: JOURNAL_INVALID', async () => {
    const writer = new JournalWriter(join(dir, 'no-such-dir', 'j.json'));
    expect((await writer.write(journal()).catch((e) => e)).code).toBe('JOURNAL_INVALID');
  });
});

describe('the source fingerprint', () => {
  it('catches a change of size, mtime, first or last MiB, path', async () => {
    const path = join(dir, 'source.bin');
    const data = Buffer.alloc(3 * MiB, 7);
    writeFileSync(path, data);
    const at = async () => {
      const file = await open(path, 'r');
      try {
        return await fingerprint(file, path);
      } finally {
        await file.close();
      }
    };
    // a whole second: utimes sets it exactly (a sub-millisecond mtime would not round-trip)
    utimesSync(path, 1_000_000, 1_000_000);
    const before = await at();
    expect(sourceDifference(before, await at())).toBeUndefined();
    expect(sourceDifference(before, { ...before, path: '/elsewhere' })).toContain('not /elsewhere');
    for (const offset of [0, 3 * MiB - 1]) {
      const changed = Buffer.from(data);
      changed[offset] = 8;
      writeFileSync(path, changed);
      utimesSync(path, 1_000_000, 1_000_000);
      expect(sourceDifference(before, await at())).toContain('content changed');
    }
    writeFileSync(path, data);
    utimesSync(path, 1, 1);
    expect(sourceDifference(before, await at())).toContain('modified');
    writeFileSync(path, data.subarray(1));
    expect(sourceDifference(before, await at())).toContain('size changed');
  });

  it('a file that shrinks under a read: SOURCE_CHANGED', async () => {
    const path = join(dir, 'short.bin');
    writeFileSync(path, Buffer.alloc(100));
    const file = await open(path, 'r');
    try {
      expect((await readAt(file, 50, 100).catch((e) => e)).code).toBe('SOURCE_CHANGED');
      expect(Buffer.from(await readAt(file, 90, 10)).equals(Buffer.alloc(10))).toBe(true);
    } finally {
      await file.close();
    }
    expect(readFileSync(path).length).toBe(100);
  });
});

describe('multipart ETag', () => {
  it('the value Ceph RGW gave for two parts (known answer)', () => {
    expect(multipartEtag(['"08b46181d7094b5ece88bb389c7499af"', '"4b78b18591f8b110fe288a813f020717"'])).toBe(
      '"686ce36d083e1d331420bff015e9a69d-2"',
    );
  });

  it('undefined when a part ETag is not an MD5', () => {
    expect(multipartEtag(['"08b46181d7094b5ece88bb389c7499af"', '"abc-2"'])).toBeUndefined();
  });
});
