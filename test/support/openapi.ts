/**
 * Walking the app's own OpenAPI document, so tests cover every route that exists,
 * including routes added after the test was written.
 */
import type { FastifyInstance } from 'fastify';

export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Relative to /api/v1, with `{param}` placeholders, e.g. `/webhooks/{id}/test`. */
  path: string;
  pathParams: string[];
  query: Array<{ name: string; schema: Schema }>;
  body?: Schema;
}

export type Schema = Record<string, any>;

/** Every /api/v1 operation in the document. */
export function operations(app: FastifyInstance): Operation[] {
  const doc = app.swagger() as { paths: Record<string, Record<string, any>> };
  const out: Operation[] = [];
  for (const [fullPath, ops] of Object.entries(doc.paths)) {
    if (!fullPath.startsWith('/api/v1/')) continue;
    for (const [method, op] of Object.entries(ops)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params = (op.parameters ?? []) as Array<{ in: string; name: string; schema: Schema }>;
      out.push({
        method: method.toUpperCase() as Operation['method'],
        path: fullPath.slice('/api/v1'.length),
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: params
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        body: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return out;
}

/** encodeURIComponent that also takes lone surrogates (as U+FFFD), which it would throw on. */
export function encodeUri(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return encodeURIComponent(text.replace(/[\ud800-\udfff]/g, '\ufffd'));
  }
}

/** `path` with each `{param}` replaced by `values[param]` (URL-encoded). */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`no value for {${name}} in ${path}`);
    return encodeUri(values[name]);
  });
}

/**
 * A small value that satisfies `schema` (required properties only, first
 * alternative of a union, minimum of a range). `hints` override fields by name,
 * for values the schema cannot tell (a registered event type, a reachable URL).
 */
export function sampleOf(
  schema: Schema | undefined,
  hints: Record<string, unknown> = {},
  name = '',
): unknown {
  if (!schema) return undefined;
  if (name in hints) return hints[name];
  if ('const' in schema) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const alt = schema.anyOf ?? schema.oneOf;
  if (alt) return sampleOf(alt.find((s: Schema) => s.type !== 'null') ?? alt[0], hints, name);
  if (schema.allOf)
    return Object.assign({}, ...schema.allOf.map((s: Schema) => sampleOf(s, hints, name)));
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? [])
        out[key] = sampleOf(schema.properties?.[key], hints, key);
      return out;
    }
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () =>
        sampleOf(schema.items, hints, name),
      );
    case 'integer':
    case 'number':
      return (
        schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1)
      );
    case 'boolean':
      return false;
    case 'string':
      if (schema.format === 'date-time') return new Date(Date.now() - 3_600_000).toISOString();
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    default:
      return {};
  }
}
