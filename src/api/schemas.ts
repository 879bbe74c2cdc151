import { Type } from '@sinclair/typebox';
import { TENANT_ID_PATTERN } from '../store/tenants.js';

/** The error body (docs/api.md, "Errors"), for the OpenAPI document. */
export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'Stable code, e.g. VALIDATION_FAILED' }),
    message: Type.String(),
    details: Type.Any(),
  }),
});

/** Error answers most routes can give; spread into a route's `response` schema. */
export const ErrorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  422: ErrorBody,
  429: ErrorBody,
};

/** A tenant id in a path, query or body: the application's own id of its customer (docs/tenants.md). */
export const TenantId = Type.String({
  pattern: TENANT_ID_PATTERN,
  description: 'The application’s own id of its customer: ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$',
});
