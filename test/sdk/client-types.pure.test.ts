import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  OUTPUT,
  openApiDocument,
  renderClientTypes,
  tsType,
} from '../../scripts/gen-client-types.mjs';

describe('src/client/api-types.ts', () => {
  it('is what the generator makes of the current /openapi.json (run `npm run gen:client` when this fails)', async () => {
    const doc = await openApiDocument();
    expect(Object.keys(doc.paths).length).toBeGreaterThan(3);
    expect(readFileSync(OUTPUT, 'utf8')).toBe(renderClientTypes(doc));
  }, 60_000);

  it('names every /api/v1 operation of the document', async () => {
    const doc = await openApiDocument();
    const text = readFileSync(OUTPUT, 'utf8');
    for (const [path, item] of Object.entries(doc.paths as Record<string, object>)) {
      if (!path.startsWith('/api/v1/')) continue;
      for (const method of Object.keys(item)) {
        expect(text).toContain(`"${method.toUpperCase()} ${path.slice('/api/v1'.length)}"`);
      }
    }
  }, 60_000);

  it('turns the JSON Schema shapes TypeBox emits into TypeScript', () => {
    const doc = { components: { schemas: { X: { type: 'integer' } } } };
    expect(tsType({ anyOf: [{ type: 'string' }, { type: 'null' }] }, doc)).toBe('string | null');
    expect(tsType({ enum: ['a', 'b'] }, doc)).toBe('"a" | "b"');
    expect(tsType({ const: 'fifo' }, doc)).toBe('"fifo"');
    expect(tsType({ type: 'array', items: { type: 'string' } }, doc)).toBe('string[]');
    expect(tsType({ $ref: '#/components/schemas/X' }, doc)).toBe('number');
    expect(tsType({ type: 'object', additionalProperties: { type: 'string' } }, doc)).toBe(
      'Record<string, string>',
    );
    expect(
      tsType(
        {
          type: 'object',
          required: ['a'],
          properties: { a: { type: 'boolean' }, 'b-c': { type: 'number' } },
        },
        doc,
      ),
    ).toBe('{\n  a: boolean;\n  "b-c"?: number;\n}');
    expect(tsType({}, doc)).toBe('unknown');
  });
});
