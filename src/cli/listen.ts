/**
 * `hookline listen --forward-to http://localhost:3000/hooks`: like `stripe listen`.
 * The CLI registers a relay webhook for this terminal (POST /relay), long-polls the
 * server for its deliveries (GET /relay/{id}/next: the connection goes from the
 * developer's machine TO the server, so the local app needs no public address),
 * sends each one to the local URL with the worker's own sendAttempt (same body,
 * same signature headers, same error codes), and reports the outcome, which the
 * server records and retries like any delivery.
 *
 * The signing secret is kept in the user's config directory per server, so it
 * stays the same across restarts and the local app can keep it in its .env.
 */
import type { Command } from 'commander';
import { hostname, homedir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  createClient,
  HooklineApiError,
  type HooklineClient,
  type ResponseOf,
} from '../client/client.js';
import { generateSecret } from '../core/signing.js';
import { sendAttempt, type AttemptError, type AttemptResult } from '../worker/send.js';
import { describeError, painter, serverOf, withRemote, type RemoteOptions } from './remote.js';

/** Where `hookline listen` keeps its secrets: $HOOKLINE_CONFIG_DIR, else $XDG_CONFIG_HOME/hookline, else ~/.config/hookline. */
export function configDir(env = process.env): string {
  return (
    env.HOOKLINE_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'hookline')
  );
}

interface ListenState {
  session: string;
  secret: string;
}

/** The session and secret of this machine for a server, created and saved on first use. */
export function listenState(
  server: string,
  dir = configDir(),
): { state: ListenState; file: string } {
  const file = join(dir, 'listen.json');
  let all: Record<string, ListenState> = {};
  try {
    all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, ListenState>;
  } catch {
    // First run, or an unreadable file: start afresh.
  }
  let state = all[server];
  if (!state?.secret || !state.session) {
    const host =
      hostname()
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .slice(0, 60) || 'host';
    state = { session: `${host}-${randomBytes(4).toString('hex')}`, secret: generateSecret() };
    all[server] = state;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
  }
  return { state, file };
}

type NextBatch = ResponseOf<'GET /relay/{id}/next'>;

export interface Forwarded {
  deliveryId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  result: AttemptResult;
  /** What the server made of it, or why it could not record it. */
  outcome: 'succeeded' | 'retrying' | 'failed' | 'lease_lost';
}

export interface ListenOptions {
  client: HooklineClient;
  forwardTo: string;
  session: string;
  secret: string;
  events?: string[];
  /** Seconds each long-poll waits on the server. */
  waitSeconds?: number;
  signal: AbortSignal;
  onReady?: (webhook: ResponseOf<'POST /relay'>) => void;
  onForwarded?: (f: Forwarded) => void;
  onWarning?: (message: string) => void;
}

/** Runs until `signal` aborts; then switches the relay webhook off. */
export async function listen(opts: ListenOptions): Promise<void> {
  const { client, signal } = opts;
  const start = () =>
    client.request('POST /relay', {
      body: { session: opts.session, secret: opts.secret, events: opts.events ?? ['*'] },
    });
  const webhook = await start();
  opts.onReady?.(webhook);
  try {
    while (!signal.aborted) {
      let batch: NextBatch;
      try {
        batch = await client.request('GET /relay/{id}/next', {
          params: { id: webhook.id },
          query: { wait: opts.waitSeconds ?? 25, limit: 10 },
          signal,
        });
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof HooklineApiError && err.status === 409) {
          // Switched off meanwhile (another terminal with the same session stopped): switch it on again.
          await start();
          continue;
        }
        if (err instanceof HooklineApiError && err.status > 0 && err.status < 500) throw err;
        opts.onWarning?.(`lost the server (${describeError(err)}); retrying…`);
        await new Promise((r) => setTimeout(r, 2000));
        continue;
      }
      await Promise.all(batch.deliveries.map((d) => forward(opts, webhook.id, d, batch.target!)));
    }
  } finally {
    await client.request('POST /relay/{id}/stop', { params: { id: webhook.id } }).catch(() => {});
  }
}

async function forward(
  opts: ListenOptions,
  webhookId: string,
  d: NextBatch['deliveries'][number],
  target: NonNullable<NextBatch['target']>,
) {
  const result = await sendAttempt(
    {
      url: opts.forwardTo,
      timeoutSeconds: target.timeout_seconds,
      customHeaders: target.custom_headers,
      secrets: target.secrets,
    },
    {
      eventId: d.event_id,
      eventType: d.event_type,
      createdAt: d.created_at,
      payloadText: d.payload_text,
    },
  );
  let outcome: Forwarded['outcome'];
  try {
    const recorded = await opts.client.request('POST /relay/{id}/deliveries/{deliveryId}/result', {
      params: { id: webhookId, deliveryId: d.id },
      // Safe to repeat (a second report of the same lease is refused): lets the client retry a 5xx.
      idempotencyKey: `${d.id}:${d.lease}`,
      body: {
        lease: d.lease,
        ok: result.ok,
        started_at: result.startedAt.toISOString(),
        duration_ms: result.durationMs,
        request_headers: result.requestHeaders,
        status: result.status,
        response_headers: result.responseHeaders,
        response_body: result.responseBody,
        // The relay sends without a transformation: none of its error codes can occur here.
        error: result.error as Exclude<AttemptError, `transformation_${string}`> | null,
        error_detail: result.errorDetail?.slice(0, 2000) ?? null,
        ...(result.retryAfter ? { retry_after: result.retryAfter.slice(0, 200) } : {}),
      },
    });
    outcome = recorded.outcome;
  } catch (err) {
    if (!(err instanceof HooklineApiError && err.status === 409)) throw err;
    outcome = 'lease_lost';
  }
  opts.onForwarded?.({
    deliveryId: d.id,
    eventId: d.event_id,
    eventType: d.event_type,
    attempt: d.attempt,
    result,
    outcome,
  });
}

interface ListenCliOptions extends RemoteOptions {
  forwardTo: string;
  events?: string;
  json?: boolean;
}

export function registerListen(program: Command): void {
  withRemote(
    program
      .command('listen')
      .description(
        'Forward deliveries to a local URL through a connection this CLI opens to the server (no public address needed).',
      )
      .requiredOption(
        '--forward-to <url>',
        'where to send each delivery, e.g. http://localhost:3000/hooks',
      )
      .option('--events <list>', 'comma-separated event types or patterns (default: *)')
      .option('--json', 'one JSON object per line'),
  ).action(async (opts: ListenCliOptions) => {
    const key = opts.key ?? process.env.HOOKLINE_API_KEY;
    if (!key) {
      process.stderr.write('hookline: an API key is needed: --key hk_… or HOOKLINE_API_KEY=hk_…\n');
      process.exit(2);
    }
    try {
      new URL(opts.forwardTo);
    } catch {
      process.stderr.write(`hookline: --forward-to is not a URL: ${opts.forwardTo}\n`);
      process.exit(2);
    }
    const server = serverOf(opts);
    // Long-polls hold the request ~25 s: give each try more than that.
    const client = createClient({ baseUrl: server, apiKey: key, timeoutMs: 45_000 });
    const { state, file } = listenState(server);
    const c = painter();
    const out = (line: string) => process.stdout.write(line + '\n');
    const controller = new AbortController();
    process.on('SIGINT', () => controller.abort());
    process.on('SIGTERM', () => controller.abort());
    try {
      await listen({
        client,
        forwardTo: opts.forwardTo,
        session: state.session,
        secret: state.secret,
        events: opts.events
          ?.split(',')
          .map((e) => e.trim())
          .filter(Boolean),
        signal: controller.signal,
        onReady: (wh) => {
          if (opts.json)
            return out(
              JSON.stringify({
                ready: true,
                webhook_id: wh.id,
                events: wh.events,
                secret: state.secret,
                forward_to: opts.forwardTo,
              }),
            );
          out(
            `${c.green('Ready!')} Forwarding ${wh.events.join(', ')} from ${server} to ${c.bold(opts.forwardTo)} (webhook ${wh.id}).`,
          );
          out(
            `Your webhook signing secret is ${c.bold(state.secret)} (stable across restarts; kept in ${file}).`,
          );
          if (c.on) process.stderr.write(c.dim('Waiting for events… (Ctrl-C to stop)\n'));
        },
        onForwarded: (f) => {
          const r = f.result;
          if (opts.json) {
            return out(
              JSON.stringify({
                delivery_id: f.deliveryId,
                event_id: f.eventId,
                event_type: f.eventType,
                attempt: f.attempt,
                status: r.status,
                error: r.error,
                duration_ms: r.durationMs,
                outcome: f.outcome,
              }),
            );
          }
          const answer =
            r.status !== null
              ? r.ok
                ? c.green(String(r.status))
                : c.red(String(r.status))
              : c.red(r.error ?? 'error');
          const retry =
            f.outcome === 'retrying'
              ? c.yellow(' (will retry)')
              : f.outcome === 'failed'
                ? c.red(' (gave up)')
                : f.outcome === 'lease_lost'
                  ? c.yellow(' (lease lost)')
                  : '';
          out(
            `${c.dim(new Date().toISOString().slice(11, 19))} ${f.eventType} ${f.eventId} → ${answer} ${c.dim(`${r.durationMs} ms`)}${f.attempt > 1 ? c.dim(` attempt ${f.attempt}`) : ''}${retry}`,
          );
        },
        onWarning: (m) => process.stderr.write(`hookline: ${m}\n`),
      });
    } catch (err) {
      process.stderr.write(`hookline: ${describeError(err, server)}\n`);
      process.exit(1);
    }
  });
}
