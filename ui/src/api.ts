// A small typed client for the parts of the Hookline API the admin UI uses.
// The SDK (sdk/) has the full typed client for applications; this one stays
// small on purpose, so the UI bundle carries only what it needs.

import type { Operations } from '../../src/client/api-types';

// The shapes of the API's answers come from src/client/api-types.ts, which the SDK generates
// from the server's own OpenAPI document (a test fails when it is stale): the UI and the SDK
// share one set of types, so a route change that breaks the UI fails its typecheck.
type Res<K extends keyof Operations> = Operations[K]['response'];
type Body<K extends keyof Operations> = Operations[K]['request'] extends { body?: infer B }
  ? B
  : never;
type Item<K extends keyof Operations> = Res<K> extends { data: Array<infer I> } ? I : never;

export type Role = Res<'GET /me'>['role'];
export type Me = Res<'GET /me'>;

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export type Webhook = Res<'GET /webhooks/{id}'> & { secret?: string };
export type WebhookInput = Body<'PATCH /webhooks/{id}'> & { secret?: string };
export type Ordering = Webhook['ordering'];
export type EventType = Res<'GET /event-types/{name}'>;
export type Delivery = Item<'GET /deliveries'>;
export type DeliveryStatus = Delivery['status'];
export type DeliveryDetail = Res<'GET /deliveries/{id}'>;
export type Attempt = DeliveryDetail['attempt_log'][number];
export type HooklineEvent = Res<'GET /events/{id}'>;
export type EventSummary = Item<'GET /events'>;
/** The answer to a publish: the event's id and how many deliveries it made. */
export type Published = Res<'POST /events'>;
export type PublishInput = Body<'POST /events'>;
export type TestResult = Res<'POST /webhooks/{id}/test'>;
export type ApiKey = Item<'GET /api-keys'>;
export type AuditEntry = Item<'GET /audit-log'>;
export type StatsWindow = NonNullable<
  NonNullable<Operations['GET /stats']['request']['query']>['window']
>;

/** One bucket of a stats series, as the charts draw it. */
export interface SeriesPoint {
  t: string;
  succeeded: number;
  failed: number;
  other: number;
}

/** Stats as the dashboard uses them: the API's counts, the series normalised for the charts. */
export type Stats = Pick<
  Res<'GET /stats'>,
  'total' | 'succeeded' | 'failed' | 'pending' | 'success_rate' | 'avg_attempts' | 'latency_ms'
> & {
  series: SeriesPoint[];
};

export interface FieldIssue {
  field: string;
  message: string;
}

/** An error answer of the API, with the server's own code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
    /** Seconds to wait before trying again, from a 429's (or 503's) Retry-After header. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The server refused because this key made too many requests (docs/api.md, "Rate limits": 429 with Retry-After). */
  get rateLimited(): boolean {
    return this.status === 429;
  }

  /** The 422 details as `{field, message}` pairs (empty for other errors). */
  get fields(): FieldIssue[] {
    if (!Array.isArray(this.details)) return [];
    return this.details.filter(
      (d): d is FieldIssue =>
        typeof d === 'object' &&
        d !== null &&
        typeof d.field === 'string' &&
        typeof d.message === 'string',
    );
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function qs(query?: Query): string {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

let apiKey: string | null = null;
let onUnauthorized: ((message: string) => void) | null = null;

export function setApiKey(key: string | null): void {
  apiKey = key;
}

/** Called when the server answers 401 to a signed-in request (key revoked): the app signs out. */
export function setUnauthorizedHandler(fn: (message: string) => void): void {
  onUnauthorized = fn;
}

/** One call of the API with the session's key (or `opts.key`); errors are ApiErrors. */
export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: { key?: string; onStatus?: (status: number) => void } = {},
): Promise<T> {
  const key = opts.key ?? apiKey;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(
      0,
      'NETWORK',
      `Could not reach the Hookline server (${(err as Error).message}).`,
      null,
    );
  }
  const text = await res.text();
  let json: any = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!res.ok) {
    const e = json?.error;
    const retry = Number(res.headers.get('retry-after'));
    const err = new ApiError(
      res.status,
      e?.code ?? `HTTP_${res.status}`,
      e?.message ?? `The server answered ${res.status} ${res.statusText}.`,
      e?.details ?? null,
      Number.isFinite(retry) && retry > 0 ? retry : undefined,
    );
    if (res.status === 401 && !opts.key && onUnauthorized) onUnauthorized(err.message);
    throw err;
  }
  opts.onStatus?.(res.status);
  return json as T;
}

function normalizeStats(raw: any): Stats {
  const series: SeriesPoint[] = Array.isArray(raw?.series)
    ? raw.series.map((p: any) => {
        const succeeded = Number(p.succeeded ?? 0);
        const failed = Number(p.failed ?? 0);
        const total = Number(p.total ?? p.count ?? succeeded + failed);
        return {
          t: String(p.t ?? p.bucket ?? p.start ?? p.time ?? p.timestamp ?? p.at ?? ''),
          succeeded,
          failed,
          other: Math.max(0, total - succeeded - failed),
        };
      })
    : [];
  return {
    total: Number(raw?.total ?? 0),
    succeeded: Number(raw?.succeeded ?? 0),
    failed: Number(raw?.failed ?? 0),
    pending: Number(raw?.pending ?? 0),
    success_rate: raw?.success_rate ?? null,
    avg_attempts: raw?.avg_attempts ?? null,
    latency_ms: {
      p50: raw?.latency_ms?.p50 ?? null,
      p95: raw?.latency_ms?.p95 ?? null,
      p99: raw?.latency_ms?.p99 ?? null,
    },
    series,
  };
}

/** The attempts of a delivery detail, first to last. */
export function attemptsOf(d: DeliveryDetail): Attempt[] {
  return d.attempt_log ?? [];
}

export interface DeliveryFilters extends Query {
  status?: string;
  event_type?: string;
  /** 'true': test sends only; 'false': published events only. */
  is_test?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

const enc = encodeURIComponent;

export const api = {
  me: (key?: string) => request<Me>('GET', '/me', undefined, { key }),

  listWebhooks: (q?: Query) => request<Page<Webhook>>('GET', `/webhooks${qs(q)}`),
  getWebhook: (id: string) => request<Webhook>('GET', `/webhooks/${enc(id)}`),
  createWebhook: (body: WebhookInput) => request<Webhook>('POST', '/webhooks', body),
  updateWebhook: (id: string, body: WebhookInput) =>
    request<Webhook>('PATCH', `/webhooks/${enc(id)}`, body),
  deleteWebhook: (id: string) => request<unknown>('DELETE', `/webhooks/${enc(id)}`),
  webhookSecret: (id: string) => request<{ secret: string }>('GET', `/webhooks/${enc(id)}/secret`),
  rotateSecret: (id: string, grace_seconds: number) =>
    request<{ secret: string }>('POST', `/webhooks/${enc(id)}/rotate-secret`, { grace_seconds }),
  resetCircuit: (id: string) =>
    request<{ circuit: Webhook['circuit'] }>('POST', `/webhooks/${enc(id)}/circuit/reset`),
  testWebhook: (id: string, body: { event_type?: string; payload?: unknown }) =>
    request<TestResult>('POST', `/webhooks/${enc(id)}/test`, body),
  replay: (
    id: string,
    body: {
      since: string;
      until?: string;
      status?: 'failed' | 'all';
      event_type?: string;
      dry_run?: boolean;
    },
  ) => request<{ queued?: number; matched?: number }>('POST', `/webhooks/${enc(id)}/replay`, body),
  /** Many webhooks' counts and small series in one call (GET /stats/webhooks), by webhook id. */
  webhooksTotals: async (ids: string[], window: StatsWindow) => {
    const page = await request<Res<'GET /stats/webhooks'>>(
      'GET',
      `/stats/webhooks${qs({ ids: ids.join(','), window })}`,
    );
    const out = new Map<string, Stats>();
    for (const w of page.data) {
      out.set(w.webhook_id, {
        total: w.total,
        succeeded: w.succeeded,
        failed: w.failed,
        pending: w.pending,
        success_rate: w.success_rate,
        avg_attempts: null,
        latency_ms: { p50: null, p95: null, p99: null },
        series: page.buckets.map((t, i) => ({
          t,
          succeeded: w.series.succeeded[i] ?? 0,
          failed: w.series.failed[i] ?? 0,
          other: Math.max(
            0,
            (w.series.total[i] ?? 0) - (w.series.succeeded[i] ?? 0) - (w.series.failed[i] ?? 0),
          ),
        })),
      });
    }
    return out;
  },
  webhookStats: async (id: string, window: StatsWindow) =>
    normalizeStats(await request<unknown>('GET', `/webhooks/${enc(id)}/stats${qs({ window })}`)),
  webhookDeliveries: (id: string, q?: DeliveryFilters) =>
    request<Page<Delivery>>('GET', `/webhooks/${enc(id)}/deliveries${qs(q)}`),

  stats: async (window: StatsWindow) =>
    normalizeStats(await request<unknown>('GET', `/stats${qs({ window })}`)),

  listDeliveries: (q?: DeliveryFilters) => request<Page<Delivery>>('GET', `/deliveries${qs(q)}`),
  getDelivery: (id: string) => request<DeliveryDetail>('GET', `/deliveries/${enc(id)}`),
  retryDelivery: (id: string) => request<Delivery>('POST', `/deliveries/${enc(id)}/retry`, {}),
  skipDelivery: (id: string) => request<Delivery>('POST', `/deliveries/${enc(id)}/skip`, {}),

  getEvent: (id: string) => request<HooklineEvent>('GET', `/events/${enc(id)}`),
  listEvents: (q?: Query) => request<Page<EventSummary>>('GET', `/events${qs(q)}`),
  /** `duplicate`: the idempotency key was used before (200): the first event is returned, nothing new was sent. */
  publishEvent: async (body: PublishInput): Promise<Published & { duplicate: boolean }> => {
    let status = 0;
    const r = await request<Published>('POST', '/events', body, { onStatus: (s) => (status = s) });
    return { ...r, duplicate: status === 200 };
  },

  listEventTypes: (q?: Query) => request<Page<EventType>>('GET', `/event-types${qs(q)}`),
  createEventType: (body: {
    name: string;
    description?: string;
    category?: string;
    schema?: unknown;
  }) => request<EventType>('POST', '/event-types', body),
  updateEventType: (
    name: string,
    body: { description?: string | null; category?: string; schema?: unknown; archived?: boolean },
  ) => request<EventType>('PATCH', `/event-types/${enc(name)}`, body),
  archiveEventType: (name: string) => request<EventType>('DELETE', `/event-types/${enc(name)}`),

  listApiKeys: (q?: Query) => request<Page<ApiKey>>('GET', `/api-keys${qs(q)}`),
  createApiKey: (body: { name?: string; role: Role }) =>
    request<ApiKey & { key: string }>('POST', '/api-keys', body),
  revokeApiKey: (id: string) => request<ApiKey>('DELETE', `/api-keys/${enc(id)}`),

  auditLog: (q?: Query) => request<Page<AuditEntry>>('GET', `/audit-log${qs(q)}`),

  testFilter: (body: Body<'POST /filters/test'>) =>
    request<Res<'POST /filters/test'>>('POST', '/filters/test', body),
  simulateTransformation: (body: Body<'POST /transformations/simulate'>) =>
    request<Res<'POST /transformations/simulate'>>('POST', '/transformations/simulate', body),
};

/** Every page of a list, for small catalogs (event types, webhooks) the UI shows whole. */
export async function all<T>(
  fetchPage: (cursor?: string) => Promise<Page<T>>,
  max = 2000,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    out.push(...page.data);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && out.length < max);
  return out;
}

/**
 * Which API routes this server has, read from its OpenAPI document: the UI hides
 * what a server version does not offer instead of failing on it.
 */
export async function loadCapabilities(): Promise<Set<string>> {
  try {
    const res = await fetch('/openapi.json');
    if (!res.ok) return new Set();
    const doc = (await res.json()) as { paths?: Record<string, Record<string, unknown>> };
    const out = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths ?? {})) {
      const p = path
        .replace(/^\/api\/v1/, '')
        .replace(/\{[^}]+\}/g, ':id')
        .replace(/\/:[a-z_]+/g, '/:id');
      for (const m of Object.keys(ops)) out.add(`${m.toUpperCase()} ${p}`);
    }
    return out;
  } catch {
    return new Set();
  }
}
