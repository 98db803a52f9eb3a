/**
 * `@sealstream/sos` in browsers and workers (the package's `browser` condition): the same
 * transport over the AWS SDK's `fetch` client, with credentials given by the caller, bodies as
 * bytes, `Blob`s/`File`s or streams, and parts buffered in bounded memory (a browser streams a
 * request body only over HTTP/2). No Node built-in, no `Buffer`, no `process`.
 * @module
 */
export { createSosClient, type SosClientOptions } from './client.browser.ts';
export { putObject } from './objects.ts';
export * from './shared.ts';
