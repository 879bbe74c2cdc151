#!/usr/bin/env node
// Writes src/client/api-types.ts, the types of every /api/v1 route, from the OpenAPI
// document the application itself serves at /openapi.json (built here with
// buildApp + app.swagger(), no server and no database needed).
//
//   npm run gen:client        (node --import tsx scripts/gen-client-types.mjs)
//
// test/sdk/client-types.pure.test.ts fails when the checked-in file is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const OUTPUT = fileURLToPath(new URL('../src/client/api-types.ts', import.meta.url));
const PREFIX = '/api/v1';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** The OpenAPI document of the current source tree. Needs a TypeScript loader (tsx or vitest). */
export async function openApiDocument() {
  const { buildApp } = await import('../src/api/app.js');
  const { loadConfig } = await import('../src/config.js');
  const { createMetrics } = await import('../src/metrics.js');
  // Routes are registered without touching the database; a query here would be a bug worth seeing.
  const db = {
    kind: 'pglite',
    query: async () => {
      throw new Error('gen-client-types: the app queried the database while building');
    },
    transaction: async () => {
      throw new Error('gen-client-types: no database');
    },
    listen: async () => async () => {},
    close: async () => {},
  };
  const app = await buildApp({
    db,
    config: { ...loadConfig({}), dev: true, worker: false },
    metrics: createMetrics(),
    wake: () => {},
  });
  await app.ready();
  try {
    return app.swagger();
  } finally {
    await app.close();
  }
}

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (k) => (identifier.test(k) ? k : JSON.stringify(k));
const comment = (text, pad) =>
  text
    ? `${pad}/** ${String(text)
        .replace(/\*\//g, '* /')
        .replace(/\s*\n\s*/g, ' ')} */\n`
    : '';

function union(types) {
  const unique = [...new Set(types)];
  if (unique.includes('unknown')) return 'unknown';
  return unique.length === 1
    ? unique[0]
    : unique.map((t) => (t.includes('=>') ? `(${t})` : t)).join(' | ');
}

/** A TypeScript type for a JSON Schema (the subset TypeBox and fastify-swagger emit). */
export function tsType(schema, doc, depth = 1) {
  if (schema === undefined || schema === true || schema === null) return 'unknown';
  if (schema === false) return 'never';
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop();
    const target = doc.components?.schemas?.[name];
    return target ? tsType(target, doc, depth) : 'unknown';
  }
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return union(schema.enum.map((v) => JSON.stringify(v)));
  if (schema.anyOf || schema.oneOf)
    return union((schema.anyOf ?? schema.oneOf).map((s) => tsType(s, doc, depth)));
  if (schema.allOf) return schema.allOf.map((s) => tsType(s, doc, depth)).join(' & ');
  if (Array.isArray(schema.type))
    return union(schema.type.map((t) => tsType({ ...schema, type: t }, doc, depth)));
  switch (schema.type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array': {
      const item = tsType(schema.items, doc, depth);
      return /^[\w.]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
    }
    case 'object':
    case undefined:
      if (schema.type === undefined && !schema.properties) return 'unknown';
      return objectType(schema, doc, depth);
    default:
      return 'unknown';
  }
}

function objectType(schema, doc, depth) {
  const props = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const extra = schema.additionalProperties;
  const index =
    extra === undefined || extra === false
      ? undefined
      : extra === true
        ? 'unknown'
        : tsType(extra, doc, depth + 1);
  if (props.length === 0) return index ? `Record<string, ${index}>` : 'Record<string, never>';
  const pad = '  '.repeat(depth);
  let out = '{\n';
  for (const [name, s] of props) {
    out += comment(s.description, pad);
    out += `${pad}${key(name)}${required.has(name) ? '' : '?'}: ${tsType(s, doc, depth + 1)};\n`;
  }
  // Declared properties must fit the index signature, so it can only say `unknown`.
  if (index) out += `${pad}[key: string]: unknown;\n`;
  return out + '  '.repeat(depth - 1) + '}';
}

function paramsObject(params, doc, depth) {
  const pad = '  '.repeat(depth);
  let out = '{\n';
  for (const p of params) {
    out += comment(p.description, pad);
    out += `${pad}${key(p.name)}${p.required ? '' : '?'}: ${tsType(p.schema, doc, depth + 1)};\n`;
  }
  return out + '  '.repeat(depth - 1) + '}';
}

function successResponse(op) {
  for (const code of ['200', '201', '202', '204']) {
    const r = op.responses?.[code];
    if (!r) continue;
    if (code === '204') return { code, schema: false };
    return { code, schema: r.content?.['application/json']?.schema };
  }
  return { code: '200', schema: undefined };
}

/** The text of src/client/api-types.ts for an OpenAPI document. */
export function renderClientTypes(doc) {
  const ops = [];
  for (const [fullPath, item] of Object.entries(doc.paths ?? {})) {
    if (!fullPath.startsWith(PREFIX + '/')) continue;
    const path = fullPath.slice(PREFIX.length);
    for (const method of METHODS) {
      const op = item[method];
      if (op) ops.push({ name: `${method.toUpperCase()} ${path}`, op, method, path });
    }
  }
  ops.sort((a, b) =>
    a.path === b.path
      ? METHODS.indexOf(a.method) - METHODS.indexOf(b.method)
      : a.path < b.path
        ? -1
        : 1,
  );

  let out = `// Generated by scripts/gen-client-types.mjs from the app's OpenAPI document. Do not edit:
// run \`npm run gen:client\` after changing a route (a test fails while this file is stale).
/* eslint-disable */

/**
 * Every /api/v1 operation, keyed by "METHOD /path" as the OpenAPI document names it.
 * \`request\` is what the client takes (path params, query, body), \`response\` the
 * JSON of the success answer (\`status\`).
 */
export interface Operations {
`;
  for (const { name, op } of ops) {
    const params = op.parameters ?? [];
    const pathParams = params.filter((p) => p.in === 'path');
    const query = params.filter((p) => p.in === 'query');
    const bodySchema = op.requestBody?.content?.['application/json']?.schema;
    const success = successResponse(op);
    out += comment([op.summary, op.description].filter(Boolean).join(': '), '  ');
    out += `  ${JSON.stringify(name)}: {\n`;
    out += `    request: {\n`;
    if (pathParams.length)
      out += `      params: ${paramsObject(
        pathParams.map((p) => ({ ...p, required: true })),
        doc,
        4,
      )};\n`;
    if (query.length)
      out += `      query${query.some((p) => p.required) ? '' : '?'}: ${paramsObject(query, doc, 4)};\n`;
    if (bodySchema)
      out += `      body${op.requestBody.required ? '' : '?'}: ${tsType(bodySchema, doc, 4)};\n`;
    out += `    };\n`;
    out += `    status: ${success.code};\n`;
    out += `    response: ${success.schema === false ? 'void' : tsType(success.schema, doc, 3)};\n`;
    out += `  };\n`;
  }
  out += `}

export type OperationName = keyof Operations;
`;
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = renderClientTypes(await openApiDocument());
  writeFileSync(OUTPUT, text);
  process.stdout.write(`wrote ${OUTPUT}\n`);
}
