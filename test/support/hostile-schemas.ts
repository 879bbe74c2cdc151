/**
 * Event-type schemas written as an attacker with an admin or portal key would write them
 * (docs/security.md, "Event type schemas"), and payloads that make a naive validator slow or
 * crash. For the seeded fuzz (test/api/fuzz-hostile.test.ts); test/api/hostile-schemas.test.ts
 * checks the expected answer to each class one by one.
 */

const deep = (n: number): Record<string, unknown> =>
  n === 0 ? { type: 'string' } : { type: 'object', properties: { a: deep(n - 1) } };

/** JSON Schemas (and things that are not schemas) to save as an event type's `schema`. */
export const HOSTILE_SCHEMAS: unknown[] = [
  { $async: true, type: 'object' },
  { type: 'object', properties: { v: { $async: true } } },
  { type: 'object', properties: { v: { type: 'string', pattern: '^(a+)+$' } } },
  { type: 'object', patternProperties: { '^(a|aa)+$': { type: 'string' } } },
  { type: 'object', properties: { v: { type: 'string', pattern: '(?=a)b' } } },
  { type: 'object', properties: { v: { type: 'string', pattern: '(a)\\1' } } },
  { type: 'object', properties: { v: { type: 'string', pattern: '(' } } },
  { type: 'object', properties: { v: { type: 'string', pattern: '\\p{L}+' } } },
  { type: 'object', properties: { v: { type: 'array', uniqueItems: true } } },
  { type: 'object', properties: { v: { type: 'array', uniqueItems: true, maxItems: 1000 } } },
  { type: 'object', properties: { v: { enum: Array.from({ length: 25_000 }, (_, i) => i) } } },
  { $ref: '#' },
  { type: 'object', properties: { child: { $ref: '#' } } },
  { $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } }, $ref: '#/$defs/a' },
  { $ref: 'https://evil.example/schema.json' },
  { $ref: 'other-org-schema.json' },
  { $id: 'https://shared.example/s.json', type: 'object', required: ['id'] },
  { type: 'object', properties: { v: { $id: 'https://nested.example/x' } } },
  deep(40),
  { type: 'object', properties: { v: { type: 'string', format: 'no-such-format' } } },
  { type: 'object', properties: { v: { type: 'integer', maximum: 2 ** 64 } } },
  { type: 'object', properties: { v: { type: 'number', multipleOf: 1e-300 } } },
  { type: 'object', properties: { v: { type: 'number', multipleOf: 0 } } },
  { type: 'object', properties: { v: { type: 'string', maxLength: -1 } } },
  { type: 'object', properties: { v: { type: 'string', minLength: 2 ** 63 } } },
  { type: 'object', properties: { v: { $data: '1/w' } } },
  { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' },
  { type: 5 },
  { type: ['object', 'nope'] },
  { required: 'id' },
  { if: { type: 'object' }, then: { required: ['x'] }, else: false },
  { not: {} },
  { dependentSchemas: { a: { $ref: '#' } } },
  { description: 'x'.repeat(70_000) },
  'not a schema',
  [],
  true,
  false,
  7,
];

/** Payloads to publish to the types above. */
export const HOSTILE_PAYLOADS: unknown[] = [
  { v: 'a'.repeat(30) + '!' },
  { v: Array.from({ length: 35_000 }, (_, i) => i % 7) },
  { ['a'.repeat(40) + '!']: 'x' },
  { v: 2 ** 63 },
  { v: 1e308, w: -0 },
  { child: { child: { child: {} } } },
  { id: 'x', v: '\u00e9\ud83d\ude00' },
  [],
  'x',
  null,
];
