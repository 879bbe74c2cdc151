/**
 * The one catalogue of errors Hookline answers with. Every error body is
 * `{"error": {"code", "message", "details"}}`; the code is stable and documented,
 * the message is for people and may improve over time.
 */
export const errorCatalog = {
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  BAD_REQUEST: { status: 400, message: 'The request is not well formed.' },
  UNAUTHORIZED: {
    status: 401,
    message: 'A valid API key is required: Authorization: Bearer <key>.',
  },
  FORBIDDEN: { status: 403, message: 'This API key’s role does not allow this action.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive.' },
  CONFLICT: { status: 409, message: 'The request conflicts with the current state.' },
  IDEMPOTENCY_CONFLICT: {
    status: 409,
    message: 'This idempotency key was already used with a different request body.',
  },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  URI_TOO_LONG: { status: 414, message: 'The URL is too long.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the body as application/json.' },
  VALIDATION_FAILED: { status: 422, message: 'Some fields are not valid.' },
  TRANSFORMATION_FAILED: {
    status: 422,
    message: 'The transformation threw, ran out of time or memory, or returned something invalid.',
  },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large or too many.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry after the time given.' },
  INTERNAL: { status: 500, message: 'Something went wrong on our side.' },
  UNAVAILABLE: { status: 503, message: 'The service is not ready.' },
} as const;

export type ErrorCode = keyof typeof errorCatalog;

/** One bad field in a 422: `field` is a dotted path into the body or query. */
export interface FieldError {
  field: string;
  message: string;
  /** A stable reason when a client may act on it, e.g. `blocked_destination` on `url`. */
  code?: string;
}

/** An error that maps to an HTTP answer in the format of docs/api.md ("Errors"). */
export class HooklineError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  /** Extra response headers, e.g. Retry-After on 429. */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message?: string,
    opts: { details?: unknown; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message ?? errorCatalog[code].message, { cause: opts.cause });
    this.name = 'HooklineError';
    this.code = code;
    this.status = errorCatalog[code].status;
    this.details = opts.details ?? null;
    this.headers = opts.headers ?? {};
  }

  toBody() {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export function notFound(what = 'Resource'): HooklineError {
  return new HooklineError('NOT_FOUND', `${what} not found.`);
}

/** A 422 naming each bad field. */
export function validationFailed(fields: FieldError[]): HooklineError {
  const message =
    fields.length === 1
      ? `${fields[0].field}: ${fields[0].message}`
      : `${fields.length} fields are not valid: ${fields.map((f) => f.field).join(', ')}.`;
  return new HooklineError('VALIDATION_FAILED', message, { details: fields });
}

export function fieldError(field: string, message: string): HooklineError {
  return validationFailed([{ field, message }]);
}
