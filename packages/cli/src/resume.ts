/**
 * Resumable uploads in the CLI: where the journals live (one per source file and destination),
 * and what the user is told when an upload is continued, kept for later, or cannot be resumed.
 * The journals themselves (format, checks, atomic writes) belong to `@sealstream/sos`.
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { isSosError, UploadResumableError } from '@sealstream/sos';
import { CliError, describeError, exitCodeOf } from './exit.ts';
import { formatLocation, type RemoteLocation } from './location.ts';
import { formatBytes } from './report.ts';
import { UploadKeptError } from './upload-kept.ts';

/**
 * The folder of sealstream's state: `$SEALSTREAM_STATE_DIR`, else
 * `$XDG_STATE_HOME/sealstream`, else `~/.local/state/sealstream` (the XDG base directory default).
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SEALSTREAM_STATE_DIR) return resolve(env.SEALSTREAM_STATE_DIR);
  const xdg = env.XDG_STATE_HOME;
  // the XDG spec: a relative path is invalid and is ignored
  const base = xdg?.startsWith('/') ? xdg : join(homedir(), '.local', 'state');
  return join(base, 'sealstream');
}

/** The folder of upload journals, created (mode 0700: they name files and uploads) when missing. */
export async function journalFolder(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = join(stateDir(env), 'uploads');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * The store a client talks to, as a URL: two stores can hold the same `s3://bucket/key`, and a
 * journal of one must not be taken for the other's.
 */
export async function endpointOf(client: S3Client): Promise<string> {
  const endpoint = await client.config.endpoint?.();
  if (endpoint === undefined) return '';
  const port = endpoint.port === undefined ? '' : `:${endpoint.port}`;
  return `${endpoint.protocol}//${endpoint.hostname}${port}${endpoint.path}`;
}

/**
 * The journal of the upload of `source` (a local file) to `destination`: named by the SHA-256 of
 * the file's absolute path, the destination URL and the store's endpoint, so the same command run
 * again (from any folder) finds it, and nothing else does.
 */
export function journalName(source: string, destination: RemoteLocation, endpoint: string): string {
  const id = JSON.stringify([resolve(source), formatLocation(destination), endpoint]);
  return `${createHash('sha256').update(id).digest('hex')}.json`;
}

/** What a continued upload skipped, for the messages and `--json`. */
export interface ResumeReport {
  uploadId: string;
  partsSkipped: number;
  partsTotal: number;
  bytesSkipped: number;
  /** Known only at the end. */
  bytesResent?: number;
}

/** The status line when an interrupted upload is continued. */
export function resumingText(source: string, destination: string, r: ResumeReport): string {
  return `resuming the interrupted upload of ${source} -> ${destination}: ${r.partsSkipped} of ${r.partsTotal} parts (${formatBytes(r.bytesSkipped)}) already stored, not sent again`;
}

/**
 * The CLI's error for a failed resumable upload: what happened and, in the hint, the command that
 * continues it, starts it over or discards it. Messages never repeat the command line (it may hold
 * a key), only the flags to add.
 * @param destination - The object, as the user wrote it.
 */
export function resumeFailure(err: unknown, source: string, destination: RemoteLocation): unknown {
  const to = formatLocation(destination);
  const abort = (id?: string) => `sealstream uploads abort ${to}${id ? ` --upload-id ${id}` : ''}`;
  if (err instanceof UploadResumableError) return new UploadKeptError(err, source, to, abort(err.uploadId));
  if (isSosError(err, 'SOURCE_CHANGED')) {
    return new CliError(
      exitCodeOf(err),
      `${source} changed since its interrupted upload to ${to} began (${describeError(err)}): the parts already stored hold the old content, so it cannot be resumed`,
      {
        cause: err,
        hint: `run the same command with --restart to upload the file as it is now (the old upload is aborted); or discard the old upload: ${abort()}`,
      },
    );
  }
  if (isSosError(err, 'RESUME_KEY_MISMATCH')) {
    return new CliError(
      exitCodeOf(err),
      `the keys given do not match the interrupted upload of ${source} -> ${to} (${describeError(err)}): it was begun with other keys, and a resumed object must be sealed with the keys it began with`,
      {
        cause: err,
        hint: `give the keys the upload began with to resume it; or run the same command with --restart to upload it under these keys (the old upload is aborted); or discard it: ${abort()}`,
      },
    );
  }
  if (isSosError(err, 'JOURNAL_INVALID')) {
    return new CliError(
      exitCodeOf(err),
      `the resume journal of ${source} -> ${to} cannot be used: ${describeError(err)}`,
      {
        cause: err,
        hint: `run the same command with --restart to start over (the journal is replaced); \`sealstream uploads ls ${to}\` shows an upload it may have left`,
      },
    );
  }
  return err;
}
