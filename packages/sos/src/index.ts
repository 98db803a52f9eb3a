/**
 * `@sealstream/sos`: move objects to and from Exoscale SOS and S3-compatible stores over TLS,
 * streaming, with SSE-C (server-side encryption with customer keys). The Node entry: clients with
 * extra CA certificates and the AWS default credential chain, and files uploaded by path.
 * @module
 */
export { type CaCertificate, createSosClient, type SosClientOptions } from './client.ts';
export { UploadResumableError } from './errors.ts';
export { putObject } from './objects.node.ts';
export type { ResumedUpload, ResumeInfo, ResumeOptions } from './resume/options.ts';
export * from './shared.ts';
