/**
 * Which header values are credentials (docs/security.md, "Header values"). One predicate, so
 * the audit log, the webhook as a viewer reads it and an attempt's request headers as a viewer
 * reads them never disagree about what is secret.
 */

// Matched anywhere in the lower-cased name: `authorization`, `x-auth-token`, `x-api-key`,
// `apikey`, `x-client-secret`, `cookie`, `x-hub-signature`, `x-session-id`, `private-token`.
const CREDENTIAL_PARTS = [
  'auth',
  'token',
  'secret',
  'key',
  'password',
  'passwd',
  'pwd',
  'cookie',
  'signature',
  'session',
  'credential',
  'private',
];

/** What a credential's value is replaced by for a reader who may not see it. */
export const MASKED_VALUE = '***';

/** Whether a header's value is to be treated as a credential, judged by its name alone. */
export function isCredentialHeader(name: string): boolean {
  const n = name.toLowerCase();
  return CREDENTIAL_PARTS.some((part) => n.includes(part));
}

/** The headers with every credential's value replaced by MASKED_VALUE; names are kept. */
export function maskCredentialHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([n, v]) => [n, isCredentialHeader(n) ? MASKED_VALUE : v]),
  );
}
