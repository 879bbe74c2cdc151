/**
 * The one event every system in the benchmark sends: the same payload, the
 * same body shape Hookline delivers, signed by Hookline's own signing code, so
 * the references do the same per-request work (JSON, two HMACs) as the worker.
 */
import { decodeSecret, generateSecret, signatureHeaders } from '../src/core/signing.js';

/** A typical ticketing payload (~400 bytes of JSON). */
export const payload = {
  ticket: {
    id: 'tkt_01HZX3Q8B6',
    subject: 'Printer on the third floor is out of toner again',
    status: 'open',
    priority: 'high',
    requester: { id: 'usr_8812', email: 'dana@example.com', name: 'Dana Ortiz' },
    assignee: { id: 'usr_1200', name: 'Sam Lee' },
    tags: ['hardware', 'floor-3', 'consumables'],
    custom_fields: { site: 'HQ', cost_center: 'CC-4410', sla_minutes: 240 },
  },
};

/** The body a receiver gets for one event, exactly as Hookline builds it. */
export function eventBody(
  id: string,
  type: string,
  timestamp: string,
  data: unknown = payload,
): string {
  return JSON.stringify({ id, type, timestamp, data });
}

export const benchSecret = generateSecret();
const key = decodeSecret(benchSecret);

/** The headers of one signed attempt, computed now (like a real attempt). */
export function signedHeaders(
  id: string,
  type: string,
  body: string,
  secretKey: Buffer = key,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Hookline-bench',
    ...signatureHeaders({
      id,
      eventType: type,
      timestamp: Math.floor(Date.now() / 1000),
      body,
      keys: [secretKey],
    }),
  };
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
