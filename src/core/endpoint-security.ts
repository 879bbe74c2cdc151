/**
 * A webhook's endpoint security settings (docs/endpoint-security.md): the
 * signature scheme and ed25519 signing keys, the legacy signature header, the
 * mutual-TLS client certificate and private CA, the Authorization each request
 * carries, and the webhook's own egress proxy. They are kept in
 * one jsonb column, `endpoint_security`, with every private part sealed by the
 * secret box; this module turns API input into that shape, the shape into what
 * the API shows (never a private part) and into what the worker sends with.
 */
import { X509Certificate, createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { SecretBox } from './secret-box.js';
import { formatPublicKey, generateSigningSeed } from './ed25519.js';
import type { LegacySignature } from './signing.js';

export type SignatureScheme = 'hmac' | 'ed25519' | 'both';
export type { LegacySignature };

/** PEM texts. `client_cert` and `client_key` come together; `ca` replaces the public roots for this receiver. */
export interface TlsSettings {
  client_cert?: string;
  client_key?: string;
  ca?: string;
}

/** The stored `tls`: the key sealed, beside the fingerprint the API shows in its place. */
interface StoredTls extends TlsSettings {
  client_key_fingerprint?: string;
}

/** The stored `proxy_url`: the URL without its password, which is sealed on its own. */
interface StoredProxy {
  url: string;
  password?: string;
}

export type AuthSettings =
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string }
  | {
      type: 'oauth2_client_credentials';
      token_url: string;
      client_id: string;
      client_secret: string;
      scope?: string;
      audience?: string;
    };

/** What a client may set; `null` removes `tls` or `auth`. */
export interface EndpointInput {
  signature_scheme?: SignatureScheme;
  legacy_signature?: LegacySignature;
  tls?: TlsSettings | null;
  auth?: AuthSettings | null;
  /** An HTTP CONNECT proxy for this webhook's deliveries (admins only), checked by the API. */
  proxy_url?: string | null;
}

/** One earlier signing key, still signing until `expires_at` (like previous_secrets). */
export interface PreviousSigningKey {
  key: string;
  expires_at: string;
}

/** The `endpoint_security` column. Private parts (`signing_key`, `tls.client_key`, auth secrets) are sealed. */
export interface StoredEndpoint {
  signature_scheme?: SignatureScheme;
  /** Sealed base64 of the 32-byte ed25519 seed. */
  signing_key?: string;
  previous_signing_keys?: PreviousSigningKey[];
  legacy_signature?: LegacySignature;
  tls?: StoredTls;
  auth?: AuthSettings;
  proxy?: StoredProxy;
}

/** What the API shows of `tls`: the public certificates, never the key. */
export interface TlsView {
  client_cert: string | null;
  ca: string | null;
  has_client_key: boolean;
  /** `sha256:` + hex SHA-256 of the key's public part (SPKI DER), to tell keys apart without showing one. */
  client_key_fingerprint: string | null;
}

/** What the API shows of `auth`: its type and public parts; each secret only as `has_…`. */
export type AuthView =
  | { type: 'basic'; username: string; has_password: boolean }
  | { type: 'bearer'; has_token: boolean }
  | {
      type: 'oauth2_client_credentials';
      token_url: string;
      client_id: string;
      scope: string | null;
      audience: string | null;
      has_client_secret: boolean;
    };

export interface EndpointView {
  signature_scheme: SignatureScheme;
  legacy_signature: LegacySignature;
  tls: TlsView | null;
  auth: AuthView | null;
  /** The proxy URL without its password; absent for portal sessions (src/api/portal-scope.ts). */
  proxy_url?: string | null;
  proxy_has_password?: boolean;
}

/** What the worker sends with: everything opened. */
export interface OpenEndpoint {
  scheme: SignatureScheme;
  legacySignature: LegacySignature;
  /** Current seed first, then those of earlier rotations still in their grace period. */
  signingSeeds: Buffer[];
  tls?: TlsSettings;
  auth?: AuthSettings;
  /** The webhook's proxy URL, password included; it replaces --egress-proxy. */
  proxyUrl?: string;
  /** When a previous signing key's grace ends (ms), after which the seeds change; Infinity if never. */
  validUntil: number;
}

const SECRET_FIELDS = {
  basic: 'password',
  bearer: 'token',
  oauth2_client_credentials: 'client_secret',
} as const;

function mapAuthSecret(auth: AuthSettings, f: (v: string) => string): AuthSettings {
  const field = SECRET_FIELDS[auth.type];
  return { ...auth, [field]: f((auth as Record<string, string>)[field]) } as AuthSettings;
}

/** `sha256:` + hex SHA-256 of the public key (SPKI DER) of a private key or certificate. */
export function keyFingerprint(pem: string): string {
  // createPublicKey takes a private key PEM too and derives its public part.
  const key: KeyObject = pem.includes('PRIVATE KEY')
    ? createPublicKey(pem)
    : new X509Certificate(pem).publicKey;
  const spki = key.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

function fingerprintOf(tls: StoredTls): string | null {
  if (tls.client_key_fingerprint) return tls.client_key_fingerprint;
  // Saved before fingerprints were stored: the certificate holds the same public key.
  try {
    return tls.client_cert ? keyFingerprint(tls.client_cert) : null;
  } catch {
    return null;
  }
}

/** `http://[user@]host:port` and the password apart (sealed by the caller). */
function splitProxyUrl(text: string): { url: string; password: string } {
  const u = new URL(text);
  const user = u.username ? `${u.username}@` : '';
  return { url: `${u.protocol}//${user}${u.host}`, password: u.password };
}

function joinProxyUrl(url: string, password: string | undefined): string {
  if (!password) return url;
  const u = new URL(url);
  u.password = password; // kept percent-encoded as given
  return `${u.protocol}//${u.username}:${u.password}@${u.host}`;
}

/**
 * The column after applying `input` to `stored` (`{}` for a new webhook). Every
 * webhook gets a signing key on its first save, so a receiver can fetch the public
 * key before the scheme is switched to ed25519.
 */
export function applyEndpointInput(
  box: SecretBox,
  stored: StoredEndpoint,
  input: EndpointInput,
): StoredEndpoint {
  const out: StoredEndpoint = { ...stored };
  if (input.signature_scheme !== undefined) out.signature_scheme = input.signature_scheme;
  if (input.legacy_signature !== undefined) out.legacy_signature = input.legacy_signature;
  if (!out.signing_key) out.signing_key = box.seal(generateSigningSeed().toString('base64'));
  if (input.tls === null) delete out.tls;
  else if (input.tls !== undefined) {
    const { client_cert, client_key, ca } = input.tls;
    out.tls = {
      ...(client_cert ? { client_cert } : {}),
      ...(client_key
        ? { client_key: box.seal(client_key), client_key_fingerprint: keyFingerprint(client_key) }
        : {}),
      ...(ca ? { ca } : {}),
    };
  }
  if (input.auth === null) delete out.auth;
  else if (input.auth !== undefined) out.auth = mapAuthSecret(input.auth, (v) => box.seal(v));
  if (input.proxy_url === null) delete out.proxy;
  else if (input.proxy_url !== undefined) {
    const { url, password } = splitProxyUrl(input.proxy_url);
    out.proxy = { url, ...(password ? { password: box.seal(password) } : {}) };
  }
  return out;
}

/** True when `input` sets any endpoint field. */
export function hasEndpointInput(input: EndpointInput): boolean {
  return (
    input.signature_scheme !== undefined ||
    input.legacy_signature !== undefined ||
    input.tls !== undefined ||
    input.auth !== undefined ||
    input.proxy_url !== undefined
  );
}

/** The API view of the column. */
export function endpointView(stored: StoredEndpoint | null | undefined): EndpointView {
  const s = stored ?? {};
  const tls = s.tls
    ? {
        client_cert: s.tls.client_cert ?? null,
        ca: s.tls.ca ?? null,
        has_client_key: Boolean(s.tls.client_key),
        client_key_fingerprint: s.tls.client_key ? fingerprintOf(s.tls) : null,
      }
    : null;
  let auth: AuthView | null = null;
  if (s.auth?.type === 'basic')
    auth = { type: 'basic', username: s.auth.username, has_password: Boolean(s.auth.password) };
  else if (s.auth?.type === 'bearer') auth = { type: 'bearer', has_token: Boolean(s.auth.token) };
  else if (s.auth?.type === 'oauth2_client_credentials')
    auth = {
      type: s.auth.type,
      token_url: s.auth.token_url,
      client_id: s.auth.client_id,
      scope: s.auth.scope ?? null,
      audience: s.auth.audience ?? null,
      has_client_secret: Boolean(s.auth.client_secret),
    };
  return {
    signature_scheme: s.signature_scheme ?? 'hmac',
    legacy_signature: s.legacy_signature ?? 'timestamped',
    tls,
    auth,
    proxy_url: s.proxy?.url ?? null,
    proxy_has_password: Boolean(s.proxy?.password),
  };
}

/** What the audit log keeps of an endpoint change: the view of the input, no private part. */
export function endpointAudit(input: EndpointInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (input.signature_scheme !== undefined) out.signature_scheme = input.signature_scheme;
  if (input.legacy_signature !== undefined) out.legacy_signature = input.legacy_signature;
  if (input.tls !== undefined) out.tls = input.tls && endpointView({ tls: input.tls }).tls;
  if (input.proxy_url !== undefined)
    out.proxy_url = input.proxy_url && splitProxyUrl(input.proxy_url).url;
  if (input.auth !== undefined) out.auth = input.auth && endpointView({ auth: input.auth }).auth;
  return out;
}

/** `whpk_…` of the current signing key, or null for a webhook saved before keys existed. */
export function publicKeyOf(
  box: SecretBox,
  stored: StoredEndpoint | null | undefined,
): string | null {
  if (!stored?.signing_key) return null;
  return formatPublicKey(Buffer.from(box.open(stored.signing_key), 'base64'));
}

/**
 * The column after a rotation: a new signing key; the old one keeps signing until
 * `expiresAt` (null: it stops at once), as the HMAC secret's rotation does.
 */
export function rotateSigningKey(
  box: SecretBox,
  stored: StoredEndpoint | null | undefined,
  expiresAt: Date | null,
  maxPrevious: number,
  now = Date.now(),
): StoredEndpoint {
  const s = stored ?? {};
  const previous = (s.previous_signing_keys ?? []).filter((p) => Date.parse(p.expires_at) > now);
  if (s.signing_key && expiresAt)
    previous.unshift({
      key: box.seal(box.open(s.signing_key)),
      expires_at: expiresAt.toISOString(),
    });
  previous.sort((a, b) => Date.parse(b.expires_at) - Date.parse(a.expires_at));
  previous.splice(maxPrevious);
  return {
    ...s,
    signing_key: box.seal(generateSigningSeed().toString('base64')),
    previous_signing_keys: previous,
  };
}

/** Opens the column for sending at `now`. */
export function openEndpoint(
  box: SecretBox,
  stored: StoredEndpoint | null | undefined,
  now = Date.now(),
): OpenEndpoint {
  const s = stored ?? {};
  const live = (s.previous_signing_keys ?? [])
    .filter((p) => Date.parse(p.expires_at) > now)
    .sort((a, b) => Date.parse(b.expires_at) - Date.parse(a.expires_at));
  const seeds = [s.signing_key, ...live.map((p) => p.key)]
    .filter((k): k is string => Boolean(k))
    .map((k) => Buffer.from(box.open(k), 'base64'));
  const ends = live.map((p) => Date.parse(p.expires_at));
  return {
    scheme: s.signature_scheme ?? 'hmac',
    legacySignature: s.legacy_signature ?? 'timestamped',
    signingSeeds: seeds,
    tls: s.tls && {
      ...(s.tls.client_cert ? { client_cert: s.tls.client_cert } : {}),
      ...(s.tls.client_key ? { client_key: box.open(s.tls.client_key) } : {}),
      ...(s.tls.ca ? { ca: s.tls.ca } : {}),
    },
    auth: s.auth && mapAuthSecret(s.auth, (v) => box.open(v)),
    proxyUrl: s.proxy && joinProxyUrl(s.proxy.url, s.proxy.password && box.open(s.proxy.password)),
    validUntil: ends.length ? Math.min(...ends) : Infinity,
  };
}
