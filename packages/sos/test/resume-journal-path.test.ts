/**
 * A journal path that names no regular file (a FIFO, a device, a folder) or an oversized file: a
 * careless `--journal` must end in JOURNAL_INVALID at once, with bounded work: a FIFO was waited on
 * for good and /dev/zero read without end.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { putObject } from '../src/index.ts';
import { readJournal } from '../src/resume/journal.ts';
import { bytes, codeOf, openUploads, scratchDir, useTestBucket } from './helpers.ts';

let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});
const dir = scratchDir('journal-path');

/** `promise`'s code, or 'still pending' after 3 s (what a hang looks like here). */
function codeOrPending(promise: Promise<unknown>): Promise<string | undefined> {
  return Promise.race([
    codeOf(promise),
    new Promise<string>((r) => setTimeout(() => r('still pending'), 3000)),
  ]);
}

describe('journal paths that are not journals', () => {
  it('a FIFO, /dev/zero, a folder, a 17 MiB file: JOURNAL_INVALID at once', async () => {
    const fifo = join(dir, 'fifo.journal');
    execFileSync('mkfifo', [fifo]);
    const folder = join(dir, 'folder.journal');
    mkdirSync(folder);
    const huge = join(dir, 'huge.journal');
    writeFileSync(huge, '');
    truncateSync(huge, 17 * 1024 * 1024);
    for (const path of [fifo, '/dev/zero', folder, huge]) {
      expect(await codeOrPending(readJournal(path)), path).toBe('JOURNAL_INVALID');
    }
  });

  it('putObject with a FIFO for its journal: JOURNAL_INVALID, nothing sent', async () => {
    const fifo = join(dir, 'put-fifo.journal');
    execFileSync('mkfifo', [fifo]);
    const source = join(dir, 'source.bin');
    writeFileSync(source, bytes(12 * 1024 * 1024));
    const put = putObject({
      client,
      bucket,
      key: 'fifo-journal',
      body: source,
      encryption: 'none',
      resume: { journal: fifo },
    });
    expect(await codeOrPending(put)).toBe('JOURNAL_INVALID');
    expect(await openUploads(client, bucket)).toBe(0);
  });
});
