/**
 * A webhook's endpoint security settings (docs/endpoint-security.md): the
 * signature scheme and ed25519 signing keys, the mutual-TLS client certificate
 * and private CA, and the Authorization each request carries. They are kept in
 * one jsonb column, `endpoint_security`, with every private part sealed by the
 * secret box; this module turns API input into that shape, the shape into what
 * the API shows (never a private part) and into what the worker sends with.
 */
import type { SecretBox } from './secret-box.js';
import { formatPublicKey, generateSigningSeed } from './ed25519.js';

export type SignatureScheme = 'hmac' | 'ed25519' | 'both';

/** PEM texts. `client_cert` and `client_key` come together; `ca` replaces the public roots for this receiver. */
export interface TlsSettings {
  client_cert?: string;
  client_key?: string;
  ca?: string;
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
  tls?: TlsSettings | null;
  auth?: AuthSettings | null;
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
  tls?: TlsSettings;
  auth?: AuthSettings;
}

/** What the API shows of `tls`: the public certificates, never the key. */
export interface TlsView {
  client_cert: string | null;
  ca: string | null;
  has_client_key: boolean;
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
  tls: TlsView | null;
  auth: AuthView | null;
}

/** What the worker sends with: everything opened. */
export interface OpenEndpoint {
  scheme: SignatureScheme;
  /** Current seed first, then those of earlier rotations still in their grace period. */
  signingSeeds: Buffer[];
  tls?: TlsSettings;
  auth?: AuthSettings;
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
  if (!out.signing_key) out.signing_key = box.seal(generateSigningSeed().toString('base64'));
  if (input.tls === null) delete out.tls;
  else if (input.tls !== undefined) {
    const { client_cert, client_key, ca } = input.tls;
    out.tls = {
      ...(client_cert ? { client_cert } : {}),
      ...(client_key ? { client_key: box.seal(client_key) } : {}),
      ...(ca ? { ca } : {}),
    };
  }
  if (input.auth === null) delete out.auth;
  else if (input.auth !== undefined) out.auth = mapAuthSecret(input.auth, (v) => box.seal(v));
  return out;
}

/** True when `input` sets any endpoint field. */
export function hasEndpointInput(input: EndpointInput): boolean {
  return (
    input.signature_scheme !== undefined || input.tls !== undefined || input.auth !== undefined
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
  return { signature_scheme: s.signature_scheme ?? 'hmac', tls, auth };
}

/** What the audit log keeps of an endpoint change: the view of the input, no private part. */
export function endpointAudit(input: EndpointInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (input.signature_scheme !== undefined) out.signature_scheme = input.signature_scheme;
  if (input.tls !== undefined) out.tls = input.tls && endpointView({ tls: input.tls }).tls;
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
    signingSeeds: seeds,
    tls: s.tls && {
      ...s.tls,
      ...(s.tls.client_key ? { client_key: box.open(s.tls.client_key) } : {}),
    },
    auth: s.auth && mapAuthSecret(s.auth, (v) => box.open(v)),
    validUntil: ends.length ? Math.min(...ends) : Infinity,
  };
}
