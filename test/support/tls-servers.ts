/**
 * Real servers on 127.0.0.1 for endpoint security tests: an HTTPS receiver
 * (optionally requiring a client certificate) that records what it got like
 * receiver.ts does, and an HTTP CONNECT proxy that records every tunnel asked of it.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { until, type Handler, type ReceivedRequest } from './receiver.js';

export interface TlsReceivedRequest extends ReceivedRequest {
  /** The client certificate's common name, when one was presented. */
  clientCn?: string;
}

export interface TlsReceiver {
  port: number;
  /** `https://<host>:<port>/hook`. */
  url(host: string): string;
  requests: TlsReceivedRequest[];
  handle(h: Handler): void;
  waitFor(count: number, timeoutMs?: number): Promise<TlsReceivedRequest[]>;
  close(): Promise<void>;
}

const ok: Handler = (_req, res) => res.writeHead(200).end('ok');

/** An HTTPS server; with `requestCert` and `rejectUnauthorized` it refuses clients without a certificate from `ca`. */
export async function startTlsReceiver(
  tls: ServerOptions,
  handler: Handler = ok,
): Promise<TlsReceiver> {
  let current = handler;
  const requests: TlsReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpsServer(tls, (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const peer = (req.socket as TLSSocket).getPeerCertificate?.();
      const r: TlsReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
        clientCn: peer && peer.subject ? String(peer.subject.CN) : undefined,
      };
      requests.push(r);
      Promise.resolve(current(r, res, requests.length)).catch(() => res.destroy());
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined); // a refused client is what some tests want
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (host) => `https://${host}:${port}/hook`,
    requests,
    handle(h) {
      current = h;
    },
    async waitFor(count, timeoutMs = 15_000) {
      await until(
        () => requests.length >= count,
        timeoutMs,
        () => `${requests.length} of ${count} requests`,
      );
      return requests;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ConnectProxy {
  /** http://[user:password@]127.0.0.1:<port> */
  url: string;
  /** Every CONNECT target asked for, in order (`host:port`), refused ones included. */
  targets: string[];
  /** Tunnels opened. */
  tunnels: number;
  close(): Promise<void>;
}

/** A real HTTP CONNECT proxy; with `credentials` it answers 407 to requests without them. */
export async function startConnectProxy(credentials?: {
  user: string;
  password: string;
}): Promise<ConnectProxy> {
  const sockets = new Set<Socket>();
  const state = { targets: [] as string[], tunnels: 0 };
  const server = createHttpServer((_req, res) => res.writeHead(405).end());
  const expected = credentials
    ? `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`
    : undefined;
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    const target = req.url ?? '';
    state.targets.push(target);
    if (expected && req.headers['proxy-authorization'] !== expected) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(target);
    if (!m) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const upstream = netConnect({ host: m[1], port: Number(m[2]) }, () => {
      state.tunnels++;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const auth = credentials ? `${credentials.user}:${credentials.password}@` : '';
  return {
    url: `http://${auth}127.0.0.1:${port}`,
    get targets() {
      return state.targets;
    },
    get tunnels() {
      return state.tunnels;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
