import type { S3Client } from '@aws-sdk/client-s3';
import { abortIncompleteUpload, listIncompleteUploads } from '@sealstream/sos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, testClient } from '../../sos/test/helpers.ts';
import { abortAllUploads, startUpload as startUploadIn } from '../../sos/test/incomplete-helpers.ts';
import { buildCli, run } from './helpers.ts';

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;

const MiB = 1024 * 1024;

beforeAll(async () => {
  buildCli();
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
});

afterAll(async () => {
  await abortAllUploads(client, bucket);
  await cleanup?.();
  client?.destroy();
});

function startUpload(key: string, partSizes: number[]): Promise<string> {
  return startUploadIn(client, bucket, key, partSizes);
}

async function idsUnder(prefix: string): Promise<string[]> {
  return (await listIncompleteUploads({ client, bucket, prefix })).map((u) => u.uploadId).sort();
}

describe('uploads ls', () => {
  it('shows each upload with its age, parts, size and ID; --json the same as one document', async () => {
    const a = await startUpload('ls/a.bin', [5 * MiB, 100]);
    const evil = await startUpload('ls/evil\x1b[2Jkey', []);
    const text = await run(['uploads', 'ls', `s3://${bucket}/ls/`]);
    expect(text.code, text.stderr).toBe(0);
    const out = text.stdout.toString();
    expect(out).toMatch(/STARTED \(UTC\)\s+AGE\s+PARTS\s+SIZE\s+UPLOAD ID\s+KEY/);
    expect(out).toContain(a);
    expect(out).toMatch(new RegExp(`\\s2\\s+5\\.0 MiB\\s+${quoted(a)}\\s+ls/a\\.bin\\n`));
    // a key cannot reach the terminal raw
    expect(out).not.toContain('\x1b');
    expect(out).toContain('ls/evil\\x1b[2Jkey');
    expect(out).toContain('2 incomplete uploads, 2 parts, 5.0 MiB under');

    // a global option before the subcommand, as aws-cli takes it
    const json = await run(['--json', 'uploads', 'ls', `s3://${bucket}/ls/a`]);
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout.toString());
    expect(doc).toMatchObject({
      command: 'uploads ls',
      target: `s3://${bucket}/ls/a`,
      uploads: [{ key: 'ls/a.bin', uploadId: a, parts: 2, size: 5 * MiB + 100 }],
      totals: { uploads: 1, parts: 2, bytes: 5 * MiB + 100 },
    });
    expect(doc.uploads[0].ageSeconds).toBeGreaterThanOrEqual(0);
    expect(doc.uploads[0].ageSeconds).toBeLessThan(600);
    expect(Date.parse(doc.uploads[0].initiated)).not.toBeNaN();
    await abortIncompleteUpload({ client, bucket, key: 'ls/a.bin', uploadId: a });
    await abortIncompleteUpload({ client, bucket, key: 'ls/evil\x1b[2Jkey', uploadId: evil });

    const none = await run(['uploads', 'ls', `s3://${bucket}/ls/`]);
    expect(none.code).toBe(0);
    expect(none.stdout.toString()).toBe(`no incomplete uploads under s3://${bucket}/ls/\n`);
  });

  it('refuses what is not a store, and a missing bucket is not found', async () => {
    expect((await run(['uploads', 'ls', '/tmp'])).code).toBe(2);
    expect((await run(['uploads', 'ls'])).code).toBe(2);
    const missing = await run(['uploads', 'ls', `s3://${bucket}-missing/`]);
    expect(missing.code, missing.stderr).toBe(5);
  });
});

describe('uploads abort', () => {
  it('refuses to guess between two uploads of a key, aborts the one named, then the only one left', async () => {
    const one = await startUpload('ab/k', [5 * MiB]);
    const two = await startUpload('ab/k', [7]);
    const longer = await startUpload('ab/k2', [7]);

    const ambiguous = await run(['uploads', 'abort', `s3://${bucket}/ab/k`]);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('has 2 incomplete uploads');
    expect(ambiguous.stderr).toContain(one);
    expect(ambiguous.stderr).toContain(two);
    expect(ambiguous.stderr).toContain('--upload-id');
    expect(await idsUnder('ab/')).toEqual([one, two, longer].sort());

    const named = await run(['uploads', 'abort', `s3://${bucket}/ab/k`, '--upload-id', one]);
    expect(named.code, named.stderr).toBe(0);
    expect(named.stderr).toContain(`aborted upload ${one} (1 part, 5.0 MiB`);
    expect(await idsUnder('ab/')).toEqual([two, longer].sort());

    // an ID that is not (or no longer) there
    const gone = await run(['uploads', 'abort', `s3://${bucket}/ab/k`, '--upload-id', one]);
    expect(gone.code).toBe(5);
    expect(gone.stderr).toContain(`no incomplete upload ${one}`);

    const only = await run(['--json', 'uploads', 'abort', `s3://${bucket}/ab/k`]);
    expect(only.code, only.stderr).toBe(0);
    expect(JSON.parse(only.stdout.toString())).toMatchObject({
      command: 'uploads abort',
      aborted: [{ key: 'ab/k', uploadId: two, parts: 1, size: 7 }],
      totals: { aborted: 1, parts: 1, bytes: 7 },
    });
    // the longer key is another object
    expect(await idsUnder('ab/')).toEqual([longer]);

    const none = await run(['uploads', 'abort', `s3://${bucket}/ab/k`]);
    expect(none.code).toBe(5);
    expect(none.stderr).toContain(`no incomplete upload of s3://${bucket}/ab/k`);
    await abortIncompleteUpload({ client, bucket, key: 'ab/k2', uploadId: longer });
  });

  it('--all aborts every upload under a prefix and says what it aborted', async () => {
    const ids = [await startUpload('all/x', [5 * MiB, 5 * MiB]), await startUpload('all/y/z', [])];
    const keep = await startUpload('kept', [7]);
    const all = await run(['uploads', 'abort', '--all', `s3://${bucket}/all/`]);
    expect(all.code, all.stderr).toBe(0);
    for (const id of ids) expect(all.stderr).toContain(`aborted upload ${id}`);
    expect(all.stderr).toContain('aborted 2 of 2 incomplete uploads, 10.0 MiB freed');
    expect(await idsUnder('all/')).toEqual([]);
    expect(await idsUnder('kept')).toEqual([keep]);

    const again = await run(['uploads', 'abort', '--all', `s3://${bucket}/all/`]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('nothing to abort');
    await abortIncompleteUpload({ client, bucket, key: 'kept', uploadId: keep });
  });

  it('refuses a prefix without --all, and --all with --upload-id', async () => {
    const prefix = await run(['uploads', 'abort', `s3://${bucket}/some/`]);
    expect(prefix.code).toBe(2);
    expect(prefix.stderr).toContain('names a prefix');
    expect(prefix.stderr).toContain(`uploads abort --all s3://${bucket}/some/`);
    const both = await run(['uploads', 'abort', '--all', '--upload-id', 'x', `s3://${bucket}/k`]);
    expect(both.code).toBe(2);
    const whole = await run(['uploads', 'abort', `s3://${bucket}`]);
    expect(whole.code).toBe(2);
  });
});

function quoted(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
