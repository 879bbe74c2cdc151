/**
 * The transformation phase: deliveries/s at fan-out 10 to webhooks with a
 * small transformation, against as many webhooks without one, measured the
 * same way back to back (docs/routing.md, "Transformations"). Each attempt of
 * the transformed side runs the script in the sandbox thread (its shared
 * QuickJS context, docs/routing.md "Limits"), one run at a time per process,
 * so this is what the sandbox costs the worker.
 */
import { expectStatus, type HooklineProcess } from './hookline.js';
import { payload } from './payload.js';
import type { SteadyResult } from './steady.js';

/** A typical small transformation: fewer fields, a renamed one, a header. */
export const BENCH_TRANSFORMATION = `function handler(webhook) {
  const t = webhook.payload.data.ticket;
  webhook.payload.data = { id: t.id, priority: t.priority, site: t.custom_fields.site };
  webhook.headers['x-bench'] = 'transformed';
  return webhook;
}`;

/** The event types of the two sides, plain first. */
export const TRANSFORMATION_TYPES = ['bench.transform_plain', 'bench.transform_js'] as const;

/** Webhooks per side: the fan-out of each published event. */
export const TRANSFORMATION_FANOUT = 10;

export interface TransformationResult {
  fanout: number;
  plain: SteadyResult;
  transformed: SteadyResult;
  /** transformed.deliveries_per_s / plain.deliveries_per_s (target ≥ 0.5). */
  ratio: number;
}

/** The webhook body of one side's webhook (the transformed side carries the script). */
export function transformationWebhook(side: 'plain' | 'transformed'): object {
  return side === 'plain' ? {} : { transformation: { code: BENCH_TRANSFORMATION, enabled: true } };
}

/**
 * Runs `measure` on the plain side, then on the transformed one; `measure`
 * is the steady-state measurement every fan-out phase uses. One simulation
 * first starts the process's sandbox thread (src/transform/sandbox.ts), so
 * the window measures runs, not the thread's first boot.
 */
export async function transformationPhase(
  hl: HooklineProcess,
  measure: (side: 'plain' | 'transformed') => Promise<SteadyResult>,
): Promise<TransformationResult> {
  expectStatus(
    await hl.call('POST', '/transformations/simulate', {
      code: BENCH_TRANSFORMATION,
      event_type: TRANSFORMATION_TYPES[1],
      payload,
    }),
    'warm the sandbox',
    200,
  );
  const plain = await measure('plain');
  const transformed = await measure('transformed');
  return {
    fanout: TRANSFORMATION_FANOUT,
    plain,
    transformed,
    ratio: transformed.deliveries_per_s / plain.deliveries_per_s,
  };
}
