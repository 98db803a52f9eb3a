/** Node-side helpers of the browser tests. */
import { createHash } from 'node:crypto';

/** SHA-256 of bytes, lowercase hex. */
export const sha256hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
