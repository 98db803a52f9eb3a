/**
 * The `encryption` option shared by put/get/head: which layers apply to an object.
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { ClientSideOptions } from './client-side.ts';
import { SosError } from './errors.ts';
import { parseSseCKeyMap, type SseCKeyMap } from './key-map.ts';
import { refuseUnknownOptions } from './known-options.ts';
import { forgetSseCRequests, type SseCParams, sseCParams } from './sse-c.ts';

/** SSE-C: one key, or a key map by path prefix (see `parseSseCKeyMap`). */
export type SseCOptions =
  | {
      /** 32 bytes, or text in any form the core's `parseKey()` accepts. */
      key: Uint8Array | string;
    }
  | {
      /** A parsed map, or its text form `alias/bucket/prefix=KEY,...`. */
      keyMap: SseCKeyMap | string;
      /** The alias that names this endpoint in the map's paths. */
      alias: string;
    };

/**
 * Which encryption applies. `'none'` must be spelled out, so an object is never stored in
 * plaintext by omission. `clientSide` seals the data before it leaves the process (the server
 * sees only ciphertext); `sseC` hands encryption to the server with a key sent on every request;
 * both together apply both layers.
 */
export type Encryption =
  | 'none'
  | { clientSide: ClientSideOptions; sseC?: SseCOptions }
  | { clientSide?: ClientSideOptions; sseC: SseCOptions };

/** Encryption resolved for one object. */
export interface ResolvedEncryption {
  sseC: SseCParams | undefined;
  clientSide: ClientSideOptions | undefined;
}

/**
 * Resolves the `encryption` option for `bucket/key`.
 * @throws {SosError} `INVALID_ARGUMENT` (also for a property it does not know, at any level),
 *   `INVALID_KEY_MAP`, `SSE_C_NO_KEY_FOR_PATH`; `INSECURE_ENDPOINT`
 *   for SSE-C over plain http (a key sent in clear must be considered compromised).
 *   With SSE-C, `client` learns to keep the key out of its errors (`forgetSseCRequests`).
 */
export async function resolveEncryption(
  client: S3Client,
  encryption: Encryption,
  bucket: string,
  key: string,
): Promise<ResolvedEncryption> {
  if (encryption === 'none') return { sseC: undefined, clientSide: undefined };
  if (
    typeof encryption !== 'object' ||
    encryption === null ||
    (encryption.sseC === undefined && encryption.clientSide === undefined)
  ) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"encryption" expected 'none', { clientSide: { keys } } and/or { sseC: { key } }, got ${describeEncryption(encryption)}`,
    );
  }
  // a misspelt layer or setting (`ssec`, `identty`) must not leave it silently unapplied
  refuseUnknownOptions(encryption, ['clientSide', 'sseC'], 'encryption');
  const clientSide = encryption.clientSide;
  if (
    clientSide !== undefined &&
    (typeof clientSide !== 'object' || clientSide === null || clientSide.keys === undefined)
  ) {
    throw new SosError('INVALID_ARGUMENT', '"encryption.clientSide" expected { keys, identity? }');
  }
  if (clientSide !== undefined) {
    refuseUnknownOptions(clientSide, ['keys', 'identity', 'maxWorkFactor'], 'encryption.clientSide');
  }
  const sseC = encryption.sseC;
  if (sseC === undefined) return { sseC: undefined, clientSide };
  if (typeof sseC !== 'object' || sseC === null) {
    throw new SosError('INVALID_ARGUMENT', '"encryption.sseC" expected { key } or { keyMap, alias }');
  }
  let params: SseCParams;
  if ('key' in sseC) {
    refuseUnknownOptions(sseC, ['key'], 'encryption.sseC');
    params = sseCParams(sseC.key);
  } else if ('keyMap' in sseC) {
    refuseUnknownOptions(sseC, ['keyMap', 'alias'], 'encryption.sseC');
    const map = typeof sseC.keyMap === 'string' ? parseSseCKeyMap(sseC.keyMap) : sseC.keyMap;
    if (typeof sseC.alias !== 'string' || sseC.alias === '') {
      throw new SosError(
        'INVALID_ARGUMENT',
        '"encryption.sseC.alias" expected the alias the key map uses for this endpoint',
      );
    }
    const found = map.keyFor(sseC.alias, bucket, key);
    if (found === undefined) {
      throw new SosError(
        'SSE_C_NO_KEY_FOR_PATH',
        `no SSE-C key in the key map covers ${sseC.alias}/${bucket}/${key}`,
      );
    }
    params = sseCParams(found);
  } else {
    throw new SosError('INVALID_ARGUMENT', '"encryption.sseC" expected { key } or { keyMap, alias }');
  }
  await requireHttps(client);
  // the key then travels with requests whose failures the caller may log
  forgetSseCRequests(client);
  return { sseC: params, clientSide };
}

/**
 * What an unusable `encryption` option is, for a message: its property names, or its type. Text is
 * never repeated: a key given as the option itself (`encryption: process.env.KEY`) is text.
 */
function describeEncryption(encryption: unknown): string {
  if (encryption === null) return 'null';
  if (typeof encryption === 'string')
    return `a string of ${encryption.length} characters (the one string accepted is 'none')`;
  if (typeof encryption !== 'object') return typeof encryption;
  if (encryption instanceof Uint8Array)
    return `${encryption.length} bytes (a key goes in { clientSide: { keys } } or { sseC: { key } })`;
  return `{ ${Object.keys(encryption).join(', ')} }`;
}

/** Refuses SSE-C unless the client talks https (servers refuse it too; the key would travel in clear). */
async function requireHttps(client: S3Client): Promise<void> {
  const endpoint = await client.config.endpoint?.();
  if (endpoint && endpoint.protocol !== 'https:') {
    throw new SosError(
      'INSECURE_ENDPOINT',
      `SSE-C needs https: the key would be sent in clear to ${endpoint.protocol}//${endpoint.hostname}`,
    );
  }
}
