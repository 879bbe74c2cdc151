/**
 * What a caller may read of header values (docs/security.md, "Header values"): admins and
 * portal sessions that may write (they set the values themselves) read them all; viewers and
 * read-only portal sessions read `***` for every header src/core/credential-headers.ts calls a
 * credential, the same headers the audit log masks.
 */
import type { FastifyRequest } from 'fastify';
import { maskCredentialHeaders } from '../core/credential-headers.js';
import { portalWebhookView } from './portal-scope.js';

/** Whether the caller reads credential header values as they are. */
export function mayReadCredentials(request: FastifyRequest): boolean {
  const { role, portal } = request.auth;
  return portal ? !portal.readOnly : role === 'admin';
}

/** A webhook as the caller reads it: the portal's view, credentials masked for readers. */
export function webhookView<
  T extends { custom_headers?: unknown; proxy_url?: unknown; proxy_has_password?: unknown },
>(request: FastifyRequest, webhook: T): T {
  const view = portalWebhookView(request, webhook);
  if (mayReadCredentials(request) || !view.custom_headers) return view;
  return {
    ...view,
    custom_headers: maskCredentialHeaders(view.custom_headers as Record<string, string>),
  };
}

/** A delivery attempt as the caller reads it: the headers it was sent with, masked for readers. */
export function attemptView<T extends { request_headers: Record<string, string> }>(
  request: FastifyRequest,
  attempt: T,
): T {
  if (mayReadCredentials(request)) return attempt;
  return { ...attempt, request_headers: maskCredentialHeaders(attempt.request_headers) };
}
