import { readFileSync } from 'node:fs';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { describe, expect, inject, it } from 'vitest';
import { createSosClient, isLoopback, putObject, SOS_ZONES, SosError, sosEndpoint } from '../src/index.ts';
import { testClient } from './helpers.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SosError);
    return (err as SosError).code;
  }
  return undefined;
}

describe('zones', () => {
  it('maps every SOS zone to its endpoint', async () => {
    for (const zone of SOS_ZONES) {
      expect(sosEndpoint(zone)).toBe(`https://sos-${zone}.exo.io`);
      const client = createSosClient({ zone, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      const endpoint = await client.config.endpoint!();
      expect(endpoint.hostname).toBe(`sos-${zone}.exo.io`);
      expect(await client.config.region()).toBe(zone);
      expect(client.config.forcePathStyle).toBe(false);
    }
  });
  it('rejects an unknown zone, and zone together with endpoint', () => {
    expect(codeOf(() => createSosClient({ zone: 'ch-gva-3' }))).toBe('UNKNOWN_ZONE');
    expect(codeOf(() => createSosClient({ zone: 'ch-gva-2', endpoint: 'https://x' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => createSosClient({}))).toBe('INVALID_ARGUMENT');
  });
});

describe('plain http is refused', () => {
  it('without allowInsecureHttp, even on loopback', () => {
    expect(codeOf(() => createSosClient({ endpoint: 'http://127.0.0.1:8080' }))).toBe('INSECURE_ENDPOINT');
    expect(codeOf(() => createSosClient({ endpoint: 'http://sos-ch-gva-2.exo.io' }))).toBe(
      'INSECURE_ENDPOINT',
    );
  });
  it('with allowInsecureHttp, on any host that is not loopback', () => {
    for (const host of ['10.0.0.1', 'example.com', '128.0.0.1', '[::2]']) {
      expect(
        codeOf(() => createSosClient({ endpoint: `http://${host}:8080`, allowInsecureHttp: true })),
        host,
      ).toBe('INSECURE_ENDPOINT');
    }
  });
  it('is allowed on loopback with allowInsecureHttp, but SSE-C over it is still refused before any request', async () => {
    const client = createSosClient({
      endpoint: 'http://127.0.0.1:1',
      allowInsecureHttp: true,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    const err = await putObject({
      client,
      bucket: 'b',
      key: 'k',
      body: new Uint8Array(1),
      encryption: { sseC: { key: generateKey() } },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(SosError);
    expect(err.code).toBe('INSECURE_ENDPOINT');
  });
  it('knows loopback hosts', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', 'a.localhost'])
      expect(isLoopback(h), h).toBe(true);
    for (const h of ['10.0.0.1', 'localhost.example.com', '::2', 'exo.io'])
      expect(isLoopback(h), h).toBe(false);
  });
  it('rejects endpoints that are not http(s) URLs', () => {
    expect(codeOf(() => createSosClient({ endpoint: 'ftp://127.0.0.1' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => createSosClient({ endpoint: '127.0.0.1:8443' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => createSosClient({ endpoint: 'https://user:pw@127.0.0.1' }))).toBe('INVALID_ARGUMENT');
  });
});

describe('timeouts', () => {
  it('a misspelt or unknown bound is refused, not silently left at its default', () => {
    for (const timeouts of [{ connectTimeout: 5000 }, { request: 1000 }, { idle: 5 }, { requestMS: 1000 }]) {
      expect(codeOf(() => testClient({ timeouts: timeouts as never }))).toBe('INVALID_ARGUMENT');
    }
    expect(codeOf(() => testClient({ timeouts: { requestMs: 1000, cleanupMs: undefined } }))).toBeUndefined();
  });
});

describe('TLS against the test server', () => {
  it('verifies the certificate: works with the CA as file, PEM text and bytes', async () => {
    const pem = readFileSync(inject('s3').caFile);
    for (const ca of [inject('s3').caFile, pem.toString('utf8'), new Uint8Array(pem)]) {
      const out = await testClient({ ca }).send(new ListBucketsCommand({}));
      expect(out.$metadata.httpStatusCode).toBe(200);
    }
  });
  it('fails without the CA (no insecure fallback)', async () => {
    const err = await testClient({ ca: [] })
      .send(new ListBucketsCommand({}))
      .catch((e) => e);
    expect(String(err.code ?? err.message)).toMatch(/SELF_SIGNED|self.signed|certificate/i);
  });
  it('path style for an IP endpoint', () => {
    expect(testClient().config.forcePathStyle).toBe(true);
  });
  it('rejects a CA file without a certificate', () => {
    expect(codeOf(() => testClient({ ca: '/etc/hostname' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => testClient({ ca: '/nonexistent.pem' }))).toBe('INVALID_ARGUMENT');
  });
});
