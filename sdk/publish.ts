/**
 * Transactional publish (`hookline/publish`): an application that keeps its data
 * in the same PostgreSQL as Hookline publishes an event with its own connection,
 * inside its own transaction. The event and its deliveries commit or roll back
 * with the application's rows: the outbox pattern without a second system.
 *
 * ```ts
 * const client = await pool.connect();
 * await client.query('BEGIN');
 * await client.query('INSERT INTO orders …');
 * await publish(client, { eventType: 'order.created', payload: { id } });
 * await client.query('COMMIT'); // workers are woken by NOTIFY now, not before
 *
 * // postgres.js
 * await sql.begin(async (sql) => {
 *   await sql`INSERT INTO orders …`;
 *   await publish(sql, { eventType: 'order.created', payload: { id } });
 * });
 * ```
 *
 * It wraps the same `publishEvents` POST /events uses (src/store/events.ts), so the
 * rules are the same: a registered, not archived type; the type's JSON Schema; 256 KiB;
 * idempotency keys. It lives in sdk/ rather than src/ because it is a library
 * entry point for other applications, not part of the server.
 */
import { publishEvents, type PublishedEvent } from '../src/store/events.js';
import { HooklineError } from '../src/errors.js';
import type { Queryable } from '../src/store/db.js';

export { HooklineError } from '../src/errors.js';
export type { PublishedEvent } from '../src/store/events.js';

/** What `publish` needs of a node-postgres connection: `Client` and `PoolClient` have it. */
export interface PgLikeClient {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
}

/** What `publish` needs of postgres.js: the `sql` given to a `sql.begin(async (sql) => …)` callback. */
export interface PostgresJsLike {
  unsafe(query: string, params?: any[]): PromiseLike<ArrayLike<any> & { count?: number | null }>;
}

/** A connection inside the caller's transaction: node-postgres or postgres.js. */
export type AppTransaction = PgLikeClient | PostgresJsLike;

export interface PublishParams {
  /** The organization; default: the one named `default` (created on first start). */
  orgId?: string;
  eventType: string;
  payload: unknown;
  /** The same key within 24 hours returns the first event and creates nothing. */
  idempotencyKey?: string;
  /**
   * Deliver to this tenant's webhooks only (docs/tenants.md); absent: to the organization's
   * own webhooks. A tenant never registered is accepted with 0 deliveries.
   */
  tenantId?: string;
}

/** The adapter from the application's connection to Hookline's Queryable. */
export function queryableOf(client: AppTransaction): Queryable {
  if (typeof (client as PostgresJsLike).unsafe === 'function') {
    const sql = client as PostgresJsLike;
    return {
      async query(text, params) {
        const result = await sql.unsafe(text, (params ?? []) as any[]);
        const rows = Array.from(result);
        return { rows, rowCount: result.count ?? rows.length };
      },
    };
  }
  const pgClient = client as PgLikeClient;
  return {
    async query(sql, params) {
      const r = await pgClient.query(sql, params as unknown[] | undefined);
      return { rows: r.rows, rowCount: r.rowCount ?? 0 };
    },
  };
}

const orgIds = new WeakMap<object, string>();

async function defaultOrgId(client: AppTransaction, q: Queryable): Promise<string> {
  const known = orgIds.get(client);
  if (known) return known;
  const { rows } = await q.query("SELECT id FROM organizations WHERE name = 'default'");
  if (!rows[0])
    throw new HooklineError('NOT_FOUND', 'There is no organization named "default": pass orgId.');
  orgIds.set(client, rows[0].id as string);
  return rows[0].id as string;
}

/**
 * Publishes one event inside the caller's open transaction (it refuses to run
 * outside one: the event and its deliveries would not be atomic with anything).
 * A refused publish (422 unknown type or bad payload, 413, 409) throws
 * HooklineError and leaves the caller's transaction usable: it is undone to a
 * savepoint, so the application may still commit its own rows.
 */
export async function publish(
  client: AppTransaction,
  params: PublishParams,
): Promise<PublishedEvent> {
  const [event] = await publishMany(client, [params]);
  return event;
}

/** Publishes several events in the caller's transaction, all or none. */
export async function publishMany(
  client: AppTransaction,
  events: PublishParams[],
): Promise<PublishedEvent[]> {
  if (events.length === 0) return [];
  const tx = queryableOf(client);
  try {
    await tx.query('SAVEPOINT hookline_publish');
  } catch (err) {
    // 25P01: no_active_sql_transaction.
    if ((err as { code?: string }).code === '25P01') {
      throw new Error(
        'hookline publish() must run inside a transaction: BEGIN on this pg client first, or call it with the sql of a postgres.js sql.begin().',
        { cause: err },
      );
    }
    throw err;
  }
  try {
    const byOrg = new Map<string, Array<{ index: number; params: PublishParams }>>();
    for (const [index, params] of events.entries()) {
      const orgId = params.orgId ?? (await defaultOrgId(client, tx));
      byOrg.set(orgId, [...(byOrg.get(orgId) ?? []), { index, params }]);
    }
    const out: PublishedEvent[] = new Array(events.length);
    for (const [orgId, group] of byOrg) {
      const published = await publishEvents(
        tx,
        orgId,
        group.map(({ params }) => ({
          eventType: params.eventType,
          payload: params.payload,
          idempotencyKey: params.idempotencyKey ?? null,
          tenantId: params.tenantId ?? null,
        })),
      );
      group.forEach(({ index }, i) => (out[index] = published[i]));
    }
    await tx.query('RELEASE SAVEPOINT hookline_publish');
    return out;
  } catch (err) {
    await tx.query('ROLLBACK TO SAVEPOINT hookline_publish').catch(() => {});
    throw err;
  }
}
