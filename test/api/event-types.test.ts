import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

describe('event types', () => {
  it('creates a type whose category defaults to the part before the first dot', async () => {
    const res = await t.org.admin('POST', '/event-types', {
      name: 'ticket.created',
      description: 'A ticket was opened',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'ticket.created',
      category: 'ticket',
      archived: false,
      schema: null,
    });
  });

  it('refuses names that do not match the pattern, naming the field', async () => {
    for (const name of [
      'ticket',
      'Ticket.created',
      'ticket..created',
      'ticket.created.',
      'tické.x',
      '.x',
    ]) {
      const res = await t.org.admin('POST', '/event-types', { name });
      expect(res.status, name).toBe(422);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'name' })]);
    }
  });

  it('refuses unknown fields and wrong types with 422', async () => {
    const res = await t.org.admin('POST', '/event-types', {
      name: 'a.b',
      colour: 'red',
      description: 5,
    });
    expect(res.status).toBe(422);
    const fields = res.body.error.details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(['colour', 'description']);
  });

  it('refuses an invalid JSON Schema', async () => {
    const res = await t.org.admin('POST', '/event-types', {
      name: 'a.bad_schema',
      schema: { type: 'no-such-type' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].field).toBe('schema');
  });

  it('answers 409 to a duplicate, and 400 to malformed JSON or bad UTF-8', async () => {
    await t.org.admin('POST', '/event-types', { name: 'dup.one' });
    expect((await t.org.admin('POST', '/event-types', { name: 'dup.one' })).status).toBe(409);
    const malformed = await t.org.admin('POST', '/event-types', '{"name": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('MALFORMED_JSON');
    const badUtf8 = await t.org.admin(
      'POST',
      '/event-types',
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    );
    expect(badUtf8.status).toBe(400);
  });

  it('archives on DELETE, hides archived types from the default list, restores on PATCH', async () => {
    await t.org.admin('POST', '/event-types', { name: 'old.thing' });
    const del = await t.org.admin('DELETE', '/event-types/old.thing');
    expect(del.status).toBe(200);
    expect(del.body.archived).toBe(true);
    const list = await t.org.admin('GET', '/event-types?limit=500');
    expect(list.body.data.map((e: { name: string }) => e.name)).not.toContain('old.thing');
    const all = await t.org.admin('GET', '/event-types?limit=500&include_archived=true');
    expect(all.body.data.map((e: { name: string }) => e.name)).toContain('old.thing');
    const restored = await t.org.admin('PATCH', '/event-types/old.thing', {
      archived: false,
      description: 'back',
    });
    expect(restored.body).toMatchObject({ archived: false, description: 'back' });
  });

  it('lets publishers and viewers read the catalog but not change it', async () => {
    expect((await t.org.publisher('GET', '/event-types')).status).toBe(200);
    expect((await t.org.viewer('GET', '/event-types/ticket.created')).status).toBe(200);
    expect((await t.org.publisher('POST', '/event-types', { name: 'p.x' })).status).toBe(403);
    expect((await t.org.viewer('DELETE', '/event-types/ticket.created')).status).toBe(403);
  });

  it('keeps each organization to its own catalog', async () => {
    const other = await t.newOrg();
    expect((await other.admin('GET', '/event-types/ticket.created')).status).toBe(404);
    expect(
      (await other.admin('PATCH', '/event-types/ticket.created', { description: 'x' })).status,
    ).toBe(404);
  });

  it('pages through the catalog with cursors', async () => {
    for (let i = 0; i < 7; i++)
      await t.org.admin('POST', '/event-types', { name: `page.item_${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await t.org.admin(
        'GET',
        `/event-types?category=page&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.data.map((e: { name: string }) => e.name));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `page.item_${i}`));
    expect((await t.org.admin('GET', '/event-types?cursor=%%%')).status).toBe(422);
    expect((await t.org.admin('GET', '/event-types?limit=501')).status).toBe(422);
  });

  it('has the built-in hookline.* types, which cannot be changed', async () => {
    const res = await t.org.viewer('GET', '/event-types/hookline.webhook.disabled');
    expect(res.status).toBe(200);
    expect((await t.org.admin('DELETE', '/event-types/hookline.webhook.disabled')).status).toBe(
      409,
    );
    expect((await t.org.admin('POST', '/event-types', { name: 'hookline.mine' })).status).toBe(422);
  });
});
