import type { FastifyError, FastifyInstance } from 'fastify';
import { HooklineError, validationFailed, type FieldError } from '../../errors.js';

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
  const out: FieldError[] = [...byField].map(([field, messages]) => ({ field, message: messages.join('; ') }));
  return out;
}

/** Maps every error, ours or Fastify's, to the SPEC's `{"error": {…}}` format. */
export function toHooklineError(err: FastifyError): HooklineError {
  if (err instanceof HooklineError) return err;
  if (err.validation) {
    return validationFailed(fieldErrorsFromAjv(err.validation as AjvIssue[], err.validationContext));
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
  if (status >= 400 && status < 500) return new HooklineError('BAD_REQUEST', err.message, { cause: err });
  return new HooklineError('INTERNAL', undefined, { cause: err });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const mapped = toHooklineError(err);
    if (mapped.status >= 500) request.log.error({ err }, 'request failed');
    void reply.code(mapped.status).headers(mapped.headers).send(mapped.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const e = new HooklineError('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}.`);
    void reply.code(404).send(e.toBody());
  });
}
