/**
 * A loopback TCP proxy that injects network faults between a client and the S3 test server.
 *
 * It forwards bytes untouched (TLS passes through: the client still verifies the server's
 * certificate, whose SAN covers 127.0.0.1), counts them per direction, and at a chosen byte offset
 * of a chosen connection (or of all traffic in one direction) cuts the connection with a reset or
 * a clean close, stalls it, or slows it down. It listens on 127.0.0.1 only, holds no more than
 * the sockets' own buffers, and `close()` destroys every socket it made.
 * @module
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** Client to server (`up`: requests, uploads) or server to client (`down`: answers, downloads). */
export type Direction = 'up' | 'down';

/** What happens when a fault's offset is reached. */
export type FaultAction =
  /** Reset both sides (TCP RST to the client). */
  | { kind: 'rst' }
  /** Close both sides cleanly (FIN) after forwarding exactly the bytes before the offset. */
  | { kind: 'fin' }
  /** Forward nothing more in this direction (the sockets stay open until the proxy closes). */
  | { kind: 'stall' }
  /** Forward the rest of this direction at about `bytesPerSecond`. */
  | { kind: 'slow'; bytesPerSecond: number }
  /** Start an outage here (see {@link FaultProxy.outage}); this connection is reset or stalled too. */
  | { kind: 'outage'; mode: 'reset' | 'stall' };

/** One fault: an action at a byte offset of a direction. */
export interface Fault {
  direction: Direction;
  /** Byte offset in `direction` where the action starts (0: before the first byte). */
  at: number;
  /**
   * Which connection the offset counts on: its 1-based number in accept order, or `'total'` to
   * count all bytes of `direction` across connections. Default 1.
   */
  connection?: number | 'total';
  action: FaultAction;
}

/** A running proxy. */
export interface FaultProxy {
  /** `https://127.0.0.1:<port>`: give it to the client as its endpoint. */
  readonly endpoint: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Bytes forwarded so far per direction. */
  readonly forwarded: Readonly<Record<Direction, number>>;
  /** Faults whose offset was reached. */
  readonly fired: readonly Fault[];
  /** Adds a fault (each fires once). */
  inject(fault: Fault): void;
  /**
   * Outage mode. `'reset'`: existing connections are reset and new ones are reset at once (a
   * store that is down). `'stall'`: existing connections stop forwarding and new ones are
   * accepted but never answered (a black hole). `false` lets new connections through again.
   */
  outage(mode: 'reset' | 'stall' | false): void;
  /** Destroys every socket and stops listening. */
  close(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
/** Slice size when slowing a direction down (timers are too coarse for smaller slices at MiB/s). */
const SLOW_SLICE = 16 * 1024;

/**
 * Starts a proxy on a free loopback port in front of `target` (`https://127.0.0.1:8443`).
 * @param faults - Faults armed from the start; more can be added with `inject`.
 */
export async function startFaultProxy(target: string, faults: Fault[] = []): Promise<FaultProxy> {
  const url = new URL(target);
  if (url.hostname !== LOOPBACK && url.hostname !== 'localhost') {
    throw new Error(`fault proxy: loopback targets only, got ${url.hostname}`);
  }
  const targetPort = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const armed = [...faults];
  const fired: Fault[] = [];
  const sockets = new Set<Socket>();
  const forwarded: Record<Direction, number> = { up: 0, down: 0 };
  let connections = 0;
  let down: 'reset' | 'stall' | false = false;
  let closed = false;
  /** Connections open when a stalling outage began: they forward nothing more. */
  const stalled = new Set<number>();
  const stopWaiters = new Set<() => void>();

  /** Takes the first armed fault that falls inside this slice of traffic, if any. */
  const faultIn = (
    direction: Direction,
    connection: number,
    connOffset: number,
    length: number,
  ): { fault: Fault; offset: number } | undefined => {
    for (const fault of armed) {
      if (fault.direction !== direction) continue;
      const scope = fault.connection ?? 1;
      const base = scope === 'total' ? forwarded[direction] : scope === connection ? connOffset : undefined;
      if (base === undefined) continue;
      if (fault.at >= base && fault.at < base + Math.max(length, 1)) {
        armed.splice(armed.indexOf(fault), 1);
        fired.push(fault);
        return { fault, offset: fault.at - base };
      }
    }
    return undefined;
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (closed) return resolve();
      const done = () => {
        clearTimeout(timer);
        stopWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      stopWaiters.add(done);
    });
  const untilClosed = () => new Promise<void>((resolve) => (closed ? resolve() : stopWaiters.add(resolve)));

  const write = (to: Socket, bytes: Buffer): Promise<void> =>
    new Promise((resolve) => {
      if (to.destroyed || bytes.byteLength === 0) return resolve();
      if (to.write(bytes)) return resolve();
      const done = () => {
        to.off('drain', done);
        to.off('close', done);
        resolve();
      };
      to.on('drain', done);
      to.on('close', done);
    });

  const pump = async (
    direction: Direction,
    from: Socket,
    to: Socket,
    connection: number,
    cut: () => void,
  ) => {
    let offset = 0;
    let rate: number | undefined;
    try {
      for await (const chunk of from as AsyncIterable<Buffer>) {
        let rest = chunk;
        if (stalled.has(connection)) {
          from.pause();
          await untilClosed();
          return;
        }
        while (rest.byteLength > 0) {
          const hit = faultIn(direction, connection, offset, rest.byteLength);
          const before = hit ? rest.subarray(0, hit.offset) : rest;
          await send(before);
          rest = rest.subarray(before.byteLength);
          if (!hit) continue;
          const { action } = hit.fault;
          if (action.kind === 'rst' || action.kind === 'fin') {
            // let the bytes before the offset leave first, then cut
            await new Promise<void>((r) => (to.writableLength === 0 ? r() : to.once('drain', () => r())));
            if (action.kind === 'rst') cut();
            else {
              from.end();
              to.end();
              from.destroySoon();
              to.destroySoon();
            }
            return;
          }
          if (action.kind === 'outage') {
            proxy.outage(action.mode);
            if (action.mode === 'reset') cut();
            else {
              from.pause();
              await untilClosed();
            }
            return;
          }
          if (action.kind === 'stall') {
            from.pause();
            await untilClosed();
            return;
          }
          rate = action.bytesPerSecond;
        }
      }
      to.end();
    } catch {
      cut();
    }

    async function send(bytes: Buffer) {
      if (rate === undefined) {
        offset += bytes.byteLength;
        forwarded[direction] += bytes.byteLength;
        await write(to, bytes);
        return;
      }
      for (let i = 0; i < bytes.byteLength && !closed; i += SLOW_SLICE) {
        const slice = bytes.subarray(i, i + SLOW_SLICE);
        offset += slice.byteLength;
        forwarded[direction] += slice.byteLength;
        await write(to, slice);
        await sleep((slice.byteLength / rate) * 1000);
      }
    }
  };

  const server: Server = createServer((client) => {
    const connection = ++connections;
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (down === 'reset' || closed) {
      client.resetAndDestroy();
      return;
    }
    if (down === 'stall') {
      client.pause();
      return;
    }
    client.pause();
    const upstream = tcpConnect(targetPort, LOOPBACK);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => {});
    const cut = () => {
      if (!client.destroyed) client.resetAndDestroy();
      if (!upstream.destroyed) upstream.resetAndDestroy();
    };
    client.on('close', () => upstream.destroySoon());
    upstream.on('close', () => client.destroySoon());
    upstream.once('connect', () => {
      void pump('up', client, upstream, connection, cut);
      void pump('down', upstream, client, connection, cut);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy: no port');

  const proxy: FaultProxy = {
    endpoint: `${url.protocol}//${LOOPBACK}:${address.port}`,
    get connections() {
      return connections;
    },
    forwarded,
    fired,
    inject(fault) {
      armed.push(fault);
    },
    outage(mode) {
      down = mode;
      if (mode === 'reset') for (const socket of sockets) socket.resetAndDestroy();
      if (mode === 'stall') for (let n = 1; n <= connections; n++) stalled.add(n);
    },
    async close() {
      closed = true;
      for (const wake of stopWaiters) wake();
      stopWaiters.clear();
      for (const socket of sockets) socket.resetAndDestroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
