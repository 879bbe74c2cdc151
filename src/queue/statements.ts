/**
 * The pieces of SQL every delivery transition shares, written once. The
 * states and the moves between them are described in docs/delivery-states.md;
 * every statement that writes a delivery's `state`, lease (`lease_expires_at`,
 * `worker_id`) or inserts a delivery lives in this folder (src/queue/).
 *
 * What is stored is `state` (every status but `sending`) and the lease; a
 * claimed delivery stays `pending` under its lease, so the claim writes no
 * indexed column and is a HOT update (sql/000103_hot_claim.sql). `status`, the
 * column readers read, is computed from the two: `sending` while leased.
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
 * WHERE fragment for a delivery `d` a worker may take: pending and held by no lease. The state
 * test matches the pending indexes' predicate (deliveries_webhook_due_idx, deliveries_fifo_idx);
 * the lease is read from the row, which for a webhook's due rows skips at most those in flight.
 */
export const CLAIMABLE = (d: string) => `${d}.state = 'pending' AND ${d}.lease_expires_at IS NULL`;

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
