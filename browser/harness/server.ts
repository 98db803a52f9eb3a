/**
 * A loopback HTTP server for browser tests: serves a page and its bundle under a strict CSP, and a
 * blob store that honors single `Range` requests, so the page can read sealed objects at random
 * and send back what it sealed.
 * @module
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>`: loopback, so a secure context. */
  origin: string;
  /** Blobs by name: put here to serve them, read here what the page uploaded. */
  blobs: Map<string, Uint8Array>;
  /** Requests seen, as `METHOD path range`, for tests that check how the page read. */
  log: string[];
  close(): Promise<void>;
}

/** Options of {@link startTestServer}. */
export interface TestServerOptions {
  /** The bundled page script, served as /app.js and loaded by /. */
  script: string;
  /** Extra routes, tried first; return true when handled. */
  route?: (req: IncomingMessage, res: ServerResponse, body: Uint8Array) => boolean | Promise<boolean>;
  /** Origins besides its own that the page may fetch from (CSP connect-src), e.g. the store. */
  connect?: string[];
  /**
   * More scripts by path, e.g. `/seal-worker.js`: core's sealing Worker, which the page's bundle
   * starts from beside itself (`new URL('./seal-worker.js', import.meta.url)`).
   */
  scripts?: Record<string, string>;
  /** More CSP directives, e.g. `worker-src 'none'` for a page that may not start Workers. */
  csp?: string;
}

/** Starts the server on an ephemeral loopback port. */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const blobs = new Map<string, Uint8Array>();
  const log: string[] = [];
  const server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://x');
      log.push(`${req.method} ${url.pathname} ${req.headers.range ?? ''}`.trim());
      if (options.route && (await options.route(req, res, body))) return;
      if (url.pathname === '/') {
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          // a strict CSP: no inline script, no eval, nothing but this origin
          'content-security-policy': `default-src 'self'; script-src 'self'; connect-src 'self' ${(options.connect ?? []).join(' ')}${options.csp ? `; ${options.csp}` : ''}`,
        });
        res.end(
          '<!doctype html><meta charset="utf-8"><title>test</title><script type="module" src="/app.js"></script>',
        );
        return;
      }
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      const script = url.pathname === '/app.js' ? options.script : options.scripts?.[url.pathname];
      if (script !== undefined) {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
        res.end(script);
        return;
      }
      const name = url.pathname.startsWith('/blob/') ? decodeURIComponent(url.pathname.slice(6)) : undefined;
      if (name !== undefined && (req.method === 'PUT' || req.method === 'POST')) {
        blobs.set(name, body);
        res.writeHead(204).end();
        return;
      }
      if (name !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
        serveBlob(req, res, blobs.get(name));
        return;
      }
      res.writeHead(404).end();
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    blobs,
    log,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function serveBlob(req: IncomingMessage, res: ServerResponse, blob: Uint8Array | undefined): void {
  if (!blob) {
    res.writeHead(404).end();
    return;
  }
  const etag = `"${createHash('md5').update(blob).digest('hex')}"`;
  if (req.headers['if-match'] && req.headers['if-match'] !== etag) {
    res.writeHead(412).end();
    return;
  }
  const headers = { etag, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (!m) {
    res.writeHead(200, { ...headers, 'content-length': blob.length });
    res.end(req.method === 'HEAD' ? undefined : blob);
    return;
  }
  const start = Number(m[1]);
  const last = m[2] ? Math.min(Number(m[2]), blob.length - 1) : blob.length - 1;
  if (start >= blob.length) {
    res.writeHead(416, { 'content-range': `bytes */${blob.length}` }).end();
    return;
  }
  res.writeHead(206, {
    ...headers,
    'content-length': last - start + 1,
    'content-range': `bytes ${start}-${last}/${blob.length}`,
  });
  res.end(req.method === 'HEAD' ? undefined : blob.subarray(start, last + 1));
}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(parts));
}
