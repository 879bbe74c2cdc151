import type { FastifyError, FastifyInstance } from 'fastify';
import { HooklineError, validationFailed, type FieldError } from '../../errors.js';
import { pgErrorCode } from '../../store/db.js';

// Text PostgreSQL refuses to store: NUL in text (22021), \u0000 in jsonb (22P05), an unpaired
// surrogate in jsonb (22P02). JSON allows all three, so they reach the database; they are the
// client's error, not ours.
const UNSTORABLE_TEXT = new Set(['22021', '22P05', '22P02']);
// eslint-disable-next-line no-control-regex -- NUL is exactly what PostgreSQL text cannot store
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Dotted paths of the strings (values or keys) in a body that the database cannot store. */
export function unstorableFields(value: unknown, path = '', out: string[] = []): string[] {
  if (out.length >= 20) return out;
  if (typeof value === 'string') {
    if (UNSTORABLE.test(value)) out.push(path || 'body');
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      if (UNSTORABLE.test(k)) out.push(p);
      else unstorableFields(v, p, out);
    }
  }
  return out;
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Turns ajv's issues into `{field, message}` pairs a person can act on. */
export function fieldErrorsFromAjv(issues: AjvIssue[], context: string | undefined): FieldError[] {
  // One entry per field: a field with several problems gets its messages joined.
  const byField = new Map<string, string[]>();
  for (const issue of issues) {
    let path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
    let message = issue.message ?? 'is not valid';
    if (issue.keyword === 'required') {
      path = [path, String(issue.params.missingProperty)].filter(Boolean).join('.');
      message = 'is required';
    } else if (issue.keyword === 'additionalProperties') {
      path = [path, String(issue.params.additionalProperty)].filter(Boolean).join('.');
      message = 'is not a known field';
    }
    const field = path || (context === 'body' ? 'body' : (context ?? 'request'));
    const messages = byField.get(field) ?? [];
    if (!messages.includes(message)) messages.push(message);
    byField.set(field, messages);
  }
  const out: FieldError[] = [...byField].map(([field, messages]) => ({
    field,
    message: messages.join('; '),
  }));
  return out;
}

/** Maps every error, ours or Fastify's, to the `{"error": {…}}` format of docs/api.md ("Errors"). */
export function toHooklineError(err: FastifyError): HooklineError {
  if (err instanceof HooklineError) return err;
  if (err.validation) {
    return validationFailed(
      fieldErrorsFromAjv(err.validation as AjvIssue[], err.validationContext),
    );
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HooklineError('MALFORMED_JSON', undefined, { cause: err });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HooklineError('PAYLOAD_TOO_LARGE', undefined, { cause: err });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HooklineError('UNSUPPORTED_MEDIA_TYPE', undefined, { cause: err });
  }
  const status = err.statusCode ?? 500;
  if (status === 413) return new HooklineError('PAYLOAD_TOO_LARGE', undefined, { cause: err });
  if (status === 429) return new HooklineError('RATE_LIMITED', undefined, { cause: err });
  if (status >= 400 && status < 500)
    return new HooklineError('BAD_REQUEST', err.message, { cause: err });
  return new HooklineError('INTERNAL', undefined, { cause: err });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    let mapped = toHooklineError(err);
    const code = pgErrorCode(err);
    if (mapped.code === 'INTERNAL' && code && UNSTORABLE_TEXT.has(code)) {
      const fields = unstorableFields(request.body);
      const message = 'contains the NUL character or an unpaired surrogate, which cannot be stored';
      mapped = validationFailed(
        (fields.length ? fields : ['body']).map((field) => ({ field, message })),
      );
    }
    if (mapped.status >= 500) request.log.error({ err }, 'request failed');
    void reply.code(mapped.status).headers(mapped.headers).send(mapped.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const e = new HooklineError(
      'NOT_FOUND',
      `No route for ${request.method} ${request.url.split('?')[0]}.`,
    );
    void reply.code(404).send(e.toBody());
  });
}
