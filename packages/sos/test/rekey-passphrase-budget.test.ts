/**
 * `rekeyObject` with `keepExisting` and a new passphrase, once too often: the new header would ask
 * more scrypt work of a reader than `maxWorkFactor` allows (SPEC §5.2), so `getObject` with the
 * same limit would refuse every passphrase of it. Refused before anything is written, against the
 * local S3 server, client-side alone and under SSE-C.
 */
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { generateKey, inspectHeader, PassphraseRecipient } from '@sealstream/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Encryption, getObject, putObject, rekeyObject } from '../src/index.ts';
import { codeOf, collect, freshBucket, testClient } from './helpers.ts';

let client: S3Client;
let bucket: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  client = testClient();
  ({ bucket, cleanup } = await freshBucket(client));
});
afterAll(() => cleanup?.());

// logN 12 keeps scrypt quick; with maxWorkFactor 12 the budget is 2^13: two stanzas, not three
const passphrase = (text: string) => new PassphraseRecipient(text, 12);
const LIMIT = 12;

describe('rekeyObject keepExisting past the scrypt work budget', { timeout: 120_000 }, () => {
  for (const sseC of [undefined, generateKey()]) {
    it(`is refused with INVALID_ARGUMENT, the object unchanged${sseC ? ' (under SSE-C)' : ''}`, async () => {
      const key = `budget/${sseC ? 'ssec' : 'plain'}`;
      const body = new Uint8Array(randomBytes(1000));
      const layers = (keys: PassphraseRecipient[]): Encryption => ({
        clientSide: { keys, maxWorkFactor: LIMIT },
        ...(sseC ? { sseC: { key: sseC } } : {}),
      });
      await putObject({ client, bucket, key, body, encryption: layers([passphrase('one')]) });
      const add = (text: string) =>
        rekeyObject({
          client,
          bucket,
          key,
          encryption: layers([passphrase('one')]),
          newEncryption: layers([passphrase(text)]),
          keepExisting: true,
        });
      await add('two');
      const refused = await codeOf(add('three'));
      expect(refused).toBe('INVALID_ARGUMENT');
      const got = await getObject({ client, bucket, key, encryption: layers([passphrase('one')]) });
      expect(got.header?.keyIds).toEqual([]);
      expect(Buffer.from(await collect(got.body)).equals(Buffer.from(body))).toBe(true);
      // the header still holds two passphrase stanzas
      const raw = await getObject({
        client,
        bucket,
        key,
        encryption: sseC ? { sseC: { key: sseC } } : 'none',
      });
      const stanzas = inspectHeader(await collect(raw.body)).recipients;
      expect(stanzas.filter((s) => s.type === 'passphrase')).toHaveLength(2);
    });
  }
});
