/**
 * Start-up on a database that already has organizations: what HOOKLINE_ADMIN_KEY and --demo
 * do there, and that each is said in a notice instead of being dropped.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrap } from '../../src/bootstrap.js';
import { newOrganization } from '../../src/new-organization.js';
import { hashApiKey } from '../../src/core/api-keys.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const dbs: TestDatabase[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

/** A migrated database holding only the organization `acme` (made by `hookline orgs create`). */
async function withAcmeOnly(): Promise<TestDatabase> {
  const t = await createTestDatabase();
  dbs.push(t);
  await newOrganization(t.db, 'acme');
  return t;
}

async function orgNames(t: TestDatabase): Promise<string[]> {
  const { rows } = await t.db.query<{ name: string }>(
    'SELECT name FROM organizations ORDER BY name',
  );
  return rows.map((r) => r.name);
}

/** The organization and role a key opens, by its hash, as the API finds it. */
async function keyOwner(t: TestDatabase, key: string) {
  const { rows } = await t.db.query<{ name: string; role: string; revoked_at: Date | null }>(
    `SELECT o.name, k.role, k.revoked_at FROM api_keys k JOIN organizations o ON o.id = k.org_id
      WHERE k.key_hash = $1`,
    [hashApiKey(key)],
  );
  return rows[0];
}

const adminKey = 'an-operator-chosen-admin-key-' + 'x'.repeat(10);

describe('bootstrap on a database that has organizations', () => {
  it('adds an unknown HOOKLINE_ADMIN_KEY as an admin key of a new `default` and says so', async () => {
    const t = await withAcmeOnly();
    const r = await bootstrap(t.db, { adminKey });
    expect(r.created).toBeUndefined();
    expect(r.notices).toEqual([
      {
        level: 'info',
        message: expect.stringContaining(
          'added it as an admin key of organization "default" (created)',
        ),
      },
    ]);
    expect(await orgNames(t)).toEqual(['acme', 'default']);
    expect(await keyOwner(t, adminKey)).toMatchObject({ name: 'default', role: 'admin' });
    // `default` has what every organization has.
    const types = await t.db.query(
      `SELECT 1 FROM event_types e JOIN organizations o ON o.id = e.org_id
        WHERE o.name = 'default' AND e.name = 'hookline.webhook.disabled'`,
    );
    expect(types.rows).toHaveLength(1);

    // The next start knows the key: nothing to add, nothing to say.
    const again = await bootstrap(t.db, { adminKey });
    expect(again.notices).toEqual([]);
    const { rows } = await t.db.query('SELECT 1 FROM api_keys');
    expect(rows).toHaveLength(1);
  });

  it('adds it to an existing `default` without creating another', async () => {
    const t = await withAcmeOnly();
    await newOrganization(t.db, 'default');
    const r = await bootstrap(t.db, { adminKey });
    expect(r.notices[0].message).toMatch(/organization "default"$/);
    expect(await orgNames(t)).toEqual(['acme', 'default']);
    expect(await keyOwner(t, adminKey)).toMatchObject({ name: 'default', role: 'admin' });
  });

  it('warns about a revoked HOOKLINE_ADMIN_KEY and leaves it revoked', async () => {
    const t = await withAcmeOnly();
    await bootstrap(t.db, { adminKey });
    await t.db.query('UPDATE api_keys SET revoked_at = now()');
    const r = await bootstrap(t.db, { adminKey });
    expect(r.notices).toEqual([
      {
        level: 'warn',
        message: expect.stringContaining('is a revoked key of organization "default"'),
      },
    ]);
    expect((await keyOwner(t, adminKey))?.revoked_at).not.toBeNull();
  });

  it('--demo with no `default`: creates it, loads every organization and says where', async () => {
    const t = await withAcmeOnly();
    const r = await bootstrap(t.db, { demo: true });
    expect(r.notices.map((n) => n.message)).toEqual([
      '--demo: created organization "default" to load the demo catalogs into',
      '--demo: the demo catalogs are loaded into organizations "acme", "default"',
    ]);
    const { rows } = await t.db.query<{ name: string }>(
      `SELECT o.name FROM event_types e JOIN organizations o ON o.id = e.org_id
        WHERE e.name = 'ticket.created' ORDER BY o.name`,
    );
    expect(rows.map((x) => x.name)).toEqual(['acme', 'default']);
  });
});
