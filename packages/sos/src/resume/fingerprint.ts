/**
 * What identifies a source file between an interrupted upload and its resumption: path, size,
 * modification time, and SHA-256 of its first and last MiB (a file rewritten in place with the
 * same size within the mtime's resolution is still caught when its ends differ).
 * @module
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { SosError } from '../errors.ts';

/** How much of each end of the file is hashed. */
const ENDS = 1024 * 1024;

/** The source of a resumable upload, as the journal records it. */
export interface SourceFingerprint {
  /** Absolute path. */
  path: string;
  size: number;
  /** Modification time, milliseconds since the epoch (with the file system's fraction). */
  mtimeMs: number;
  /** SHA-256 (hex) of the first MiB (the whole file when smaller). */
  headSha256: string;
  /** SHA-256 (hex) of the last MiB (the whole file when smaller). */
  tailSha256: string;
}

/** Fingerprints an open file whose absolute path is `path`. */
export async function fingerprint(file: FileHandle, path: string): Promise<SourceFingerprint> {
  const info = await file.stat();
  const size = info.size;
  const head = await readAt(file, 0, Math.min(ENDS, size));
  const tailStart = Math.max(0, size - ENDS);
  const tail = tailStart === 0 ? head : await readAt(file, tailStart, size - tailStart);
  return {
    path,
    size,
    mtimeMs: info.mtimeMs,
    headSha256: sha256(head),
    tailSha256: sha256(tail),
  };
}

/**
 * Compares the file now with the journal's fingerprint.
 * @returns What differs, or `undefined` when it is the same file.
 */
export function sourceDifference(journaled: SourceFingerprint, now: SourceFingerprint): string | undefined {
  if (journaled.path !== now.path) return `the journal is for ${journaled.path}, not ${now.path}`;
  if (journaled.size !== now.size) return `its size changed from ${journaled.size} to ${now.size} bytes`;
  if (journaled.mtimeMs !== now.mtimeMs) {
    return `it was modified (${new Date(journaled.mtimeMs).toISOString()} then, ${new Date(now.mtimeMs).toISOString()} now)`;
  }
  if (journaled.headSha256 !== now.headSha256 || journaled.tailSha256 !== now.tailSha256) {
    return 'its content changed (its first or last MiB differs)';
  }
  return undefined;
}

/**
 * Reads exactly `length` bytes at `offset`.
 * @throws {SosError} `SOURCE_CHANGED` when the file ends before (it shrank while being read).
 */
export async function readAt(
  file: FileHandle,
  offset: number,
  length: number,
  into?: Uint8Array,
): Promise<Uint8Array> {
  const out = into ?? new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(out, done, length - done, offset + done);
    if (bytesRead === 0) {
      throw new SosError(
        'SOURCE_CHANGED',
        `the source file ended at ${offset + done} bytes while it was being uploaded: it was truncated or replaced`,
      );
    }
    done += bytesRead;
  }
  return out;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
