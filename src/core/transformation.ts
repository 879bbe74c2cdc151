/**
 * The transformation contract (docs/routing.md, "Transformations"): what a
 * webhook's `handler(webhook)` gets and what it may give back. Pure: the
 * sandbox that runs the code is src/transform/sandbox.ts.
 */
import { customHeaderErrors } from './webhook-rules.js';

/** A webhook's transformation as stored. */
export interface Transformation {
  code: string;
  enabled: boolean;
}

/** The longest script accepted, in bytes. */
export const MAX_TRANSFORMATION_BYTES = 64 * 1024;

/** What the handler gets: the request as it would be sent. */
export interface TransformInput {
  eventType: string;
  /** The JSON body that would be sent: `{id, type, timestamp, data}`. */
  payload: unknown;
  url: string;
  /** The webhook's custom headers (Hookline's own headers are added after). */
  headers: Record<string, string>;
}

/** What the handler decided: send this, or send nothing. */
export type TransformOutput =
  | { cancel: false; payload: unknown; url: string; headers: Record<string, string> }
  | { cancel: true; reason: string | null };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The handler's return value read against the contract: fields it leaves out
 * keep their input value; `cancel: true` sends nothing. A string is the
 * problem with it (then the attempt fails).
 */
export function readOutput(raw: unknown, input: TransformInput): TransformOutput | string {
  if (!isObject(raw))
    return 'handler must return an object ({payload, url, headers} or {cancel: true})';
  if (raw.cancel === true) {
    const reason = typeof raw.reason === 'string' ? raw.reason.slice(0, 500) : null;
    return { cancel: true, reason };
  }
  if (raw.cancel !== undefined && raw.cancel !== false) return 'cancel must be true or false';
  const payload = 'payload' in raw ? raw.payload : input.payload;
  if (payload === undefined) return 'payload must be a JSON value';
  const url = raw.url ?? input.url;
  if (typeof url !== 'string') return 'url must be a string';
  const headers = raw.headers ?? input.headers;
  if (!isObject(headers) || Object.values(headers).some((v) => typeof v !== 'string'))
    return 'headers must be an object of string values';
  const problems = customHeaderErrors(headers);
  if (problems.length > 0)
    return `headers: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`;
  return { cancel: false, payload, url, headers: headers as Record<string, string> };
}
