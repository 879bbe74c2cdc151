/**
 * The routing phase: publishing to many webhooks whose filters all match,
 * against as many webhooks without a filter (docs/routing.md, "Filters").
 * Every filter passes, so both sides create the same deliveries and the
 * difference is what judging the filters costs at fan-out.
 */
import { expectStatus, type HooklineProcess } from './hookline.js';
import { nowMs, payload } from './payload.js';
import type { Plan } from './plan.js';

/** A filter the bench payload passes: a set test and a numeric comparison. */
export const BENCH_FILTER = {
  'data.ticket.priority': { $in: ['high', 'urgent'] },
  'data.ticket.custom_fields.sla_minutes': { $lte: 480 },
};

export interface RoutingSide {
  webhooks: number;
  events: number;
  events_per_s: number;
  deliveries_per_s: number;
}

export interface RoutingResult {
  plain: RoutingSide;
  filtered: RoutingSide;
  /** filtered.events_per_s / plain.events_per_s. */
  ratio: number;
}

export const ROUTING_TYPES = ['bench.route_plain', 'bench.route_filtered'] as const;

/** Runs `n` calls of `fn`, `concurrency` at a time. */
async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function side(
  hl: HooklineProcess,
  plan: Plan,
  type: string,
  url: string,
  filter: object | null,
): Promise<RoutingSide & { ids: string[] }> {
  const n = plan.routingWebhooks;
  const ids: string[] = [];
  await pool(n, 8, async (i) => {
    const body = expectStatus(
      await hl.call('POST', '/webhooks', { name: `${type} ${i}`, url, events: [type], filter }),
      `create ${type} webhook`,
      201,
    );
    ids.push(body.id);
  });
  let events = 0;
  const t0 = nowMs();
  const until = t0 + plan.windowS * 1000;
  await pool(plan.routingEvents, plan.routingConcurrency, async () => {
    if (nowMs() >= until) return;
    const res = expectStatus(
      await hl.call('POST', '/events', { event_type: type, payload }),
      'POST /events',
      202,
    );
    if (res.deliveries !== n) throw new Error(`${type}: ${res.deliveries} deliveries, not ${n}`);
    events++;
  });
  const s = (nowMs() - t0) / 1000;
  return {
    ids,
    webhooks: n,
    events,
    events_per_s: events / s,
    deliveries_per_s: (events * n) / s,
  };
}

/**
 * Plain first, then filtered, on an API-only process; the webhooks (and the
 * deliveries they never send) are deleted after.
 */
export async function routingPhase(
  hl: HooklineProcess,
  plan: Plan,
  url: string,
): Promise<RoutingResult> {
  const plain = await side(hl, plan, ROUTING_TYPES[0], url, null);
  const filtered = await side(hl, plan, ROUTING_TYPES[1], url, BENCH_FILTER);
  await pool(plain.ids.length + filtered.ids.length, 8, async (i) => {
    const id = i < plain.ids.length ? plain.ids[i] : filtered.ids[i - plain.ids.length];
    expectStatus(await hl.call('DELETE', `/webhooks/${id}`), 'delete a routing webhook', 204);
  });
  const strip = ({ ids: _ids, ...rest }: RoutingSide & { ids: string[] }) => rest;
  return {
    plain: strip(plain),
    filtered: strip(filtered),
    ratio: filtered.events_per_s / plain.events_per_s,
  };
}
