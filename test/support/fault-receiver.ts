/**
 * A misbehaving webhook receiver for fault-injection tests: one node:http server
 * on 127.0.0.1 (port 0) whose answer is chosen per path, so each webhook of a
 * test points at its own fault (`rx.url('reset')`, `rx.url({ kind: 'delay', ms: 200 })`).
 *
 * It counts requests and distinct `webhook-id` headers per path and overall,
 * which is how the process-fault tests prove "every accepted event arrived at
 * least once, with bounded duplicates".
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { until } from './receiver.js';

export type FaultMode =
  /** 200 at once. */
  | { kind: 'ok'; status?: number }
  /** Waits, then answers `status` (default 200). */
  | { kind: 'delay'; ms: number; status?: number }
  /** 200 with a Content-Length of `bytes`, then the body one byte every `everyMs`. */
  | { kind: 'trickle-body'; bytes: number; everyMs: number }
  /** The status line and headers one byte every `everyMs` (never a complete head before a timeout). */
  | { kind: 'trickle-headers'; everyMs: number }
  /** TCP reset (RST) as soon as the request arrived. */
  | { kind: 'reset' }
  /** Half a status line and header, then the socket is closed. */
  | { kind: 'close-mid-headers' }
  /** A 3xx to `location` (a private address, say). */
  | { kind: 'redirect'; status?: number; location: string }
  /** Any status, with optional headers and body (410, 503, 500 …). */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** 429 (or 503) with Retry-After: `retryAfter` is sent as is (seconds or an HTTP date). */
  | { kind: 'retry-after'; status?: 429 | 503; retryAfter: string }
  /** 200 with `bytes` of body streamed with backpressure (1 GB: nothing but a cut-off socket stops it). */
  | { kind: 'huge'; bytes: number }
  /** Bytes that are not HTTP, then close. */
  | { kind: 'garbage' };

export type ModeName = 'ok' | 'reset' | 'close-mid-headers' | 'garbage';

/** What one path (one webhook) saw. */
export interface PathStats {
  requests: number;
  /** webhook-id → how many requests carried it. */
  ids: Map<string, number>;
  /** For `huge`: bytes handed to the socket, and whether the client closed it before the end. */
  bytesWritten: number;
  closedEarly: boolean;
  /** Arrival times (ms since epoch) of each request. */
  arrivals: number[];
  /** Request headers of the last request. */
  lastHeaders?: IncomingMessage['headers'];
}

export interface FaultReceiver {
  /** Origin, e.g. http://127.0.0.1:41234 */
  origin: string;
  /** A fresh path answering with `mode`; returns its full URL. */
  url(mode: FaultMode | ModeName): string;
  /** Changes the answer of the path of `url` (a receiver that recovers, or starts failing). */
  setMode(url: string, mode: FaultMode | ModeName): void;
  /** Stats of the path of `url`. */
  stats(url: string): PathStats;
  /** Requests received on every path. */
  readonly totalRequests: number;
  /** Distinct webhook-id values seen on every path. */
  distinctIds(): number;
  /** Requests beyond the first for each webhook-id (redeliveries), over every path. */
  duplicates(): number;
  /** webhook-id values seen (all paths). */
  ids(): Set<string>;
  /** Resolves when `cond(this)` holds (polled), or throws after the deadline. */
  waitUntil(cond: () => boolean, timeoutMs?: number, what?: () => string): Promise<void>;
  close(): Promise<void>;
}

const named: Record<ModeName, FaultMode> = {
  ok: { kind: 'ok' },
  reset: { kind: 'reset' },
  'close-mid-headers': { kind: 'close-mid-headers' },
  garbage: { kind: 'garbage' },
};

const GIB = 1024 * 1024 * 1024;
export const ONE_GIB = GIB;

export async function startFaultReceiver(): Promise<FaultReceiver> {
  const modes = new Map<string, FaultMode>();
  const stats = new Map<string, PathStats>();
  const allIds = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let total = 0;
  let counter = 0;
  let closing = false;

  const statsOf = (path: string): PathStats => {
    let s = stats.get(path);
    if (!s) {
      s = { requests: 0, ids: new Map(), bytesWritten: 0, closedEarly: false, arrivals: [] };
      stats.set(path, s);
    }
    return s;
  };
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const s = statsOf(path);
    s.requests++;
    s.arrivals.push(Date.now());
    s.lastHeaders = req.headers;
    total++;
    const id = req.headers['webhook-id'];
    if (typeof id === 'string') {
      s.ids.set(id, (s.ids.get(id) ?? 0) + 1);
      allIds.set(id, (allIds.get(id) ?? 0) + 1);
    }
    // Read the whole request first, like a real receiver; then misbehave.
    req.resume();
    req.on('error', () => {});
    res.on('error', () => {});
    req.on('end', () => answer(modes.get(path) ?? { kind: 'status', status: 404 }, req, res, s));
  });

  function answer(mode: FaultMode, req: IncomingMessage, res: ServerResponse, s: PathStats): void {
    const socket = req.socket;
    switch (mode.kind) {
      case 'ok':
        res.writeHead(mode.status ?? 200, { 'content-type': 'text/plain' }).end('ok');
        return;
      case 'delay':
        later(mode.ms, () => {
          if (!res.destroyed)
            res.writeHead(mode.status ?? 200, { 'content-type': 'text/plain' }).end('late ok');
        });
        return;
      case 'trickle-body': {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(mode.bytes) });
        res.flushHeaders();
        let sent = 0;
        const tick = () => {
          if (res.destroyed || closing) return;
          res.write('x');
          s.bytesWritten = ++sent;
          if (sent >= mode.bytes) return void res.end();
          later(mode.everyMs, tick);
        };
        res.on('close', () => {
          if (sent < mode.bytes) s.closedEarly = true;
        });
        tick();
        return;
      }
      case 'trickle-headers': {
        const head = Buffer.from(
          'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok',
        );
        let i = 0;
        socket.on('close', () => {
          if (i < head.length) s.closedEarly = true;
        });
        const tick = () => {
          if (socket.destroyed || closing) return;
          socket.write(head.subarray(i, i + 1));
          s.bytesWritten = ++i;
          if (i < head.length) later(mode.everyMs, tick);
        };
        tick();
        return;
      }
      case 'reset':
        socket.resetAndDestroy();
        return;
      case 'close-mid-headers':
        socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/pl');
        later(5, () => socket.destroy());
        return;
      case 'garbage':
        socket.end(Buffer.from('\x00\xff\x13garbage that is not HTTP\r\n\r\n\x00\x01', 'latin1'));
        return;
      case 'redirect':
        res.writeHead(mode.status ?? 302, { location: mode.location }).end();
        return;
      case 'status':
        res
          .writeHead(mode.status, { 'content-type': 'text/plain', ...mode.headers })
          .end(mode.body ?? '');
        return;
      case 'retry-after':
        res
          .writeHead(mode.status ?? 429, {
            'retry-after': mode.retryAfter,
            'content-type': 'text/plain',
          })
          .end('slow down');
        return;
      case 'huge': {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': String(mode.bytes),
        });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let finished = false;
        res.on('close', () => {
          if (!finished) s.closedEarly = true;
        });
        const pump = () => {
          while (s.bytesWritten < mode.bytes) {
            if (res.destroyed || closing) return;
            const n = Math.min(chunk.length, mode.bytes - s.bytesWritten);
            s.bytesWritten += n;
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
              return void res.once('drain', pump);
          }
          finished = true;
          res.end();
        };
        pump();
        return;
      }
    }
  }

  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
  });
  server.on('clientError', (_err, sock) => sock.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const pathOf = (url: string) => new URL(url).pathname;

  return {
    origin,
    url(mode) {
      const path = `/f${++counter}`;
      modes.set(path, typeof mode === 'string' ? named[mode] : mode);
      statsOf(path);
      return origin + path;
    },
    setMode(url, mode) {
      modes.set(pathOf(url), typeof mode === 'string' ? named[mode] : mode);
    },
    stats: (url) => statsOf(pathOf(url)),
    get totalRequests() {
      return total;
    },
    distinctIds: () => allIds.size,
    duplicates() {
      let d = 0;
      for (const n of allIds.values()) d += n - 1;
      return d;
    },
    ids: () => new Set(allIds.keys()),
    waitUntil: (
      cond,
      timeoutMs = 15_000,
      what = () => `fault receiver condition (${total} requests, ${allIds.size} ids)`,
    ) => until(cond, timeoutMs, what),
    async close() {
      closing = true;
      for (const t of timers) clearTimeout(t);
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
