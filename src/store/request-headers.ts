/**
 * An attempt's request headers, stored without what every attempt repeats
 * (docs/delivery-states.md, "The attempt log"; sql/000108_request_header_sets.sql).
 *
 * Of the eight or more headers an attempt sends, only the signatures are its own.
 * `content-type`, `user-agent`, the custom headers and the credential's scheme are
 * the same on every attempt of a webhook: they are stored once, as a header set that
 * the attempt names. `webhook-id` and `x-webhook-event` are the delivery's event id
 * and type, and both timestamps are the attempt's `started_at` in seconds: the set
 * lists their names only, and the log puts the values back when it is read. A value
 * that differs from what it would be derived from (a relay reports what it sent)
 * stays in the attempt row, so what is read back is always what was stored.
 *
 * A set is named by a hash of its webhook and content, so the attempts of one
 * webhook share one row, and it goes when its webhook is deleted (its custom
 * headers may carry a receiver's credential). It carries `used_at`, moved forward at most hourly by each
 * process that uses it, and retention removes the sets unused for longer than the
 * attempts themselves are kept (src/worker/retention.ts).
 */
import { createHash } from 'node:crypto';

/** Headers whose values only this attempt has: they stay in its row. */
const OWN_HEADERS = new Set(['webhook-signature', 'x-webhook-signature']);

/** What an attempt's derived headers are derived from. */
export interface AttemptFacts {
  /** The delivery's event id: `webhook-id`. Absent: not derived. */
  eventId?: string;
  /** The delivery's event type: `x-webhook-event`. Absent: not derived. */
  eventType?: string;
  /** The attempt's start: both timestamps, in unix seconds. */
  startedAt: Date;
}

function derivedValue(name: string, facts: AttemptFacts): string | undefined {
  switch (name) {
    case 'webhook-id':
      return facts.eventId;
    case 'x-webhook-event':
      return facts.eventType;
    case 'webhook-timestamp':
    case 'x-webhook-timestamp':
      return String(Math.floor(facts.startedAt.getTime() / 1000));
    default:
      return undefined;
  }
}

/** One row of `request_header_sets`, as the writers send it. */
export interface HeaderSet {
  id: string;
  webhook_id: string;
  headers: Record<string, string>;
  /** Names whose values are derived from the attempt when it is read. */
  derived: string[];
}

export interface SplitHeaders {
  /** What stays in the attempt row (`request_headers`). */
  own: Record<string, string>;
  set: HeaderSet;
}

// Hashing is skipped for a content already seen: a worker sees a few sets over and over.
const idsByContent = new Map<string, string>();
const MAX_REMEMBERED = 10_000;

function setId(content: string): string {
  let id = idsByContent.get(content);
  if (id === undefined) {
    id = createHash('sha256').update(content).digest('base64url').slice(0, 22);
    if (idsByContent.size >= MAX_REMEMBERED) idsByContent.clear();
    idsByContent.set(content, id);
  }
  return id;
}

/** Splits what an attempt sent into its own headers and the set it shares. */
export function splitRequestHeaders(
  webhookId: string,
  headers: Record<string, string>,
  facts: AttemptFacts,
): SplitHeaders {
  const own: Record<string, string> = {};
  const shared: Record<string, string> = {};
  const derived: string[] = [];
  // Sorted, so the same headers make the same content (and name the same set) in any order.
  for (const name of Object.keys(headers).sort()) {
    const value = headers[name];
    if (OWN_HEADERS.has(name)) {
      own[name] = value;
      continue;
    }
    const d = derivedValue(name, facts);
    if (d === undefined) shared[name] = value;
    else if (d === value) derived.push(name);
    else own[name] = value;
  }
  const id = setId(JSON.stringify([webhookId, shared, derived]));
  return { own, set: { id, webhook_id: webhookId, headers: shared, derived } };
}

/** The headers an attempt sent, put together again from its row and its set (null: none found). */
export function joinRequestHeaders(
  own: Record<string, string> | null,
  set: { headers: Record<string, string>; derived: string[] } | null,
  facts: AttemptFacts,
): Record<string, string> {
  if (!set) return own ?? {};
  const out: Record<string, string> = { ...set.headers };
  for (const name of set.derived) {
    const v = derivedValue(name, facts);
    if (v !== undefined) out[name] = v;
  }
  return Object.assign(out, own);
}

// When this process last moved each set's used_at forward.
const refreshedAt = new Map<string, number>();
/** How often a set's `used_at` is moved forward while it is used (retention keeps a margin of a day). */
export const SET_REFRESH_MS = 60 * 60 * 1000;

/** A set to write, with whether its `used_at` is due to move forward. */
export type HeaderSetRow = HeaderSet & { refresh: boolean };

/**
 * The distinct sets of a batch, each marked for a refresh of `used_at` when this process
 * has not moved it forward within SET_REFRESH_MS. The others are inserted if missing and
 * otherwise left alone: an upsert locks the row it meets, and every worker meets the same few.
 */
export function setsToWrite(sets: Iterable<HeaderSet>, now = Date.now()): HeaderSetRow[] {
  const out = new Map<string, HeaderSetRow>();
  for (const s of sets) {
    if (out.has(s.id)) continue;
    const last = refreshedAt.get(s.id);
    const refresh = last === undefined || now - last >= SET_REFRESH_MS;
    if (refresh) {
      if (refreshedAt.size >= MAX_REMEMBERED) refreshedAt.clear();
      refreshedAt.set(s.id, now);
    }
    out.set(s.id, { ...s, refresh });
  }
  return [...out.values()];
}

/**
 * CTEs that write the sets of `$param` (HeaderSetRow[] as JSON) before the attempts that
 * name them: inserted when missing, `used_at` moved forward for those marked.
 */
export const WRITE_HEADER_SETS = (param: string) => `
  set_rows AS (
    SELECT * FROM json_to_recordset(${param}::json)
                  AS n(id text, webhook_id text, headers jsonb, derived text[], refresh boolean)
  ), new_sets AS (
    INSERT INTO request_header_sets (id, webhook_id, headers, derived)
    SELECT id, webhook_id, headers, derived FROM set_rows WHERE NOT refresh
    ON CONFLICT (id) DO NOTHING
  ), refreshed_sets AS (
    INSERT INTO request_header_sets (id, webhook_id, headers, derived)
    SELECT id, webhook_id, headers, derived FROM set_rows WHERE refresh
    ON CONFLICT (id) DO UPDATE SET used_at = now()
  )`;
