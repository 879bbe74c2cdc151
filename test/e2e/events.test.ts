import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  ADMIN_KEY,
  callApi,
  camera,
  ensureUiBuilt,
  launchBrowser,
  newPage,
  signIn,
  startHookline,
  startReceiver,
  takeConsoleError,
  until,
} from './support.js';

// Publishing an event from the admin UI and following it to its deliveries; the viewer's read-only
// view of the same page. One server, receiver and browser for the file, steps in order.

let hookline: Awaited<ReturnType<typeof startHookline>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let browser: Browser;
let page: Page;
let base: string;
const errors: string[] = [];
let photos: ReturnType<typeof camera>;
const api = (method: string, path: string, body?: unknown, key = ADMIN_KEY) =>
  callApi(base, key, method, path, body);

beforeAll(async () => {
  ensureUiBuilt();
  hookline = await startHookline();
  base = hookline.server.url;
  receiver = await startReceiver();
  browser = await launchBrowser();
  photos = camera();
  ({ page } = await newPage(browser, { width: 1280, height: 860, errors }));
}, 180_000);

afterAll(async () => {
  photos?.done();
  await browser?.close();
  await receiver?.close();
  await hookline?.stop();
});

describe('publishing events from the admin UI', { timeout: 90_000 }, () => {
  let eventId: string;
  let deskId: string;

  it("checks the payload as JSON before sending, then shows the server's 422 and 413 refusals", async () => {
    expect(
      (
        await api('POST', '/event-types', {
          name: 'ticket.created',
          schema: { type: 'object', required: ['id'] },
        })
      ).status,
    ).toBe(201);
    const desk = await api('POST', '/webhooks', {
      name: 'Desk',
      url: receiver.url,
      events: ['ticket.*'],
    });
    expect(desk.status).toBe(201);
    deskId = desk.body.id;
    await signIn(page, base, ADMIN_KEY);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Event types' })
      .click();
    await page.getByRole('button', { name: 'Publish ticket.created' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'Publish an event' }).waitFor();
    // The type is chosen once the list of types has loaded (the schema hint shows then): a
    // select cannot show a value it has no option for yet.
    await dialog.getByText('This type has a JSON Schema').waitFor();
    expect(await dialog.getByLabel('Event type').inputValue()).toBe('ticket.created');

    // Bad JSON is shown as it is typed, and cannot be sent.
    await dialog.getByLabel('Payload (JSON)').fill('{"id": ');
    await dialog.locator('#publish-payload-error').getByText('Not valid JSON').waitFor();
    expect(await dialog.getByRole('button', { name: 'Publish', exact: true }).isDisabled()).toBe(
      true,
    );

    // The schema refuses a payload without id: the server's message and the field it names.
    await dialog.getByLabel('Payload (JSON)').fill('{"subject": "no id"}');
    expect(await dialog.getByRole('button', { name: 'Publish', exact: true }).isDisabled()).toBe(
      false,
    );
    await dialog.getByRole('button', { name: 'Publish', exact: true }).click();
    const refusal = dialog.getByRole('alert');
    await refusal.getByText('422 VALIDATION_FAILED').waitFor();
    // …and next to the payload, by the field the server named.
    await dialog
      .locator('#publish-payload-error')
      .getByText(/^payload\.id: /)
      .waitFor();
    await takeConsoleError(errors, /status of 422/);

    // Larger than 256 KiB: 413 with its message.
    await dialog
      .getByLabel('Payload (JSON)')
      .fill(JSON.stringify({ id: 'big', blob: 'x'.repeat(300 * 1024) }));
    await dialog.getByRole('button', { name: 'Publish', exact: true }).click();
    await refusal.getByText(/^413 /).waitFor();
    await takeConsoleError(errors, /status of 413/);
    expect((await api('GET', '/events')).body.data).toEqual([]);
  });

  it('publishes, shows the event id and its delivery count, and links to its deliveries', async () => {
    const dialog = page.getByRole('dialog');
    await dialog
      .getByLabel('Payload (JSON)')
      .fill('{"id": "T-9", "subject": "Published from the UI"}');
    await dialog.getByLabel('Idempotency key (optional)').fill('ui-publish-1');
    await dialog.getByRole('button', { name: 'Publish', exact: true }).click();
    const result = dialog.getByTestId('publish-result');
    await result.waitFor();
    eventId = (await result.getByTestId('published-id').textContent())!;
    expect(eventId).toMatch(/^evt_/);
    await result.getByText('1 delivery queued.').waitFor();
    await photos.shot(page, 'publish-event');
    const stored = await api('GET', `/events/${eventId}`);
    expect(stored.body).toMatchObject({
      event_type: 'ticket.created',
      payload: { id: 'T-9' },
      idempotency_key: 'ui-publish-1',
    });
    expect(stored.body.deliveries).toHaveLength(1);
    await until(
      'the receiver to get it',
      () => receiver.received.find((r) => r.body.includes('Published from the UI')),
      30_000,
    );
    // The same idempotency key again: the first event, marked as such, and nothing sent twice.
    await dialog.getByRole('button', { name: 'Publish again' }).click();
    await result.getByText('Already published').waitFor();
    await result.getByText('nothing new was sent').waitFor();
    expect(await result.getByTestId('published-id').textContent()).toBe(eventId);
    expect((await api('GET', '/events')).body.data).toHaveLength(1);

    await result.getByRole('link', { name: 'See the event and its deliveries' }).click();
    expect(page.url()).toContain(`/events?event=${eventId}`);
    const drawer = page.getByRole('dialog');
    await drawer.getByText('Published from the UI').waitFor(); // the payload
    await drawer.getByText('Succeeded').waitFor({ timeout: 20_000 });
    await photos.shot(page, 'event-detail');
    await drawer
      .getByRole('link', { name: `Delivery ${stored.body.deliveries[0].id} to Desk` })
      .click();
    await page.waitForURL(/\/deliveries\?delivery=dlv_/);
    await page.getByRole('dialog').getByText('Attempt 1').waitFor();
    // …and from the delivery back to its event.
    await page.getByRole('dialog').getByRole('link', { name: eventId }).click();
    await page.waitForURL(/\/events\?event=evt_/);
    await page.getByRole('dialog').getByText('Published from the UI').waitFor();
    await page.keyboard.press('Escape');
  });

  it('filters the delivery log to test sends or published events', async () => {
    const test = await api('POST', `/webhooks/${deskId}/test`, {});
    expect(test.body.success).toBe(true);
    const published = (await api('GET', `/events/${eventId}`)).body.deliveries[0].id;
    await page.goto(`${base}/deliveries`);
    await page.getByRole('row', { name: new RegExp(test.body.delivery_id) }).waitFor();
    await page.getByRole('row', { name: new RegExp(published) }).waitFor();
    await page.getByLabel('Kind').selectOption('true');
    await page.getByRole('row', { name: new RegExp(published) }).waitFor({ state: 'detached' });
    await page.getByRole('row', { name: new RegExp(test.body.delivery_id) }).waitFor();
    expect(page.url()).toContain('kind=true');
    await page.getByLabel('Kind').selectOption('false');
    await page
      .getByRole('row', { name: new RegExp(test.body.delivery_id) })
      .waitFor({ state: 'detached' });
    await page.getByRole('row', { name: new RegExp(published) }).waitFor();
  });

  it('lists published events, filtered by type and time in the URL', async () => {
    expect((await api('POST', '/event-types', { name: 'ticket.closed' })).status).toBe(201);
    await page.goto(`${base}/events`);
    await page.getByRole('button', { name: `Open event ${eventId}: ticket.created` }).waitFor();
    await page.getByLabel('Event type').selectOption('ticket.closed');
    await page.getByText('No events match these filters').waitFor();
    expect(page.url()).toContain('event_type=ticket.closed');
    await page.getByLabel('Event type').selectOption('ticket.created');
    await page.getByLabel('Time').selectOption('1h');
    await page.getByRole('button', { name: `Open event ${eventId}: ticket.created` }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: `Open event ${eventId}: ticket.created` }).waitFor();
    // The select shows the type once its options (the types, loaded apart) are there.
    await expect.poll(() => page.getByLabel('Event type').inputValue()).toBe('ticket.created');
  });

  it('shows a viewer the events but no way to publish', async () => {
    const viewer = await api('POST', '/api-keys', { name: 'viewer', role: 'viewer' });
    expect(viewer.status).toBe(201);
    const p = (await newPage(browser, { width: 1280, height: 860, errors })).page;
    await signIn(p, base, viewer.body.key);
    await p
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Events', exact: true })
      .click();
    await p.getByRole('button', { name: `Open event ${eventId}: ticket.created` }).waitFor();
    expect(await p.getByRole('button', { name: 'Publish event' }).count()).toBe(0);
    await p.goto(`${base}/events?publish=ticket.created`);
    await p.getByRole('button', { name: `Open event ${eventId}: ticket.created` }).waitFor();
    expect(await p.getByRole('heading', { name: 'Publish an event' }).count()).toBe(0);
    await p.goto(`${base}/event-types`);
    await p.getByRole('cell', { name: 'ticket.created', exact: true }).waitFor();
    expect(await p.getByRole('button', { name: /^Publish/ }).count()).toBe(0);
    await p.context().close();
  });

  it('logged no console errors and no uncaught exceptions', () => {
    expect(errors).toEqual([]);
  });
});
