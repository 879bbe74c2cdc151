/**
 * The rules a webhook's settings must follow that a JSON Schema cannot say:
 * custom header names and values, and the shape of event subscriptions.
 * Pure functions returning field errors; the route adds what needs the database.
 */
import type { FieldError } from '../errors.js';

/** At most this many custom headers: each is sent on every attempt. */
export const MAX_CUSTOM_HEADERS = 32;
export const MAX_HEADER_NAME = 256;
export const MAX_HEADER_VALUE = 4096;

// Headers Hookline sets itself, or that would change how the request is framed or routed.
// `expect` and `trailer` were not in the original list, but undici refuses or mishandles them.
const FORBIDDEN_NAMES = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'te',
  'upgrade',
  'user-agent',
  'expect',
  'trailer',
]);
const FORBIDDEN_PREFIXES = ['proxy-', 'webhook-', 'x-webhook-'];

// RFC 9110 token characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What Node and undici accept in a header value: tab, printable ASCII and Latin-1.
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Why `name` may not be a custom header, or undefined. */
export function headerNameProblem(name: string): string | undefined {
  if (/[\r\n]/.test(name)) return 'header names must not contain CR or LF';
  if (name.length === 0) return 'header names must not be empty';
  if (name.length > MAX_HEADER_NAME)
    return `header names must be at most ${MAX_HEADER_NAME} characters`;
  if (!TOKEN.test(name))
    return "is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)";
  const lower = name.toLowerCase();
  if (FORBIDDEN_NAMES.has(lower) || FORBIDDEN_PREFIXES.some((p) => lower.startsWith(p))) {
    return 'is set by Hookline or controls the connection, so it cannot be a custom header';
  }
  return undefined;
}

/** Why `value` may not be a custom header value, or undefined. */
export function headerValueProblem(value: string): string | undefined {
  if (/[\r\n]/.test(value)) return 'must not contain CR or LF';
  if (value.length > MAX_HEADER_VALUE) return `must be at most ${MAX_HEADER_VALUE} characters`;
  if (!VALUE.test(value)) return 'must not contain control characters or characters beyond Latin-1';
  return undefined;
}

/** Every problem with a `custom_headers` object; field paths are `custom_headers.<name>`. */
export function customHeaderErrors(headers: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const names = Object.keys(headers);
  if (names.length > MAX_CUSTOM_HEADERS) {
    return [{ field: 'custom_headers', message: `at most ${MAX_CUSTOM_HEADERS} headers` }];
  }
  const seen = new Set<string>();
  for (const name of names) {
    const field = `custom_headers.${name}`;
    const nameProblem = headerNameProblem(name);
    if (nameProblem) {
      errors.push({ field, message: nameProblem });
      continue;
    }
    if (seen.has(name.toLowerCase())) {
      errors.push({ field, message: 'is given twice (header names are case-insensitive)' });
      continue;
    }
    seen.add(name.toLowerCase());
    const value = headers[name];
    const valueProblem = typeof value === 'string' ? headerValueProblem(value) : 'must be a string';
    if (valueProblem) errors.push({ field, message: valueProblem });
  }
  return errors;
}

/** What one entry of `events` asks for. */
export type Subscription =
  { kind: 'all' } | { kind: 'category'; category: string } | { kind: 'type'; name: string };

const CATEGORY = /^[a-z0-9_]+$/;
const TYPE_NAME = /^[a-z0-9_]+(\.[a-z0-9_]+)+$/;

/** Parses one entry of `events`: `*`, `category.*` or an event type name; a string problem otherwise. */
export function parseSubscription(entry: string): Subscription | string {
  if (entry === '*') return { kind: 'all' };
  if (entry.endsWith('.*')) {
    const category = entry.slice(0, -2);
    return CATEGORY.test(category)
      ? { kind: 'category', category }
      : 'a pattern must be "*" or "<category>.*", e.g. "ticket.*"';
  }
  if (entry.includes('*')) return 'a pattern must be "*" or "<category>.*", e.g. "ticket.*"';
  return TYPE_NAME.test(entry)
    ? { kind: 'type', name: entry }
    : 'is not an event type name (e.g. ticket.created) or a pattern';
}
