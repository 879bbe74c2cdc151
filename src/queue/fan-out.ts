/**
 * Fan-out (docs/delivery-states.md, "States"): new deliveries enter the queue
 * `pending`, due now, by the column defaults; and the test send's delivery,
 * which is written already finished so no worker ever sees it due.
 */
import { ID_ALPHABET } from '../ids.js';
import type { Queryable } from '../store/db.js';
import type { DeliveryStatus } from './statements.js';

/**
 * Inserts new `pending` deliveries, one per (webhook, event) pair, given as
 * parallel arrays. Rows go in array order, so seq (fifo order) follows the
 * arrays' order.
 */
export async function insertDeliveries(
  tx: Queryable,
  orgId: string,
  d: { ids: string[]; webhookIds: string[]; eventIds: string[]; eventTypes: string[] },
): Promise<void> {
  await tx.query(
    `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type)
       SELECT u.id, $1, u.webhook_id, u.event_id, u.event_type
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(id, webhook_id, event_id, event_type, n)
        ORDER BY u.n`,
    [orgId, d.ids, d.webhookIds, d.eventIds, d.eventTypes],
  );
}

// Delivery ids made by the database in newId's format: the event id's time part, then 16
// characters of Crockford base32, each the low 5 bits of one byte of a random UUID (79 random
// bits: one of those bits is the UUID's fixed version). gen_random_uuid() is in core PostgreSQL
// (13+) and PGlite, drawn from the strong random source; called once per row in the publish's `h`.
const RANDOM_PART = `(SELECT string_agg(substr('${ID_ALPHABET}', (get_byte(h.r, i) & 31) + 1, 1), '' ORDER BY i) FROM generate_series(0, 15) AS i)`;

/**
 * The fan-out of the one-statement publish (publishSimple in src/store/events.ts),
 * as the body of its CTE `d`: one `pending` delivery per row of `h` (the webhooks,
 * each with a random UUID `r`) for the event inserted in `e`, ids made from `$6`
 * (the event id's time part), `$1` the organization and `$2` the event type. It
 * stays one CTE of that prepared statement (no extra round trip on the publish path).
 */
export const PUBLISH_ONE_DELIVERIES = `
         INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type)
         SELECT 'dlv_' || $6::text || ${RANDOM_PART}, $1::text, h.id, e.id, $2::text
           FROM e, h ORDER BY h.id
         RETURNING 1
       `;

/**
 * Writes the test send's delivery already finished (`succeeded`, `failed` or
 * `skipped`, one attempt, `is_test`): the worker never sees it as due, so the
 * test is sent exactly once and never retried (docs/delivery-states.md).
 */
export async function insertFinishedTestDelivery(
  tx: Queryable,
  t: {
    id: string;
    orgId: string;
    webhookId: string;
    eventId: string;
    eventType: string;
    status: DeliveryStatus;
    statusCode: number | null;
    error: string | null;
    attemptedAt: Date;
    createdAt: Date;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, state, attempts, is_test,
                             last_status_code, last_error, last_attempt_at, completed_at, created_at, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, 1, true, $7, $8, $9, now(), $10, $10)`,
    [
      t.id,
      t.orgId,
      t.webhookId,
      t.eventId,
      t.eventType,
      t.status,
      t.statusCode,
      t.error,
      t.attemptedAt,
      t.createdAt,
    ],
  );
}
