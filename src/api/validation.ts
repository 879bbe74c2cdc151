import Ajv, { type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { addStorableDateTime, withIntegerBounds } from './edge-bounds.js';

const common: Options = {
  allErrors: true,
  // Unknown fields are refused (422), never dropped in silence.
  removeAdditional: false,
  useDefaults: true,
  strict: false,
};

// Bodies are typed JSON: "5" is not 5. Query strings and path params are text, so they are coerced.
const bodyAjv = addStorableDateTime(
  addFormats.default(new Ajv.default({ ...common, coerceTypes: false })),
);
const textAjv = addStorableDateTime(
  addFormats.default(new Ajv.default({ ...common, coerceTypes: 'array' })),
);

/** Fastify's validator compiler: strict for bodies, coercing for querystring, params and headers. */
export const validatorCompiler: FastifySchemaCompiler<any> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv;
  return ajv.compile(withIntegerBounds(schema)) as any;
};
