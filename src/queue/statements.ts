/**
 * The pieces of SQL every delivery transition shares, written once. The
 * states and the moves between them are described in docs/delivery-states.md;
 * every statement that writes a delivery's `state`, lease (`lease_expires_at`,
 * `worker_id`) or inserts a delivery lives in this folder (src/queue/).
 *
 * What is stored is `state` (every status but `sending`) and the lease; a
 * claimed delivery stays `pending` under its lease (sql/000103_hot_claim.sql).
 * `status`, the column readers read, is computed from the two: `sending` while
 * leased. The pending deliveries are found through `delivery_queue`, one narrow
 * row each, kept by triggers (sql/000106_delivery_queue.sql): no index of
 * `deliveries` covers the state, the due time or the lease, so the claim and the
 * record are HOT updates.
 */

/** Every status a delivery can have (docs/delivery-states.md, "States"). */
export const DELIVERY_STATUSES = [
  'pending',
  'sending',
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
] as const;

export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The final statuses: no worker sends them again unless an operator retries or replays them. */
export const TERMINAL_STATUSES: readonly DeliveryStatus[] = [
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
];

/** SQL list of the final statuses, for `state IN ${TERMINAL_SQL}` (or `status`: the same for these). */
export const TERMINAL_SQL = `(${TERMINAL_STATUSES.map((s) => `'${s}'`).join(', ')})`;

/** SET fragment that drops a delivery's lease: no worker holds it any more. */
export const CLEAR_LEASE = 'lease_expires_at = NULL, worker_id = NULL';

/** SET fragment that hands a leased delivery back to the queue, due now and unleased. */
export const BACK_TO_QUEUE = `state = 'pending', ${CLEAR_LEASE}, next_attempt_at = now(), updated_at = now()`;

/**
 * WHERE fragment for a delivery `d` a worker may take: pending and held by no lease. The lease
 * is read from the row, which for a webhook's due rows skips at most those in flight.
 */
export const CLAIMABLE = (d: string) => `${d}.state = 'pending' AND ${d}.lease_expires_at IS NULL`;

/**
 * WHERE fragment for a delivery `d` found through the queue (QUEUED) that a worker may take:
 * held by no lease. Its queue row says it is pending in the statement's snapshot, so the state
 * is not tested here; a statement that locks the row tests it again where it writes it, by key,
 * since the row may have changed meanwhile. How these walks stay walks in index order whatever
 * the statistics say: src/store/planner.ts.
 */
export const UNLEASED = (d: string) => `${d}.lease_expires_at IS NULL`;

/**
 * FROM fragment: the queue's rows `q` (one per pending delivery, sql/000106_delivery_queue.sql)
 * with their delivery `d`, for the statements that walk a webhook's rows through the queue's
 * indexes in due or seq order and stop early (a LIMIT): each row found is looked up by key.
 */
export const QUEUED = (q: string, d: string) =>
  `delivery_queue ${q} JOIN deliveries ${d} ON ${d}.id = ${q}.delivery_id`;

/**
 * FROM fragment for the statements that read the whole queue (the reaper, the gauges): the
 * queue's rows `q` with their delivery's lease as `l.lease_expires_at`, one lookup by key per
 * row (`OFFSET 0` keeps it a lookup), never a hash of the whole log, whatever its statistics say.
 */
export const QUEUED_LEASE = (q: string, l: string) =>
  `delivery_queue ${q}
   CROSS JOIN LATERAL (SELECT y.lease_expires_at FROM deliveries y WHERE y.id = ${q}.delivery_id OFFSET 0) ${l}`;

/**
 * The columns of a claimed delivery (`ClaimedDelivery`) read from the delivery
 * `d` and its event `e`.
 */
export const CLAIMED_DELIVERY_COLUMNS = `d.id, d.org_id, d.webhook_id, d.event_id, d.event_type, d.attempts, d.manual_attempts,
          e.payload::text AS payload_text, e.created_at AS event_created_at`;

/** The columns of a claimed delivery (`ClaimedWebhook`) read from its webhook `w`. */
export const CLAIMED_WEBHOOK_COLUMNS = `w.url, w.name AS webhook_name, w.tenant_id, w.is_active, w.timeout_seconds, w.retry_attempts,
          w.retry_delay_seconds, w.rate_limit_per_second, w.ordering, w.custom_headers, w.secret, w.previous_secrets,
          w.updated_at AS webhook_updated_at, w.endpoint_security, w.include_fields, w.transformation`;

/**
 * Both, for a statement that reads one delivery; except the circuit probe
 * columns, which each claim adds its own way.
 */
export const CLAIMED_COLUMNS = `${CLAIMED_DELIVERY_COLUMNS},
          ${CLAIMED_WEBHOOK_COLUMNS}`;
