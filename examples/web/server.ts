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
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { allowBrowserAccess } from '@sealstream/sos/presign';
import { build } from 'esbuild';
import { browserBuildOptions } from '../../scripts/browser-bundle.ts';
import { spkiPin } from '../../scripts/spki-pin.ts';
import { clientFromEnv, endpointFromEnv } from '../lib/store.ts';
import { presignApi, send } from './api.ts';

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
  let allowed: Set<string> | undefined; // the Host headers of this server, known once it listens
  const server = createServer((req, res) => {
    // a failed request stream (the client hung up) must not end the server: it is only that request's
    req.on('error', () => {});
    serve(req, res).catch((err) => {
      if (!res.headersSent) refuse(res, 500, 'SERVER_FAULT', (err as Error)?.message ?? String(err));
      else res.destroy();
    });
  });
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page of another site that got a name of its own to resolve to 127.0.0.1 sends
    // that name as Host; only this server's own names are served
    if (!allowed?.has(req.headers.host ?? '')) {
      refuse(res, 421, 'WRONG_HOST', `this server answers only to ${[...(allowed ?? [])].join(' and ')}`);
      return;
    }
    // the page of another site: browsers send its origin with every cross-site POST
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.has(origin.replace(/^http:\/\//, ''))) {
      refuse(res, 403, 'FOREIGN_ORIGIN', `requests from ${origin} are not served`);
      return;
    }
    const body = await readBody(req, MAX_BODY);
    if (body === undefined) {
      // the rest of the body is not read: the connection closes after this answer (and a client
      // must not send its next request on it)
      res.setHeader('connection', 'close');
      refuse(res, 413, 'BODY_TOO_LARGE', `the API takes request bodies of at most ${MAX_BODY} bytes`);
      return;
    }
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
  }
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  allowed = new Set([`${options.host ?? '127.0.0.1'}:${port}`, `localhost:${port}`]);
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

/** The largest request body the API takes: its calls carry a key name and a part list. */
const MAX_BODY = 64 * 1024;

/** The request's body, or undefined once it passes `limit` bytes (the rest is not read). */
async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return undefined;
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of req) {
    length += (chunk as Buffer).length;
    if (length > limit) return undefined;
    parts.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(parts));
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { error: { code, message } });
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
