/**
 * Incomplete multipart uploads already on the store where `rekey` is about to write. A rekey that
 * was killed outright (SIGKILL, a crash, a reboot) could not abort the multipart upload of its new
 * object: the old object is intact, but the upload's parts stay, billed, and nothing else would
 * ever mention them. So each `rekey` of an object in a store, and `rekey -r`, first asks the store
 * (one ListMultipartUploads request) and names what it finds, with the command that removes it.
 * @module
 */
import {
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { interrupted } from './io.ts';
import { formatLocation, type RemoteLocation, withKey } from './location.ts';
import type { Reporter } from './report.ts';

/**
 * Warns of the incomplete uploads of `at`'s key (`prefix` false: that object only) or of every key
 * under it (`prefix` true). A store that does not answer the question is not an error of the
 * rekey: nothing is said then.
 */
export async function warnStrandedUploads(
  client: S3Client,
  at: RemoteLocation,
  prefix: boolean,
  reporter: Reporter,
): Promise<void> {
  let page: ListMultipartUploadsCommandOutput;
  try {
    page = await client.send(
      new ListMultipartUploadsCommand({ Bucket: at.bucket, ...(at.key !== '' ? { Prefix: at.key } : {}) }),
      { abortSignal: interrupted },
    );
  } catch {
    if (interrupted.aborted) throw interrupted.reason;
    return;
  }
  const uploads = (page.Uploads ?? []).filter(
    (u) => u.Key !== undefined && u.UploadId !== undefined && (prefix || u.Key === at.key),
  );
  if (uploads.length === 0) return;
  const where = formatLocation(at);
  const why =
    'perhaps left by a rekey or an upload that was killed (its parts are billed until aborted; the stored object is not affected)';
  if (!prefix && uploads.length === 1) {
    const u = uploads[0]!;
    const started = u.Initiated instanceof Date ? `, started ${u.Initiated.toISOString()}` : '';
    reporter.warn(
      `${where} has an incomplete multipart upload (${u.UploadId}${started}), ${why}: \`sealstream uploads abort ${formatLocation(withKey(at, u.Key!))} --upload-id ${u.UploadId}\` removes it`,
    );
    return;
  }
  const many = uploads.length > 1 || page.IsTruncated === true;
  const count = `${uploads.length}${page.IsTruncated ? ' or more' : ''} incomplete multipart upload${many ? 's' : ''}`;
  reporter.warn(
    `${prefix ? 'the prefix ' : ''}${where} holds ${count}, ${why}: \`sealstream uploads ls ${where}\` shows ${many ? 'them' : 'it'}, \`sealstream uploads abort\` removes ${many ? 'them' : 'it'}`,
  );
}
