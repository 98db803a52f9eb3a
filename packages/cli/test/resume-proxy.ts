/**
 * A TLS-terminating S3 proxy for the resume tests: it stands between the CLI and the test RGW with
 * the server's own certificate (the CLI still verifies it against the test CA), sees each S3
 * request (CreateMultipartUpload, UploadPart n, ListParts, Complete, Abort), forwards it byte for
 * byte, and can stop one at an exact point: before its first body byte, after N body bytes, or
 * after the server answered but before the answer reaches the CLI. So a test kills the CLI at a
 * known state of the store, not at a moment of a race. Every byte forwarded is counted per
 * request and per run, which gives the bytes a resumed run sent again.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';

/** What an S3 request is, from its method and query. */
export type RequestKind = 'create' | 'part' | 'list' | 'complete' | 'abort' | 'other';

/** One request as the proxy saw it. */
export interface Exchange {
  kind: RequestKind;
  /** UploadPart: its part number. */
  part: number | undefined;
  /** The run (see {@link S3Proxy.nextRun}) that sent it. */
  run: number;
  /** Content-Length of the request body. */
  length: number;
  /** The request reached the server (its headers at least). */
  begun: boolean;
  /** Body bytes forwarded to the server. */
  forwarded: number;
  /** The server's status, once it answered. */
  status: number | undefined;
  /** The answer reached the client. */
  relayed: boolean;
}

/** What the proxy does with a request. */
export type Gate =
  | { kind: 'pass' }
  /** Forward nothing (not even the headers): the server never hears of it. */
  | { kind: 'hold' }
  /** Forward the headers and the first `after` body bytes, then nothing more. */
  | { kind: 'cut'; after: number }
  /** Forward it whole; keep the server's answer from the client. */
  | { kind: 'holdAnswer' };

/** A running proxy. */
export interface S3Proxy {
  readonly endpoint: string;
  readonly exchanges: readonly Exchange[];
  /** Sets the rule for requests from now on (default: pass everything). */
  gate(rule: (x: Exchange) => Gate): void;
  /** Starts counting a new run; returns its number. */
  nextRun(): number;
  /** Resolves once `condition` holds (checked every 25 ms). */
  until(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Drops every request held or in flight (the server sees each connection reset). */
  dropAll(): void;
  close(): Promise<void>;
}

/** Parses the S3 operation out of a request line. */
function classify(method: string, url: string): { kind: RequestKind; part: number | undefined } {
  const query = new URL(url, 'https://x').searchParams;
  const upload = query.has('uploadId');
  if (method === 'POST' && query.has('uploads')) return { kind: 'create', part: undefined };
  if (method === 'PUT' && upload && query.has('partNumber'))
    return { kind: 'part', part: Number(query.get('partNumber')) };
  if (method === 'GET' && upload) return { kind: 'list', part: undefined };
  if (method === 'POST' && upload) return { kind: 'complete', part: undefined };
  if (method === 'DELETE' && upload) return { kind: 'abort', part: undefined };
  return { kind: 'other', part: undefined };
}

/**
 * Starts a proxy in front of the test server `target` (`https://127.0.0.1:8443`), serving TLS
 * with the certificate and key next to `caFile` (the test server's self-signed certificate).
 */
export async function startS3Proxy(target: string, caFile: string): Promise<S3Proxy> {
  const dir = dirname(caFile);
  const ca = readFileSync(caFile);
  const upstream = new URL(target);
  const agent = new Agent({ ca, keepAlive: true, maxSockets: 32 });
  const exchanges: Exchange[] = [];
  const live = new Set<{ destroy(): void }>();
  const sockets = new Set<Socket>();
  let rule: (x: Exchange) => Gate = () => ({ kind: 'pass' });
  let run = 0;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const { kind, part } = classify(req.method ?? 'GET', req.url ?? '/');
    const x: Exchange = {
      kind,
      part,
      run,
      length: Number(req.headers['content-length'] ?? 0),
      begun: false,
      forwarded: 0,
      status: undefined,
      relayed: false,
    };
    exchanges.push(x);
    const gate = rule(x);
    live.add(req);
    live.add(res);
    if (gate.kind === 'hold') {
      req.pause();
      return;
    }
    const headers = { ...req.headers };
    // hop-by-hop, and not signed: this proxy answers 100-continue itself
    delete headers.expect;
    delete headers.connection;
    const up = httpsRequest({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers,
      agent,
    });
    live.add(up);
    x.begun = true;
    up.flushHeaders();
    up.on('error', () => res.destroy());
    up.on('response', (answer) => {
      live.add(answer);
      x.status = answer.statusCode;
      if (gate.kind === 'holdAnswer') {
        answer.resume();
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      res.on('finish', () => {
        x.relayed = true;
      });
    });
    const limit = gate.kind === 'cut' ? gate.after : Number.POSITIVE_INFINITY;
    req.on('data', (chunk: Buffer) => {
      const room = limit - x.forwarded;
      if (room <= 0) return;
      const slice = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
      x.forwarded += slice.byteLength;
      if (!up.write(slice)) {
        req.pause();
        up.once('drain', () => req.resume());
      }
      if (x.forwarded >= limit) req.pause();
    });
    req.on('end', () => {
      if (x.forwarded < limit) up.end();
    });
    req.on('error', () => up.destroy());
  };

  const server: Server = createServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    handle,
  );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dropAll = () => {
    for (const r of live) r.destroy();
    live.clear();
    for (const s of sockets) s.destroy();
  };

  return {
    endpoint: `https://127.0.0.1:${port}`,
    exchanges,
    gate(next) {
      rule = next;
    },
    nextRun() {
      return ++run;
    },
    until(condition, what, timeoutMs = 120_000) {
      // polled, not checked on every chunk: a condition may read files (a journal), and may
      // depend on time (a journal written just after an answer)
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = setInterval(() => {
          if (condition()) {
            clearInterval(poll);
            resolve();
          } else if (Date.now() - started > timeoutMs) {
            clearInterval(poll);
            reject(new Error(`proxy: timed out waiting for ${what}`));
          }
        }, 25);
      });
    },
    dropAll,
    async close() {
      dropAll();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
