/**
 * A real HTTP receiver on 127.0.0.1 for delivery tests: records every request
 * (headers, raw body, arrival time) and answers with a scripted handler.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** Answers one request; `n` is its 1-based index among all requests received. */
export type Handler = (req: ReceivedRequest, res: ServerResponse, n: number) => unknown;

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** Replaces the handler. */
  handle(h: Handler): void;
  /** Resolves once at least `count` requests arrived (polls, with a deadline). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

const ok: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
};

export async function startReceiver(handler: Handler = ok): Promise<Receiver> {
  let current = handler;
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(r);
      Promise.resolve(current(r, res, requests.length)).catch(() => res.destroy());
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    handle(h) {
      current = h;
    },
    async waitFor(count, timeoutMs = 15_000) {
      await until(
        () => requests.length >= count,
        timeoutMs,
        () => `${requests.length} of ${count} requests arrived`,
      );
      return requests;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `cond` every 10 ms until it holds; throws with `what()` (which may query) after the deadline. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  what: () => string | Promise<string> = () => 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${await what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
