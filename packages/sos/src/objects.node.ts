/**
 * `putObject` of the Node entry: the shared one, with a file path as the body read from the file.
 * @module
 */
import { nodeBody } from './body.node.ts';
import { type PutObjectOptions, type PutObjectResult, putObject as putAnyBody } from './objects.ts';

/**
 * Uploads an object as a stream; see the shared `putObject` (objects.ts). In Node, `body` may
 * also be the path of a file, streamed from disk.
 * @example
 * await putObject({ client, bucket: 'backups', key: 'db.tar', body: '/var/backups/db.tar',
 *   encryption: { sseC: { key: process.env.SSE_C_KEY! } } });
 */
export async function putObject(options: PutObjectOptions): Promise<PutObjectResult> {
  const body = options?.body;
  return putAnyBody(typeof body === 'string' ? { ...options, body: await nodeBody(body) } : options);
}
