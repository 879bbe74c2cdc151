import type { Queryable } from './db.js';
import { WEBHOOK_KEY_NAMES } from './names.js';
import type { SecretBox } from '../core/secret-box.js';
import { endpointView, type EndpointView, type StoredEndpoint } from '../core/endpoint-security.js';
import type { Filter } from '../core/filter.js';
import type { Transformation } from '../core/transformation.js';
import { circuitView, type CircuitColumns, type CircuitView } from '../core/circuit.js';

/** A secret of an earlier rotation, still signing until `expires_at`; `secret` is stored sealed like the current one. */
export interface PreviousSecret {
  secret: string;
  expires_at: string;
}

/** The fields a client may set, with the defaults of docs/api.md ("Webhooks") applied (see routes/webhooks.ts). */
export interface WebhookSettings {
  name: string;
  url: string;
  description: string | null;
  events: string[];
  custom_headers: Record<string, string>;
  is_active: boolean;
  timeout_seconds: number;
  retry_attempts: number;
  retry_delay_seconds: number;
  rate_limit_per_second: number | null;
  ordering: 'none' | 'fifo';
  /** Routing (docs/routing.md): null or absent when unused. */
  filter?: Filter | null;
  include_fields?: string[] | null;
  transformation?: Transformation | null;
  /** Failed attempts in a row that open its circuit (0: never); null or absent: the server's --circuit-failures. */
  circuit_failures?: number | null;
}

/** What Hookline keeps about a webhook beside its settings; `T` is how a time is held (Date in a row, ISO text in the API). */
interface WebhookState<T> {
  id: string;
  /** The tenant it belongs to (docs/tenants.md); null for the organization's own. Fixed at creation. */
  tenant_id: string | null;
  failure_count: number;
  last_triggered_at: T | null;
  last_success_at: T | null;
  disabled_reason: string | null;
  created_at: T;
  updated_at: T;
  created_by: string | null;
  updated_by: string | null;
  /** The names of those keys (src/store/names.ts), read with the row where the statement asks. */
  created_by_name: string | null;
  updated_by_name: string | null;
}

/** One row of `webhooks`, as both adapters return it. `secret` is sealed (see secret-box.ts). */
export interface WebhookRow extends WebhookSettings, WebhookState<Date>, CircuitColumns {
  org_id: string;
  secret: string;
  previous_secrets: PreviousSecret[];
  first_failure_at: Date | null;
  /** Set when its tenant was deleted; the worker removes it soon (store/tenants.ts). */
  deleted_at: Date | null;
  /** Signature scheme, signing keys, TLS and auth, private parts sealed (core/endpoint-security.ts). */
  endpoint_security: StoredEndpoint;
}

/** The webhook as the API shows it: every column but the org and the secrets. */
export interface WebhookJson extends WebhookSettings, WebhookState<string>, EndpointView {
  /** When the current run of failed attempts began (the UI's "failing since"). */
  first_failure_at: string | null;
  /** The circuit breaker (docs/delivery-states.md, "Circuit breaker"). */
  circuit: CircuitView;
}

export const settableFields = [
  'name',
  'url',
  'description',
  'events',
  'custom_headers',
  'is_active',
  'timeout_seconds',
  'retry_attempts',
  'retry_delay_seconds',
  'rate_limit_per_second',
  'ordering',
  'filter',
  'include_fields',
  'transformation',
  'circuit_failures',
] as const satisfies ReadonlyArray<keyof WebhookSettings>;

// A jsonb column that may be SQL NULL: JSON.stringify(null) would store the JSON value null.
const jsonOrNull = (v: unknown) => (v == null ? null : JSON.stringify(v));

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The API shape of a webhook. Never includes a secret. */
export function toWebhookJson(row: WebhookRow): WebhookJson {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    name: row.name,
    url: row.url,
    description: row.description,
    events: row.events,
    custom_headers: row.custom_headers ?? {},
    is_active: row.is_active,
    timeout_seconds: row.timeout_seconds,
    retry_attempts: row.retry_attempts,
    retry_delay_seconds: row.retry_delay_seconds,
    rate_limit_per_second: row.rate_limit_per_second,
    ordering: row.ordering,
    filter: row.filter ?? null,
    include_fields: row.include_fields ?? null,
    transformation: row.transformation ?? null,
    circuit_failures: row.circuit_failures ?? null,
    failure_count: row.failure_count,
    first_failure_at: iso(row.first_failure_at),
    last_triggered_at: iso(row.last_triggered_at),
    last_success_at: iso(row.last_success_at),
    disabled_reason: row.disabled_reason,
    circuit: circuitView(row),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    created_by: row.created_by,
    updated_by: row.updated_by,
    created_by_name: row.created_by_name ?? null,
    updated_by_name: row.updated_by_name ?? null,
    ...endpointView(row.endpoint_security),
  };
}

/**
 * The opened secrets (`whsec_…` or imported) that sign a request now: the current one first,
 * then those of earlier rotations whose grace period has not ended (newest first).
 */
export function activeSecrets(
  row: Pick<WebhookRow, 'secret' | 'previous_secrets'>,
  box: SecretBox,
  now = new Date(),
): string[] {
  const previous = (row.previous_secrets ?? [])
    .filter((p) => new Date(p.expires_at).getTime() > now.getTime())
    .sort((a, b) => new Date(b.expires_at).getTime() - new Date(a.expires_at).getTime())
    .map((p) => box.open(p.secret));
  return [box.open(row.secret), ...previous];
}

/** One webhook of one organization; undefined when it does not exist there (callers answer 404). */
export async function getWebhookRow(
  q: Queryable,
  orgId: string,
  id: string,
): Promise<WebhookRow | undefined> {
  const { rows } = await q.query<WebhookRow>(
    `SELECT *, ${WEBHOOK_KEY_NAMES} FROM webhooks WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL`,
    [orgId, id],
  );
  return rows[0];
}

/** A page of webhooks, newest first; fetches `limit + 1` rows so the caller can tell if there is more. */
export async function listWebhookRows(
  q: Queryable,
  orgId: string,
  opts: { before?: string; limit: number; isActive?: boolean; tenantId?: string },
): Promise<WebhookRow[]> {
  const { rows } = await q.query<WebhookRow>(
    `SELECT *, ${WEBHOOK_KEY_NAMES} FROM webhooks
      WHERE org_id = $1 AND ($2::text IS NULL OR id < $2) AND ($3::boolean IS NULL OR is_active = $3)
        AND ($5::text IS NULL OR tenant_id = $5) AND deleted_at IS NULL
      ORDER BY id DESC LIMIT $4`,
    [orgId, opts.before ?? null, opts.isActive ?? null, opts.limit + 1, opts.tenantId ?? null],
  );
  return rows;
}

export async function insertWebhook(
  q: Queryable,
  w: WebhookSettings & {
    id: string;
    orgId: string;
    sealedSecret: string;
    keyId: string | null;
    tenantId?: string | null;
  },
): Promise<WebhookRow> {
  const { rows } = await q.query<WebhookRow>(
    `INSERT INTO webhooks (id, org_id, name, url, description, events, custom_headers, is_active, timeout_seconds,
       retry_attempts, retry_delay_seconds, rate_limit_per_second, ordering, secret, created_by, updated_by, tenant_id,
       filter, include_fields, transformation, circuit_failures)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $17, $18, $19, $20)
     RETURNING *, ${WEBHOOK_KEY_NAMES}`,
    [
      w.id,
      w.orgId,
      w.name,
      w.url,
      w.description,
      w.events,
      JSON.stringify(w.custom_headers),
      w.is_active,
      w.timeout_seconds,
      w.retry_attempts,
      w.retry_delay_seconds,
      w.rate_limit_per_second,
      w.ordering,
      w.sealedSecret,
      w.keyId,
      w.tenantId ?? null,
      jsonOrNull(w.filter),
      w.include_fields ?? null,
      jsonOrNull(w.transformation),
      w.circuit_failures ?? null,
    ],
  );
  return rows[0];
}

/**
 * Writes the given settings (only those present) to one webhook. Switching it back
 * on starts it afresh: the failure run, the reason Hookline disabled it and its
 * circuit (docs/delivery-states.md, "Circuit breaker") are cleared.
 */
export async function updateWebhook(
  q: Queryable,
  orgId: string,
  id: string,
  changes: Partial<WebhookSettings>,
  keyId: string | null,
): Promise<WebhookRow | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [orgId, id, keyId];
  for (const field of settableFields) {
    if (!(field in changes)) continue;
    const value = changes[field];
    params.push(
      field === 'custom_headers'
        ? JSON.stringify(value)
        : field === 'filter' || field === 'transformation'
          ? jsonOrNull(value)
          : value,
    );
    sets.push(`${field} = $${params.length}`);
  }
  if (changes.is_active === true) {
    sets.push(
      'failure_count = CASE WHEN is_active THEN failure_count ELSE 0 END',
      'first_failure_at = CASE WHEN is_active THEN first_failure_at ELSE NULL END',
      'disabled_reason = NULL',
      "circuit_since = CASE WHEN is_active OR circuit_state = 'closed' THEN circuit_since ELSE now() END",
      "circuit_state = CASE WHEN is_active THEN circuit_state ELSE 'closed' END",
      'circuit_next_probe_at = CASE WHEN is_active THEN circuit_next_probe_at ELSE NULL END',
      'circuit_probes_failed = CASE WHEN is_active THEN circuit_probes_failed ELSE 0 END',
    );
  }
  const { rows } = await q.query<WebhookRow>(
    `UPDATE webhooks SET ${[...sets, 'updated_by = $3', 'updated_at = now()'].join(', ')}
      WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING *, ${WEBHOOK_KEY_NAMES}`,
    params,
  );
  return rows[0];
}

/** Deletes one webhook; its deliveries and their attempts go with it (ON DELETE CASCADE). */
export async function deleteWebhook(q: Queryable, orgId: string, id: string): Promise<boolean> {
  const { rowCount } = await q.query(
    'DELETE FROM webhooks WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL',
    [orgId, id],
  );
  return rowCount > 0;
}
