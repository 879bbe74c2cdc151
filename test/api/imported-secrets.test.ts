import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type OrgFixture, type TestApp } from '../support/app.js';

// Secrets imported as they are, on create and on rotate (docs/endpoint-security.md,
// "Imported secrets"): shown back as given, sealed at rest, and refused with a 422 on
// `secret` when they are of no shape Hookline can key.
const KEY = Buffer.alloc(32, 9).toString('base64');
const PLAIN = 'github-style secret: 0123456789 abcdef!';
const WHSEC = `whsec_${Buffer.alloc(40, 5).toString('base64')}`;

let t: TestApp;
let o: OrgFixture;

beforeAll(async () => {
  t = await createTestApp({ encryptionKey: KEY });
  o = await t.newOrg();
  expect((await o.admin('POST', '/event-types', { name: 'thing.happened' })).status).toBe(201);
});
afterAll(async () => {
  await t?.close();
});

const create = (extra: Record<string, unknown>) =>
  o.admin('POST', '/webhooks', {
    name: 'hook',
    url: 'http://127.0.0.1:9/in',
    events: ['thing.happened'],
    ...extra,
  });
const column = async (id: string) =>
  JSON.stringify(
    (await t.db.query('SELECT secret, previous_secrets FROM webhooks WHERE id = $1', [id])).rows[0],
  );
const auditText = async (id: string) =>
  JSON.stringify(
    (await t.db.query('SELECT changes FROM audit_log WHERE target_id = $1', [id])).rows,
  );

const bad: Array<[string, string]> = [
  ['23 characters', 'a'.repeat(23)],
  ['129 characters', 'a'.repeat(129)],
  ['a control character', `${'a'.repeat(30)}\u0007`],
  ['a tab', `${'a'.repeat(30)}\t`],
  ['a character outside ASCII', `${'a'.repeat(30)}€`],
  ['a space at the end', `${'a'.repeat(30)} `],
  ['whsec_ with bad base64', `whsec_${'*'.repeat(40)}`],
  ['whsec_ of 16 bytes', `whsec_${Buffer.alloc(16).toString('base64')}`],
  ['whsec_ of 65 bytes', `whsec_${Buffer.alloc(65).toString('base64')}`],
];

describe('imported secrets', () => {
  it('a plain secret is kept as given, shown by GET /secret, sealed at rest and not audited', async () => {
    const res = await create({ secret: PLAIN });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.secret).toBe(PLAIN);
    expect((await o.admin('GET', `/webhooks/${res.body.id}/secret`)).body.secret).toBe(PLAIN);
    expect(await column(res.body.id)).not.toContain('0123456789 abcdef');
    expect(await column(res.body.id)).toMatch(/enc:v1:/);
    expect(await auditText(res.body.id)).not.toContain('0123456789 abcdef');
    expect(JSON.stringify((await o.admin('GET', `/webhooks/${res.body.id}`)).body)).not.toContain(
      PLAIN,
    );
  });

  it('whsec_ secrets of 24 to 64 bytes are imported too', async () => {
    const res = await create({ secret: WHSEC });
    expect(res.status).toBe(201);
    expect((await o.admin('GET', `/webhooks/${res.body.id}/secret`)).body.secret).toBe(WHSEC);
  });

  it('rotate-secret takes an imported secret; the old one is kept sealed for the grace', async () => {
    const { body: created } = await create({});
    const res = await o.admin('POST', `/webhooks/${created.id}/rotate-secret`, {
      secret: PLAIN,
      grace_seconds: 60,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.secret).toBe(PLAIN);
    expect(res.body.previous_secret_expires_at).not.toBeNull();
    expect((await o.admin('GET', `/webhooks/${created.id}/secret`)).body.secret).toBe(PLAIN);
    const stored = await column(created.id);
    expect(stored).not.toContain('0123456789 abcdef');
    expect(stored).not.toContain(created.secret.slice('whsec_'.length));
    expect(await auditText(created.id)).toContain('"secret_imported":true');
    expect(await auditText(created.id)).not.toContain('0123456789 abcdef');
  });

  it.each(bad)('refuses a secret with %s on create and on rotate: 422 on secret', async (_l, s) => {
    const before = (await t.db.query('SELECT count(*)::int AS n FROM webhooks')).rows[0].n;
    const res = await create({ secret: s });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(['secret']);
    expect((await t.db.query('SELECT count(*)::int AS n FROM webhooks')).rows[0].n).toBe(before);

    const { body: created } = await create({});
    const rotated = await o.admin('POST', `/webhooks/${created.id}/rotate-secret`, { secret: s });
    expect(rotated.status).toBe(422);
    expect(rotated.body.error.details.map((d: { field: string }) => d.field)).toEqual(['secret']);
    expect((await o.admin('GET', `/webhooks/${created.id}/secret`)).body.secret).toBe(
      created.secret,
    );
  });

  it('a viewer cannot rotate to an imported secret', async () => {
    const { body: created } = await create({});
    const res = await o.viewer('POST', `/webhooks/${created.id}/rotate-secret`, { secret: PLAIN });
    expect(res.status).toBe(403);
  });
});
