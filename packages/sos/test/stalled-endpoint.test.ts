/**
 * A dead or stalled endpoint, on real sockets on 127.0.0.1: a TCP listener that accepts and never
 * answers the TLS handshake, and a TLS server that completes the handshake and never answers the
 * request. What must hold: the call fails with `TIMEOUT` naming the endpoint and the bound that
 * elapsed (never a key), after exactly `maxAttempts` connections, each of them closed by the
 * client; a caller's abort stays `ABORTED`; a cleanup's own deadline is `TIMEOUT`. Then the real
 * store through the fault proxy, black-holed before the first request and mid-part: the same
 * codes, and no multipart upload left once the client has cleaned up.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSosClient,
  isSosError,
  putObject,
  type SosTimeouts,
  UploadNotAbortedError,
} from '../src/index.ts';
import { cleanupSendOptions, mapTransportError } from '../src/timeouts.ts';
import { openUploads, useTestBucket } from './helpers.ts';
import { FAST, throughProxy } from './support/through-proxy.ts';

const MiB = 1024 * 1024;
const ATTEMPTS = 3;
const SECRET = 'stalled-endpoint-test-secret';

/** A server on 127.0.0.1 that records its connections and when each closed. */
interface Listener {
  origin: string;
  sockets: Socket[];
  /** Bytes each connection received (the request, when the handshake completed). */
  received: number[];
  open(): number;
  close(): Promise<void>;
}

async function listen(server: Server, secure: boolean): Promise<Listener> {
  const sockets: Socket[] = [];
  const received: number[] = [];
  let open = 0;
  server.on(secure ? 'secureConnection' : 'connection', (socket: Socket) => {
    const index = sockets.push(socket) - 1;
    received[index] = 0;
    open++;
    socket.on('data', (chunk: Buffer) => (received[index]! += chunk.byteLength));
    socket.on('error', () => {});
    socket.on('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `https://127.0.0.1:${port}`,
    sockets,
    received,
    open: () => open,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Accepts TCP connections and never says a word: the TLS handshake never completes. */
const silentTcp = () => listen(createTcpServer(), false);

let tls: { dir: string; cert: string; key: string };
beforeAll(() => {
  // a certificate of our own for 127.0.0.1 (openssl is needed by the S3 test server anyway)
  const dir = mkdtempSync(join(tmpdir(), 'sealstream-stalled-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  tls = {
    dir,
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
  };
});
afterAll(() => rmSync(tls.dir, { recursive: true, force: true }));

/** Completes the TLS handshake, reads the request, never answers. */
const silentTls = () => listen(createTlsServer({ cert: tls.cert, key: tls.key }), true);

function clientOf(listener: Listener, timeouts: Partial<SosTimeouts>): S3Client {
  return createSosClient({
    endpoint: listener.origin,
    region: 'us-east-1',
    credentials: { accessKeyId: 'STALLEDTESTKEY', secretAccessKey: SECRET },
    ca: tls.cert,
    timeouts,
    clientConfig: { maxAttempts: ATTEMPTS },
  });
}

/** Waits until the client has closed every connection (the server sees each close). */
async function allClosed(listener: Listener): Promise<number> {
  for (let i = 0; i < 100 && listener.open() > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return listener.open();
}

async function failure(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err,
  );
}

// connect bound short, idle and request bounds long: only the connect bound can end these calls
const CONNECT_ONLY: Partial<SosTimeouts> = {
  connectMs: 300,
  idleMs: 60_000,
  requestMs: 60_000,
  cleanupMs: 60_000,
};

describe('a TCP listener that never answers the TLS handshake', () => {
  it.each([
    ['a single PutObject', 1000],
    ['a multipart upload', 6 * MiB],
  ])('%s: TIMEOUT (connect) after maxAttempts connections, each closed', async (_what, size) => {
    const listener = await silentTcp();
    const client = clientOf(listener, CONNECT_ONLY);
    try {
      const sseKey = generateKey();
      const err = await failure(
        putObject({
          client,
          bucket: 'stalled',
          key: 'object',
          body: new Uint8Array(size),
          encryption: { sseC: { key: sseKey } },
          partSize: 5 * MiB,
        }),
      );
      expect(isSosError(err, 'TIMEOUT'), String(err)).toBe(true);
      const message = (err as Error).message;
      expect(message).toContain(listener.origin);
      expect(message).toContain('connect timeout');
      expect(message).toContain('timeouts.connectMs');
      expect(message).toContain(`${ATTEMPTS} attempts`);
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain(Buffer.from(sseKey).toString('base64'));
      // one connection per attempt; a Create that never reached the store leaves no upload to
      // look for, so no listing is attempted after it
      expect(listener.sockets.length).toBe(ATTEMPTS);
      expect(listener.received.every((n) => n > 0)).toBe(true); // the ClientHello, nothing more
      expect(await allClosed(listener)).toBe(0);
    } finally {
      client.destroy();
      await listener.close();
    }
  });

  it("a caller's abort stays ABORTED, even through AbortSignal.timeout()", async () => {
    const listener = await silentTcp();
    // connect bound long: only the caller's signal ends it
    const client = clientOf(listener, { connectMs: 60_000 });
    try {
      for (const signal of [AbortSignal.timeout(200), abortSoon()]) {
        const err = await failure(
          putObject({
            client,
            bucket: 'stalled',
            key: 'object',
            body: new Uint8Array(10),
            encryption: 'none',
            signal,
          }),
        );
        expect(isSosError(err, 'ABORTED'), String(err)).toBe(true);
      }
      expect(await allClosed(listener)).toBe(0);
    } finally {
      client.destroy();
      await listener.close();
    }
  });

  it("a cleanup request's own deadline is TIMEOUT naming the cleanup bound (was an unmapped AbortError)", async () => {
    const listener = await silentTcp();
    const client = clientOf(listener, { connectMs: 60_000, cleanupMs: 300 });
    try {
      const raw = await failure(
        client.send(new ListMultipartUploadsCommand({ Bucket: 'stalled' }), cleanupSendOptions(client)),
      );
      expect((raw as Error).name).toBe('AbortError');
      const err = mapTransportError(raw, 'list uploads');
      expect(isSosError(err, 'TIMEOUT'), String(err)).toBe(true);
      expect((err as Error).message).toContain('cleanup timeout');
      expect((err as Error).message).toContain('300 ms');
      expect(await allClosed(listener)).toBe(0);
    } finally {
      client.destroy();
      await listener.close();
    }
  });
});

describe('a TLS server that never answers the request', () => {
  it.each([
    ['idle', 'idleMs', { idleMs: 400, requestMs: 60_000 }],
    ['request', 'requestMs', { idleMs: 60_000, requestMs: 400 }],
  ] as const)(
    'the %s bound the shorter: TIMEOUT naming it after maxAttempts requests, each sent whole and its connection closed',
    async (kind, option, bounds) => {
      const listener = await silentTls();
      const client = clientOf(listener, { connectMs: 5000, cleanupMs: 60_000, ...bounds });
      try {
        const err = await failure(
          putObject({
            client,
            bucket: 'stalled',
            key: 'object',
            body: new Uint8Array(1000),
            encryption: 'none',
          }),
        );
        expect(isSosError(err, 'TIMEOUT'), String(err)).toBe(true);
        const message = (err as Error).message;
        expect(message).toContain(listener.origin);
        expect(message).toContain(`${kind} timeout`);
        expect(message).toContain(`timeouts.${option}`);
        expect(message).toContain(`${ATTEMPTS} attempts`);
        expect(listener.sockets.length).toBe(ATTEMPTS);
        // the request and its body reached the server each time
        expect(listener.received.every((n) => n > 1000)).toBe(true);
        expect(await allClosed(listener)).toBe(0);
      } finally {
        client.destroy();
        await listener.close();
      }
    },
  );
});

describe('the real store through the fault proxy, black-holed', () => {
  let direct: S3Client;
  let bucket: string;
  useTestBucket((c, b) => {
    direct = c;
    bucket = b;
  });

  it('from the start: TIMEOUT (connect) after maxAttempts connections, no lost-upload listing, nothing stored', async () => {
    await throughProxy(
      [],
      async (proxy, client) => {
        proxy.outage('stall');
        const err = await failure(
          putObject({
            client,
            bucket,
            key: 'black-hole',
            body: new Uint8Array(6 * MiB),
            encryption: 'none',
            partSize: 5 * MiB,
          }),
        );
        expect(isSosError(err, 'TIMEOUT'), String(err)).toBe(true);
        expect((err as Error).message).toContain(proxy.endpoint);
        expect((err as Error).message).toContain('connect timeout');
        // FAST's client makes 2 attempts; nothing else is sent to a store that was never reached
        expect(proxy.connections).toBe(2);
        expect(await openUploads(direct, bucket)).toBe(0);
      },
      { connectMs: 300 },
    );
  });

  it('mid-part: the failure and the failed abort are both TIMEOUT; aborted later by its ID, nothing is left', async () => {
    const key = 'black-hole-mid-part';
    await throughProxy(
      [{ direction: 'up', at: 2 * MiB, connection: 'total', action: { kind: 'outage', mode: 'stall' } }],
      async (proxy, client) => {
        const err = await failure(
          putObject({
            client,
            bucket,
            key,
            body: new Uint8Array(6 * MiB),
            encryption: 'none',
            partSize: 5 * MiB,
          }),
        );
        expect(err, String(err)).toBeInstanceOf(UploadNotAbortedError);
        const notAborted = err as UploadNotAbortedError;
        expect(isSosError(notAborted.cause, 'TIMEOUT'), String(notAborted.cause)).toBe(true);
        // the part's first attempt sat idle; its retry found the black hole connecting
        expect((notAborted.cause as Error).message).toContain(proxy.endpoint);
        expect((notAborted.cause as Error).message).toMatch(/(idle|connect) timeout/);
        expect(isSosError(notAborted.abortError, 'TIMEOUT'), String(notAborted.abortError)).toBe(true);
        expect(await openUploads(direct, bucket)).toBe(1);
        proxy.outage(false);
        await direct.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: notAborted.uploadId }),
        );
        expect(await openUploads(direct, bucket)).toBe(0);
      },
      { connectMs: 300, idleMs: 500, cleanupMs: FAST.cleanupMs },
    );
  });
});

function abortSoon(): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('the user gave up')), 200);
  return controller.signal;
}
