/**
 * What may reach a log (docs/security.md, "Logs"): never request data. Every logger Hookline
 * makes (src/log.ts: the server, Fastify's request loggers, the worker loops) and the CLI's
 * last-resort error line go through this file, so there is one place that decides.
 *
 * - Errors are rebuilt from an allowlist of fields: the database adapters attach the failed
 *   statement's bind parameters (PGlite: `query`, `params`), the failing row (`detail`) and
 *   more (`where`, `internalQuery`, …) to their errors, and those hold secrets and header values.
 * - Quoted values in database messages are masked; names of relations, constraints and columns
 *   stay, since they say where to look.
 * - Anything shaped like a credential is masked in every string that is logged.
 * - Fields that hold request or response data (bodies, headers, payloads) are dropped by name.
 */

const MASK = '***';

// Credential shapes (docs/security.md, "Logs"); each keeps its prefix, so a reader sees what
// kind of value was there.
const CREDENTIALS: [RegExp, string][] = [
  [/-----BEGIN [A-Z0-9 ]*-----[\s\S]*?(?:-----END [A-Z0-9 ]*-----|$)/g, '[PEM block]'],
  [/\b(whsec|whpk|hk|hlp)_[A-Za-z0-9+/=_-]+/g, `$1_${MASK}`],
  // A scheme and its token; a plain lowercase word after it ("basic auth") is prose, not a token.
  [/\b([Bb]earer|[Bb]asic|BEARER|BASIC)\s+(?![a-z]+\b)[A-Za-z0-9._~+/=-]+/g, `$1 ${MASK}`],
];

/** Masks every credential-shaped part of a string (signing secrets, keys, tokens, PEM blocks). */
export function redactText(text: string): string {
  let out = text;
  for (const [re, replacement] of CREDENTIALS) out = out.replace(re, replacement);
  return out;
}

// A quoted part of a PostgreSQL message is a name when the word before it says so
// (`relation "webhooks"`, `constraint "webhooks_pkey"`); otherwise it is a value from the
// statement (`invalid input syntax for type json: "…"`) and is masked.
const NAMED =
  /(relation|constraint|column|table|type|index|schema|database|role|sequence|trigger|view|function|operator|extension|savepoint|cursor|statement|portal|channel)\s+$/i;

/** A database error's message with the values it quotes masked and its names kept. */
export function redactDbMessage(message: string): string {
  return message.replace(/"(?:[^"]|"")*"/g, (quoted, offset: number) =>
    NAMED.test(message.slice(Math.max(0, offset - 40), offset)) ? quoted : `"${MASK}"`,
  );
}

// Fields of an error worth keeping: what failed and where in the code, never with what data.
// `code` is the SQLSTATE of database errors (or Node's/Fastify's code); `constraint`, `table`,
// `column` and `schema` are names from the schema.
const ERROR_FIELDS = ['code', 'statusCode', 'status', 'constraint', 'table', 'column', 'schema'];
const isSqlState = (code: unknown) => typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);

/**
 * An error as a log may hold it: type, message, allowlisted fields, the stack's frames and its
 * causes, with every string redacted. Everything else the error carries is dropped.
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) {
    if (err && typeof err === 'object') return redactValue(err, depth);
    return typeof err === 'string' ? redactText(err) : err;
  }
  const e = err as Error & Record<string, unknown>;
  const fromDb = isSqlState(e.code);
  const message = redactText(fromDb ? redactDbMessage(String(e.message)) : String(e.message));
  const out: Record<string, unknown> = { type: e.constructor?.name ?? e.name, message };
  for (const f of ERROR_FIELDS) {
    const v = e[f];
    if (typeof v === 'string' || typeof v === 'number') out[f] = v;
  }
  // The stack's first line repeats the message unredacted: rebuild it from the frames only.
  const frames =
    typeof e.stack === 'string' ? e.stack.split('\n').filter((l) => /^\s+at /.test(l)) : [];
  out.stack = [`${e.name}: ${message}`, ...frames.map(redactText)].join('\n');
  if (depth < 3) {
    if (e.cause !== undefined) out.cause = serializeError(e.cause, depth + 1);
    if (Array.isArray(e.errors))
      out.errors = e.errors.slice(0, 5).map((x: unknown) => serializeError(x, depth + 1));
  }
  return out;
}

// Fields that hold request or response data wherever they appear in a log record.
const DATA_FIELDS = new Set([
  'body',
  'payload',
  'payload_text',
  'data',
  'headers',
  'custom_headers',
  'request_headers',
  'response_headers',
  'response_body',
  'params',
  'query',
  'detail',
  'where',
  'secret',
  'secrets',
  'password',
  'token',
  'authorization',
]);

/** A log record's value with data fields dropped and every string redacted; errors serialized. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value instanceof Error) return serializeError(value, depth);
  if (!value || typeof value !== 'object' || value instanceof Date) return value;
  if (depth > 4) return '[object]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = DATA_FIELDS.has(k.toLowerCase()) ? '[redacted]' : redactValue(v, depth + 1);
  }
  return out;
}
