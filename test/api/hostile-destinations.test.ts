import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type OrgFixture, type TestApp } from '../support/app.js';
import { startTestWorker } from '../support/worker.js';
import { seedWebhook } from '../support/delivery-rows.js';
import {
  HOSTILE_URLS,
  INVALID_HOSTILE_URLS,
  PUBLIC_URLS,
  tableResolver,
} from '../support/hostile-urls.js';
import type { Worker } from '../../src/worker/loop.js';

// Outside --dev, with a table resolver (no real DNS in tests): every hostile URL is refused when
// saved (422 blocked_destination) and again when sent (attempt error blocked_destination, no socket).
let t: TestApp;
let saver: OrgFixture;
let worker: Worker | undefined;
const loopback = {
  connections: 0,
  server: net.createServer((s) => {
    loopback.connections++;
    s.destroy();
  }),
};
let port: number;

/** The same URL text with the loopback listener's port, so a guard that let it through would be seen. */
function onListenerPort(url: string): string {
  return url.replace(/^(https?:\/\/[^/]+?)(:\d+)?\//, `$1:${port}/`);
}

beforeAll(async () => {
  await new Promise<void>((resolve) => loopback.server.listen(0, '127.0.0.1', resolve));
  port = (loopback.server.address() as net.AddressInfo).port;
  t = await createTestApp({ dev: false, resolveHost: tableResolver() });
  expect((await t.org.admin('POST', '/event-types', { name: 'ticket.created' })).status).toBe(201);
  // Saving happens in another organization, so the public webhooks it creates get no deliveries.
  saver = await t.newOrg();
  expect((await saver.admin('POST', '/event-types', { name: 'ticket.created' })).status).toBe(201);
});
afterAll(async () => {
  await worker?.stop();
  loopback.server.close();
  await t?.close();
});

describe('hostile destinations are refused when a webhook is saved', () => {
  const hook = (url: string) => ({ name: 'h', url, events: ['ticket.created'] });

  it(`refuses all ${HOSTILE_URLS.length} hostile URLs with 422 blocked_destination on url`, async () => {
    const accepted: string[] = [];
    for (const { url, why } of HOSTILE_URLS) {
      const res = await saver.admin('POST', '/webhooks', hook(url));
      if (res.status !== 422) accepted.push(`${url} (${why}): ${res.status}`);
      else
        expect(res.body.error.details, url).toContainEqual(
          expect.objectContaining({ field: 'url', code: 'blocked_destination' }),
        );
    }
    expect(accepted).toEqual([]);
    const { rows } = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM webhooks WHERE org_id = $1',
      [saver.orgId],
    );
    expect(rows[0].n).toBe(0);
  });

  it('refuses URLs the parser refuses, and http://, with 422 on url', async () => {
    for (const url of [...INVALID_HOSTILE_URLS, 'http://8.8.8.8/']) {
      const res = await saver.admin('POST', '/webhooks', hook(url));
      expect(res.status, url).toBe(422);
      expect(res.body.error.details[0].field, url).toBe('url');
    }
  });

  it('accepts public destinations, and refuses a PATCH to a hostile one, leaving the URL as it was', async () => {
    for (const url of PUBLIC_URLS)
      expect((await saver.admin('POST', '/webhooks', hook(url))).status, url).toBe(201);
    const id = (await saver.admin('GET', '/webhooks?limit=1')).body.data[0].id;
    const before = (await saver.admin('GET', `/webhooks/${id}`)).body.url;
    for (const url of [
      'https://169.254.169.254/',
      'https://[::ffff:7f00:1]/',
      'https://metadata.google.internal/',
    ]) {
      const res = await saver.admin('PATCH', `/webhooks/${id}`, { url });
      expect(res.status, url).toBe(422);
      expect(res.body.error.details[0]).toMatchObject({
        field: 'url',
        code: 'blocked_destination',
      });
    }
    expect((await saver.admin('GET', `/webhooks/${id}`)).body.url).toBe(before);
  });
});

describe('hostile destinations are refused again when sending', () => {
  it('records blocked_destination for every hostile URL written straight to the database, and opens no connection', async () => {
    const ids = new Map<string, string>();
    for (const { url } of HOSTILE_URLS) {
      ids.set(
        await seedWebhook(t.db, t.org.orgId, {
          url: onListenerPort(url),
          events: ['ticket.created'],
          retryAttempts: 0,
        }),
        url,
      );
    }
    worker = await startTestWorker(t);
    const published = await t.org.publisher('POST', '/events', {
      event_type: 'ticket.created',
      payload: { n: 1 },
    });
    expect(published.status).toBe(202);
    expect(published.body.deliveries).toBe(HOSTILE_URLS.length);

    const deadline = Date.now() + 60_000;
    let rows: Array<{ webhook_id: string; status: string; error: string | null }> = [];
    for (;;) {
      ({ rows } = await t.db.query(
        `SELECT d.webhook_id, d.status, a.error FROM deliveries d LEFT JOIN delivery_attempts a ON a.delivery_id = d.id
          WHERE d.event_id = $1`,
        [published.body.id],
      ));
      if (
        rows.length === HOSTILE_URLS.length &&
        rows.every((r) => r.error !== null && r.status === 'failed')
      )
        break;
      if (Date.now() > deadline)
        throw new Error(
          `not all attempted: ${JSON.stringify(rows.filter((r) => r.error === null))}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    const wrong = rows
      .filter((r) => r.error !== 'blocked_destination')
      .map((r) => `${ids.get(r.webhook_id)}: ${r.error}`);
    expect(wrong).toEqual([]);
    expect(loopback.connections).toBe(0);
  });

  it('refuses them in the synchronous test send too', async () => {
    for (const url of [
      'https://127.0.0.1/',
      'https://localhost/',
      'https://[::ffff:127.0.0.1]/',
      'https://2130706433/',
    ]) {
      const id = await seedWebhook(t.db, t.org.orgId, {
        url: onListenerPort(url),
        events: ['ticket.created'],
        isActive: false,
      });
      const res = await t.org.admin('POST', `/webhooks/${id}/test`, {});
      expect(res.status, url).toBe(200);
      expect(res.body, url).toMatchObject({
        success: false,
        status_code: null,
        error: 'blocked_destination',
      });
    }
    expect(loopback.connections).toBe(0);
  });
});
