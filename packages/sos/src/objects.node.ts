/**
 * `putObject` of the Node entry: the shared one, with a file path as the body read from the file,
 * a Node `Readable` read a chunk at a time, and resumable uploads of files (a journal is a file).
 * @module
 */
import { nodeBody } from './body.node.ts';
import { type PutObjectOptions, type PutObjectResult, putObject as putAnyBody } from './objects.ts';
import { putResumable } from './resume/put.ts';
import { mapStoreError } from './store-errors.ts';

/**
 * Uploads an object as a stream; see the shared `putObject` (objects.ts). In Node, `body` may
 * also be the path of a file, streamed from disk; with `resume`, the upload of that file can be
 * continued after an interruption (see the README, "Resumable uploads").
 * @throws {SosError} as the shared `putObject`; with `resume` also `NOT_RESUMABLE`, `JOURNAL_INVALID`,
 *   `SOURCE_CHANGED`, `RESUME_KEY_MISMATCH`, and {@link UploadResumableError} when the upload fails
 *   with its parts kept for a later resume.
 * @example
 * await putObject({ client, bucket: 'backups', key: 'db.tar', body: '/var/backups/db.tar',
 *   encryption: { sseC: { key: process.env.SSE_C_KEY! } } });
 * // resumable: run again after a crash or Ctrl-C and it continues
 * await putObject({ client, bucket, key, body: '/var/backups/db.tar', encryption,
 *   resume: { journal: '/var/backups/db.tar.upload.json' } });
 */
export async function putObject(options: PutObjectOptions): Promise<PutObjectResult> {
  if (options?.resume !== undefined) {
    // the journal's own requests (ListParts, the HEAD of a completed upload) are the SDK's until here
    const { bucket, key } = options;
    return putResumable(options).catch((err: unknown) => {
      throw mapStoreError(err, { what: `put ${bucket}/${key}`, bucket, key });
    });
  }
  const body = options?.body;
  return putAnyBody(body === undefined ? options : { ...options, body: await nodeBody(body) });
}
