import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import {
  fastifyWebhookVerification,
  rawWebhookBody,
  webhookMiddleware,
  withWebhookVerification,
  type VerifiedIncomingMessage,
  type WebhookEvent,
} from '../../sdk/index.js';
import { decodeSecret, generateSecret, signatureHeaders } from '../../src/core/signing.js';

const secret = generateSecret();
const body = JSON.stringify({
  id: 'evt_1',
  type: 'ticket.created',
  timestamp: new Date().toISOString(),
  data: { n: 1 },
});

function signed(payload = body, key = secret): Record<string, string> {
  return {
    'content-type': 'application/json',
    ...signatureHeaders({
      id: 'evt_1',
      eventType: 'ticket.created',
      timestamp: Math.floor(Date.now() / 1000),
      body: payload,
      keys: [decodeSecret(key)],
    }),
  };
}

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** A node:http server running the middleware the way Express runs it: (req, res, next). */
async function nodeServer(preParse?: 'buffer' | 'json'): Promise<string> {
  const mw = webhookMiddleware(secret);
  const server = createServer((req: VerifiedIncomingMessage, res) => {
    const run = async () => {
      if (preParse) {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const raw = Buffer.concat(chunks);
        req.body = preParse === 'buffer' ? raw : JSON.parse(raw.toString()); // express.raw() / express.json()
      }
      mw(req, res, (err) => {
        if (err) {
          res.statusCode = 500;
          res.end(String((err as Error).message));
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ type: req.webhook?.type, raw: req.rawBody?.length }));
      });
    };
    void run();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
}

describe('Express / node:http middleware', () => {
  it('reads the raw body itself when no parser ran, and passes a verified request on', async () => {
    const url = await nodeServer();
    const ok = await fetch(url, { method: 'POST', headers: signed(), body });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ type: 'ticket.created', raw: Buffer.byteLength(body) });
  });

  it('uses the Buffer left by express.raw()', async () => {
    const url = await nodeServer('buffer');
    const ok = await fetch(url, { method: 'POST', headers: signed(), body });
    expect(await ok.json()).toEqual({ type: 'ticket.created', raw: Buffer.byteLength(body) });
  });

  it('answers 400 with the reason and does not call the handler', async () => {
    const url = await nodeServer();
    const tampered = await fetch(url, {
      method: 'POST',
      headers: signed(),
      body: body.replace('"n":1', '"n":2'),
    });
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toMatchObject({
      error: { code: 'WEBHOOK_VERIFICATION_FAILED', reason: 'no_matching_signature' },
    });
    const unsigned = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(((await unsigned.json()) as any).error.reason).toBe('missing_headers');
  });

  it('refuses to run after a JSON parser replaced the raw body, saying what to do', async () => {
    const url = await nodeServer('json');
    const res = await fetch(url, { method: 'POST', headers: signed(), body });
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/express\.raw/);
  });
});

describe('Fastify plugin', () => {
  async function fastifyApp() {
    const app = Fastify();
    await app.register(async (hooks) => {
      await hooks.register(fastifyWebhookVerification, { secret });
      hooks.post('/hooks', async (request) => {
        const event = request.body as WebhookEvent<{ n: number }>;
        return { type: event.type, n: event.data.n, raw: rawWebhookBody(request)?.toString() };
      });
    });
    app.post('/other', async (request) => ({ echoed: request.body }));
    await app.ready();
    return app;
  }

  it('verifies requests to the routes of its scope over the exact bytes received', async () => {
    const app = await fastifyApp();
    // Unusual spacing: a re-serialised body would not match the signature.
    const spaced = body.replace('"n":1', '"n" :  1');
    const res = await app.inject({
      method: 'POST',
      url: '/hooks',
      headers: signed(spaced),
      payload: spaced,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ type: 'ticket.created', n: 1, raw: spaced });
    await app.close();
  });

  it('answers 400 with the reason for a bad signature or stale timestamp', async () => {
    const app = await fastifyApp();
    const wrongKey = await app.inject({
      method: 'POST',
      url: '/hooks',
      headers: signed(body, generateSecret()),
      payload: body,
    });
    expect(wrongKey.statusCode).toBe(400);
    expect(wrongKey.json().error.reason).toBe('no_matching_signature');
    const stale = {
      ...signed(),
      'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600),
    };
    const old = await app.inject({ method: 'POST', url: '/hooks', headers: stale, payload: body });
    expect(old.json().error.reason).toBe('timestamp_too_old');
    await app.close();
  });

  it('leaves routes outside its scope with the normal JSON parser and no verification', async () => {
    const app = await fastifyApp();
    const res = await app.inject({
      method: 'POST',
      url: '/other',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":1}',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ echoed: { a: 1 } });
    await app.close();
  });
});

describe('Next.js route handler (Fetch API)', () => {
  const POST = withWebhookVerification<{ n: number }>(secret, async (event) =>
    Response.json({ got: event.type, n: event.data.n }),
  );

  it('runs the handler for a verified request', async () => {
    const res = await POST(
      new Request('http://localhost/api/hooks', { method: 'POST', headers: signed(), body }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ got: 'ticket.created', n: 1 });
  });

  it('answers 400 with the reason otherwise', async () => {
    const res = await POST(
      new Request('http://localhost/api/hooks', {
        method: 'POST',
        headers: signed(),
        body: body + '\n',
      }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.reason).toBe('no_matching_signature');
  });
});
