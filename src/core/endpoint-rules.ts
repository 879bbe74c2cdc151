/**
 * The rules endpoint security settings must follow that a JSON Schema cannot
 * say: PEM texts that parse, a client key that belongs to its certificate, and
 * an Authorization that is not also set as a custom header. Pure functions
 * returning field errors; the token URL's destination check is the route's.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import type { FieldError } from '../errors.js';
import type { AuthSettings, TlsSettings } from './endpoint-security.js';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle, or a problem. */
function parseCertificates(pem: string): X509Certificate[] | string {
  const blocks = pem.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) return 'must be PEM: one or more -----BEGIN CERTIFICATE----- blocks';
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (err) {
    return `is not a parseable certificate (${(err as Error).message})`;
  }
}

/** Problems with a `tls` object; fields are `tls.client_cert`, `tls.client_key`, `tls.ca`. */
export function tlsErrors(tls: TlsSettings): FieldError[] {
  const errors: FieldError[] = [];
  const { client_cert, client_key, ca } = tls;
  if (!client_cert && !client_key && !ca)
    return [{ field: 'tls', message: 'give client_cert and client_key, ca, or all three' }];
  if (Boolean(client_cert) !== Boolean(client_key)) {
    const missing = client_cert ? 'tls.client_key' : 'tls.client_cert';
    return [{ field: missing, message: 'client_cert and client_key go together' }];
  }
  let cert: X509Certificate | undefined;
  if (client_cert) {
    const certs = parseCertificates(client_cert);
    if (typeof certs === 'string') errors.push({ field: 'tls.client_cert', message: certs });
    else cert = certs[0];
  }
  let key: KeyObject | undefined;
  if (client_key) {
    try {
      if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(client_key)) throw new Error('no PEM block');
      key = createPrivateKey(client_key);
    } catch (err) {
      errors.push({
        field: 'tls.client_key',
        message: `must be an unencrypted PEM private key (${(err as Error).message})`,
      });
    }
  }
  if (cert && key && !cert.checkPrivateKey(key))
    errors.push({ field: 'tls.client_key', message: 'does not match tls.client_cert' });
  if (ca) {
    const certs = parseCertificates(ca);
    if (typeof certs === 'string') errors.push({ field: 'tls.ca', message: certs });
  }
  return errors;
}

/** Problems with an `auth` object that need no network, and its clash with custom headers. */
export function authErrors(
  auth: AuthSettings,
  customHeaders: Record<string, string> | undefined,
): FieldError[] {
  const errors: FieldError[] = [];
  const clash = Object.keys(customHeaders ?? {}).find((n) => n.toLowerCase() === 'authorization');
  if (clash)
    errors.push({
      field: `custom_headers.${clash}`,
      message: 'auth sets the Authorization header: remove one of the two',
    });
  if (auth.type === 'basic' && auth.username.includes(':'))
    errors.push({ field: 'auth.username', message: 'must not contain ":" (RFC 7617)' });
  if (auth.type === 'oauth2_client_credentials') {
    try {
      const url = new URL(auth.token_url);
      if (url.username || url.password)
        errors.push({ field: 'auth.token_url', message: 'must not contain credentials' });
    } catch {
      errors.push({ field: 'auth.token_url', message: 'is not a valid absolute URL' });
    }
  }
  return errors;
}
