/**
 * Resumable uploads of files (Node): journal, checks, and only the missing parts.
 * @module
 */
import { SosError } from '../errors.ts';
import type { PutObjectOptions, PutObjectResult } from '../objects.ts';

/** `putObject` with `resume`. */
export async function putResumable(_options: PutObjectOptions): Promise<PutObjectResult> {
  throw new SosError('NOT_RESUMABLE', 'resumable uploads are being implemented');
}
