/**
 * A typed client for Hookline's HTTP API, on the global fetch (Node 20+, browsers, edge runtimes).
 *
 * ```ts
 * const hookline = createClient({ baseUrl: 'http://127.0.0.1:8080', apiKey: process.env.HOOKLINE_KEY! });
 * const created = await hookline.request('POST /event-types', { body: { name: 'ticket.created' } });
 * for await (const type of hookline.paginate('GET /event-types', { query: { limit: 100 } })) console.log(type.name);
 * ```
 *
 * Every operation's request and response types come from src/client/api-types.ts, which is
 * generated from the server's own OpenAPI document, so they cannot drift apart.
 */
import type { ErrorCode } from '../errors.js';
import type { OperationName, Operations } from './api-types.js';

export type { Operations, OperationName } from './api-types.js';

/** The API's error codes (docs/api.md, "Errors"), plus the client's own for answers that never came. */
export type ApiErrorCode =
  ErrorCode | 'NETWORK_ERROR' | 'TIMEOUT' | 'INVALID_RESPONSE' | (string & {});

/** An error answer of the API (or no answer at all: status 0). */
export class HooklineApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly details: unknown;
  /** Seconds the server asked to wait (429/503 with Retry-After). */
  readonly retryAfterSeconds?: number;
  readonly method: string;
  readonly path: string;

  constructor(init: {
    status: number;
    code: ApiErrorCode;
    message: string;
    details?: unknown;
    retryAfterSeconds?: number;
    method: string;
    path: string;
    cause?: unknown;
  }) {
    super(init.message, { cause: init.cause });
    this.name = 'HooklineApiError';
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.method = init.method;
    this.path = init.path;
  }
}

export interface ClientOptions {
  /** Where Hookline listens, e.g. `http://127.0.0.1:8080` (with or without `/api/v1`). */
  baseUrl: string;
  apiKey: string;
  /** Retries after the first try, on 429, on 5xx and on network errors. Default 3. */
  maxRetries?: number;
  /** First backoff delay; it doubles each retry. Default 250 ms. */
  minDelayMs?: number;
  /** Cap of the backoff delay. Default 10 s. */
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the error is thrown at once. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Per try. Default 30 s. */
  timeoutMs?: number;
  /** Another fetch (a proxy agent, a test double). Default: the global fetch. */
  fetch?: typeof fetch;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Sent as `Idempotency-Key`; also makes a POST safe to retry after a 5xx. */
  idempotencyKey?: string;
}

export type RequestArgs<K extends OperationName> = Operations[K]['request'] & RequestOptions;
type ArgsTuple<K extends OperationName> = object extends Operations[K]['request']
  ? [args?: RequestArgs<K>]
  : [args: RequestArgs<K>];

export type ResponseOf<K extends OperationName> = Operations[K]['response'];

/** The operations that answer a page: `{data, next_cursor}`. */
export type ListOperation = {
  [K in OperationName]: Operations[K]['response'] extends {
    data: unknown[];
    next_cursor: string | null;
  }
    ? K
    : never;
}[OperationName];

export type ItemOf<K extends ListOperation> = Operations[K]['response'] extends {
  data: Array<infer I>;
}
  ? I
  : never;

/** Named shapes of the main resources, as the API answers them. */
export type Webhook = ResponseOf<'GET /webhooks/{id}'>;
export type EventType = ResponseOf<'GET /event-types/{name}'>;
export type HooklineEvent = ResponseOf<'GET /events/{id}'>;
export type Delivery = ItemOf<'GET /deliveries'>;
export type DeliveryWithAttempts = ResponseOf<'GET /deliveries/{id}'>;
export type Tenant = ResponseOf<'GET /tenants/{tenant_id}'>;
/** A minted portal session: its `token` and `url` are shown only in this answer. */
export type PortalSession = ResponseOf<'POST /tenants/{tenant_id}/portal-sessions'>;

export interface HooklineClient {
  /** Calls one operation, e.g. `request('GET /webhooks/{id}', { params: { id } })`. */
  request<K extends OperationName>(op: K, ...args: ArgsTuple<K>): Promise<ResponseOf<K>>;
  /** Every item of a list, fetching page after page as the loop asks for more. */
  paginate<K extends ListOperation>(op: K, ...args: ArgsTuple<K>): AsyncIterableIterator<ItemOf<K>>;
  /** Every page of a list. */
  pages<K extends ListOperation>(
    op: K,
    ...args: ArgsTuple<K>
  ): AsyncIterableIterator<ResponseOf<K>>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

function fillPath(path: string, params: Record<string, unknown> | undefined): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null || value === '')
      throw new TypeError(`missing path parameter "${name}"`);
    return encodeURIComponent(String(value));
  });
}

function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    for (const item of Array.isArray(v) ? v : [v])
      search.append(k, item instanceof Date ? item.toISOString() : String(item));
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** A client for one API key. */
export function createClient(options: ClientOptions): HooklineClient {
  const {
    apiKey,
    maxRetries = 3,
    minDelayMs = 250,
    maxDelayMs = 10_000,
    maxRetryAfterMs = 60_000,
    timeoutMs = 30_000,
  } = options;
  const doFetch = options.fetch ?? globalThis.fetch;
  const base = options.baseUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '') + '/api/v1';

  function backoff(retry: number): number {
    const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** retry);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  async function call(
    op: string,
    args: (Record<string, unknown> & RequestOptions) | undefined,
  ): Promise<unknown> {
    const space = op.indexOf(' ');
    const method = op.slice(0, space);
    const path = fillPath(op.slice(space + 1), args?.params as Record<string, unknown> | undefined);
    const url = base + path + queryString(args?.query as Record<string, unknown> | undefined);
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${apiKey}`,
      ...options.headers,
      ...args?.headers,
    };
    let idempotencyKey = args?.idempotencyKey ?? headers['idempotency-key'];
    // Publishing is the call an application retries most: give it a key so a retry after a 5xx
    // or a lost answer returns the first event instead of publishing twice.
    const body = args?.body as Record<string, unknown> | undefined;
    if (op === 'POST /events' && !idempotencyKey && !body?.idempotency_key)
      idempotencyKey = crypto.randomUUID();
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    if (args && 'body' in args) headers['content-type'] = 'application/json';
    const payload = args && 'body' in args ? JSON.stringify(args.body) : undefined;
    const retryable5xx = IDEMPOTENT.has(method) || idempotencyKey !== undefined;

    for (let retry = 0; ; retry++) {
      const last = retry >= maxRetries;
      const signals = [AbortSignal.timeout(timeoutMs), ...(args?.signal ? [args.signal] : [])];
      let res: Response;
      try {
        res = await doFetch(url, {
          method,
          headers,
          body: payload,
          signal: AbortSignal.any(signals),
        });
      } catch (err) {
        if (args?.signal?.aborted) throw err;
        const timedOut = (err as Error)?.name === 'TimeoutError';
        if (!last && retryable5xx) {
          await sleep(backoff(retry), args?.signal);
          continue;
        }
        throw new HooklineApiError({
          status: 0,
          code: timedOut ? 'TIMEOUT' : 'NETWORK_ERROR',
          message: timedOut
            ? `${method} ${path}: no answer within ${timeoutMs} ms`
            : `${method} ${path}: ${(err as Error)?.message ?? err}`,
          method,
          path,
          cause: err,
        });
      }

      if (res.ok) {
        const text = await res.text();
        if (res.status === 204 || text === '') return undefined;
        try {
          return JSON.parse(text);
        } catch (err) {
          throw new HooklineApiError({
            status: res.status,
            code: 'INVALID_RESPONSE',
            message: `${method} ${path}: the answer is not JSON`,
            method,
            path,
            cause: err,
          });
        }
      }

      const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
      const wantsRetry = res.status === 429 || (res.status >= 500 && retryable5xx);
      if (
        !last &&
        wantsRetry &&
        (retryAfter === undefined || retryAfter * 1000 <= maxRetryAfterMs)
      ) {
        await res.body?.cancel().catch(() => {});
        await sleep(retryAfter !== undefined ? retryAfter * 1000 : backoff(retry), args?.signal);
        continue;
      }
      throw await errorFrom(res, method, path, retryAfter);
    }
  }

  async function* pages(op: string, args: (Record<string, unknown> & RequestOptions) | undefined) {
    let cursor: string | undefined = (args?.query as { cursor?: string } | undefined)?.cursor;
    for (;;) {
      const query = { ...(args?.query as object | undefined), ...(cursor ? { cursor } : {}) };
      const page = (await call(op, { ...args, query })) as {
        data: unknown[];
        next_cursor: string | null;
      };
      yield page;
      if (!page.next_cursor) return;
      cursor = page.next_cursor;
    }
  }

  return {
    request: ((op: string, args?: Record<string, unknown>) =>
      call(op, args)) as HooklineClient['request'],
    pages: ((op: string, args?: Record<string, unknown>) =>
      pages(op, args)) as HooklineClient['pages'],
    paginate: async function* (op: string, args?: Record<string, unknown>) {
      for await (const page of pages(op, args)) yield* page.data;
    } as HooklineClient['paginate'],
  };
}

async function errorFrom(
  res: Response,
  method: string,
  path: string,
  retryAfter: number | undefined,
): Promise<HooklineApiError> {
  const text = await res.text().catch(() => '');
  let error: { code?: unknown; message?: unknown; details?: unknown } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {
    // Not the API's error format (a proxy's page, say): keep the status and some of the text.
  }
  const code =
    typeof error?.code === 'string'
      ? error.code
      : res.status >= 500
        ? 'INTERNAL'
        : 'INVALID_RESPONSE';
  const message =
    typeof error?.message === 'string' ? error.message : text.slice(0, 200) || res.statusText;
  return new HooklineApiError({
    status: res.status,
    code,
    message,
    details: error?.details,
    retryAfterSeconds: retryAfter,
    method,
    path,
  });
}
