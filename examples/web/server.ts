/**
 * The web example's server: serves the page and presigns for it (examples/web/api.ts). It holds
 * the store credentials; the page seals, uploads and decrypts by itself, so this server never sees
 * a file, a key or a passphrase.
 *
 * Run against the local RGW with `pnpm web` (README), or against any store:
 *   AWS_ENDPOINT_URL_S3=https://sos-ch-gva-2.exo.io AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
 *   SEALSTREAM_WEB_BUCKET=my-bucket node --conditions=sealstream-src --import tsx examples/web/server.ts
 * @module
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { allowBrowserAccess } from '@sealstream/sos/presign';
import { build } from 'esbuild';
import { browserBuildOptions } from '../../scripts/browser-bundle.ts';
import { spkiPin } from '../../scripts/spki-pin.ts';
import { clientFromEnv, endpointFromEnv } from '../lib/store.ts';
import { presignApi } from './api.ts';

const page = new URL('./page/', import.meta.url);

/** Options of {@link startWebServer}. */
export interface WebServerOptions {
  client: S3Client;
  bucket: string;
  /** The store's origin, which the page's CSP lets it connect to. */
  storeOrigin: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

/** A running web example. */
export interface WebServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Bundles the page, makes sure the bucket exists and lets this server's origin reach it (CORS),
 * then serves.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const script = await bundlePage();
  const api = presignApi(options.client, options.bucket);
  const files: Record<string, [string, string]> = {
    '/': ['text/html; charset=utf-8', readFileSync(new URL('index.html', page), 'utf8')],
    '/style.css': ['text/css; charset=utf-8', readFileSync(new URL('style.css', page), 'utf8')],
    '/app.js': ['text/javascript; charset=utf-8', script],
  };
  const csp = `default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ${options.storeOrigin}`;
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (await api(req, res, body)) return;
    const file = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (req.method !== 'GET' || !file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': file[0],
      'content-security-policy': csp,
      'cache-control': 'no-store',
    });
    res.end(file[1]);
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  await ensureBucket(options.client, options.bucket);
  await allowBrowserAccess(options.client, options.bucket, [url, `http://localhost:${port}`]);
  return {
    url,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function bundlePage(): Promise<string> {
  const out = await build(browserBuildOptions(new URL('main.ts', page).pathname, true));
  return out.outputFiles[0]!.text;
}

async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(parts));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const endpoint = endpointFromEnv();
  const web = await startWebServer({
    client: clientFromEnv(),
    bucket: process.env.SEALSTREAM_WEB_BUCKET || 'sealstream-web',
    storeOrigin: new URL(endpoint ?? 'https://invalid').origin,
    port: Number(process.env.PORT || 8080),
  });
  console.log(
    `sealstream web example: ${web.url} (bucket ${process.env.SEALSTREAM_WEB_BUCKET || 'sealstream-web'} at ${endpoint})`,
  );
  if (process.env.AWS_CA_BUNDLE) {
    console.log(
      `The store's certificate is self-signed: open the page in a browser that trusts it, e.g.\n  chromium --ignore-certificate-errors-spki-list=${spkiPin(process.env.AWS_CA_BUNDLE)} ${web.url}`,
    );
  }
  process.on('SIGINT', () => void web.close().then(() => process.exit(0)));
}
