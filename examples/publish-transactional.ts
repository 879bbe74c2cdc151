/**
 * An application publishing events in its own PostgreSQL transactions (the
 * outbox pattern without a second system): the order row and the
 * `order.created` event commit together or not at all, and Hookline's workers
 * are woken by the commit.
 *
 *   DATABASE_URL=postgres://… node --import tsx examples/publish-transactional.ts
 *
 * The application's tables live in the same database as Hookline's. In your own
 * app, import from 'hookline/publish' instead of '../sdk/publish.js'.
 */
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { publish, type PublishedEvent } from '../sdk/publish.js';

export interface Order {
  id: string;
  customer: string;
  totalCents: number;
}

/** Creates an order and publishes `order.created` atomically. Throws (and writes nothing) when either fails. */
export async function createOrder(
  pool: pg.Pool,
  order: Order,
  opts: { failAfterPublish?: boolean } = {},
): Promise<PublishedEvent> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('INSERT INTO orders (id, customer, total_cents) VALUES ($1, $2, $3)', [
      order.id,
      order.customer,
      order.totalCents,
    ]);
    const event = await publish(client, {
      eventType: 'order.created',
      payload: { id: order.id, customer: order.customer, total_cents: order.totalCents },
      // The order id makes a retried request publish once.
      idempotencyKey: `order.created:${order.id}`,
    });
    if (opts.failAfterPublish) throw new Error('the application failed after publishing');
    await client.query('COMMIT');
    return event;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

export async function createSchema(pool: pg.Pool): Promise<void> {
  await pool.query(
    'CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, customer text NOT NULL, total_cents integer NOT NULL)',
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  await createSchema(pool);
  const event = await createOrder(pool, {
    id: `ord_${Date.now()}`,
    customer: 'ada',
    totalCents: 4200,
  });
  console.log(`order committed with event ${event.id} (${event.deliveries} deliveries queued)`);
  await pool.end();
}
