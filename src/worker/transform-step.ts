/**
 * The transformation step of an attempt (docs/routing.md, "Transformations"):
 * before a delivery of a webhook with an enabled transformation is sent, its
 * handler gets the request that would be sent and returns it changed, or
 * cancels it. The transformed URL passes the same URL rules and SSRF guard
 * as a saved one (and the dispatcher checks the address again at connect);
 * the transformed headers pass the custom-header rules. Signing happens
 * after, over the transformed body.
 */
import type { Config } from '../config.js';
import type { GuardConfig } from '../net/resolve.js';
import { HooklineError, type FieldError } from '../errors.js';
import { readOutput, type Transformation } from '../core/transformation.js';
import { assertDestinationAllowed } from '../net/guard.js';
import { runTransformation } from '../transform/sandbox.js';
import { buildBody, type AttemptError, type AttemptMessage, type AttemptResult } from './send.js';

/** What to do with the delivery: send this request, skip it, or record a failed attempt. */
export type Prepared =
  | { kind: 'send'; url: string; headers: Record<string, string>; body: string }
  | { kind: 'skip'; result: AttemptResult }
  | { kind: 'fail'; result: AttemptResult };

const MAX_URL = 2048;

/** An attempt that sent nothing, for the delivery log. */
function unsent(startedAt: Date, t0: number, error: AttemptError, detail: string): AttemptResult {
  return {
    ok: false,
    startedAt,
    durationMs: Math.round(performance.now() - t0),
    requestHeaders: {},
    status: null,
    responseHeaders: null,
    responseBody: null,
    error,
    errorDetail: detail.slice(0, 1000),
  };
}

/** Runs the webhook's transformation on the request it would send. */
export async function prepareTransformed(
  transformation: Transformation,
  target: { url: string; customHeaders?: Record<string, string> | null },
  message: AttemptMessage,
  config: GuardConfig & Pick<Config, 'transformMemoryMb' | 'transformTimeoutMs'>,
): Promise<Prepared> {
  const startedAt = new Date();
  const t0 = performance.now();
  const input = {
    eventType: message.eventType,
    payload: JSON.parse(buildBody(message)) as unknown,
    url: target.url,
    headers: { ...(target.customHeaders ?? {}) },
  };
  const fail = (detail: string, error: AttemptError = 'transformation_failed'): Prepared => ({
    kind: 'fail',
    result: unsent(startedAt, t0, error, detail),
  });
  const run = await runTransformation(transformation.code, input, {
    memoryMb: config.transformMemoryMb,
    timeoutMs: config.transformTimeoutMs,
  });
  if (!run.ok) return fail(`the transformation ${run.message}`);
  const out = readOutput(JSON.parse(run.json), input);
  if (typeof out === 'string') return fail(`the transformation's result: ${out}`);
  if (out.cancel) {
    return {
      kind: 'skip',
      result: unsent(
        startedAt,
        t0,
        'transformation_cancelled',
        out.reason
          ? `cancelled by the transformation: ${out.reason}`
          : 'cancelled by the transformation',
      ),
    };
  }
  if (out.url !== target.url) {
    if (out.url.length > MAX_URL)
      return fail(`the transformed url is longer than ${MAX_URL} characters`);
    let url: URL;
    try {
      url = new URL(out.url);
    } catch {
      return fail('the transformed url is not a valid absolute URL');
    }
    try {
      await assertDestinationAllowed(url, config);
    } catch (err) {
      if (!(err instanceof HooklineError) || err.code !== 'VALIDATION_FAILED') throw err;
      const problem = (err.details as FieldError[])[0];
      return fail(
        `the transformed url ${problem?.message ?? 'is not allowed'}`,
        problem?.code === 'blocked_destination' ? 'blocked_destination' : 'transformation_failed',
      );
    }
  }
  const body = JSON.stringify(out.payload);
  return { kind: 'send', url: out.url, headers: out.headers, body };
}
