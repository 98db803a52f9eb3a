/**
 * The two functions of @noble/ciphers' AES that the noble backend uses, in a module of their own so
 * that `noble.ts` can load them with `import()`: a bundler keeps every export of a module reached by
 * a dynamic import, and a static import here lets it drop the modes nothing calls (~10 KiB minified).
 * @module
 */
export { aeskw, gcm } from '@noble/ciphers/aes.js';
