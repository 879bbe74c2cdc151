/**
 * The Security section of the webhook form (docs/endpoint-security.md): signature scheme,
 * legacy signature, an imported secret (on create), mutual TLS, the Authorization each
 * request carries and, for the organization's own admins only, the webhook's proxy.
 * Private parts are never shown by the API, so they are asked for again when the object
 * holding them changes (a PATCH of `tls` or `auth` replaces it whole).
 */
import type { Webhook, WebhookInput } from '../api';
import { Check, Field } from '../components';

type Scheme = NonNullable<WebhookInput['signature_scheme']>;
type Legacy = NonNullable<WebhookInput['legacy_signature']>;
type AuthType = 'none' | 'basic' | 'bearer' | 'oauth2_client_credentials';

/** What the webhook had when the form opened: what a change is measured against. */
interface SecurityBase {
  scheme: Scheme;
  legacy: Legacy;
  tlsOn: boolean;
  clientCert: string;
  ca: string;
  hasKey: boolean;
  fingerprint: string | null;
  authType: AuthType;
  username: string;
  tokenUrl: string;
  clientId: string;
  scope: string;
  audience: string;
  proxyUrl: string;
  proxyHasPassword: boolean;
}

export interface SecurityState extends Omit<SecurityBase, 'hasKey' | 'fingerprint'> {
  base: SecurityBase;
  secret: string;
  clientKey: string;
  password: string;
  token: string;
  clientSecret: string;
}

export function securityFromWebhook(w?: Webhook): SecurityState {
  const auth = w?.auth ?? null;
  const base: SecurityBase = {
    scheme: w?.signature_scheme ?? 'hmac',
    legacy: w?.legacy_signature ?? 'timestamped',
    tlsOn: Boolean(w?.tls),
    clientCert: w?.tls?.client_cert ?? '',
    ca: w?.tls?.ca ?? '',
    hasKey: Boolean(w?.tls?.has_client_key),
    fingerprint: w?.tls?.client_key_fingerprint ?? null,
    authType: auth?.type ?? 'none',
    username: auth?.type === 'basic' ? auth.username : '',
    tokenUrl: auth?.type === 'oauth2_client_credentials' ? auth.token_url : '',
    clientId: auth?.type === 'oauth2_client_credentials' ? auth.client_id : '',
    scope: auth?.type === 'oauth2_client_credentials' ? (auth.scope ?? '') : '',
    audience: auth?.type === 'oauth2_client_credentials' ? (auth.audience ?? '') : '',
    proxyUrl: w?.proxy_url ?? '',
    proxyHasPassword: Boolean(w?.proxy_has_password),
  };
  const { hasKey: _k, fingerprint: _f, ...editable } = base;
  return {
    ...editable,
    base,
    secret: '',
    clientKey: '',
    password: '',
    token: '',
    clientSecret: '',
  };
}

const tlsChanged = (s: SecurityState) =>
  s.tlsOn !== s.base.tlsOn ||
  (s.tlsOn &&
    (s.clientCert.trim() !== s.base.clientCert.trim() ||
      s.ca.trim() !== s.base.ca.trim() ||
      s.clientKey.trim() !== ''));

const authChanged = (s: SecurityState) =>
  s.authType !== s.base.authType ||
  (s.authType !== 'none' &&
    (s.username !== s.base.username ||
      s.tokenUrl !== s.base.tokenUrl ||
      s.clientId !== s.base.clientId ||
      s.scope !== s.base.scope ||
      s.audience !== s.base.audience ||
      Boolean(s.password || s.token || s.clientSecret)));

const PEM = /-----BEGIN [A-Z0-9 ]+-----/;

/** The section's problems, keyed by the API's field names (tls.client_key, auth.password …). */
export function securityProblems(s: SecurityState, creating: boolean): Record<string, string> {
  const e: Record<string, string> = {};
  const secret = s.secret;
  if (creating && secret) {
    if (secret.startsWith('whsec_')) {
      if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret))
        e.secret = 'whsec_ must be followed by base64.';
    } else if (secret.length < 24 || secret.length > 128)
      e.secret = 'An imported secret has 24 to 128 characters (or is whsec_ + base64).';
    else if (!/^[\x20-\x7e]+$/.test(secret)) e.secret = 'Printable ASCII characters only.';
    else if (secret.trim() !== secret) e.secret = 'No spaces at either end.';
  }
  if (tlsChanged(s) && s.tlsOn) {
    const replacing = !creating && s.base.hasKey && s.clientCert.trim() && !s.clientKey.trim();
    if (!s.clientCert.trim() && !s.clientKey.trim() && !s.ca.trim())
      e.tls = 'Give a client certificate and key, a CA, or both.';
    if (s.clientCert.trim() && !PEM.test(s.clientCert))
      e['tls.client_cert'] = 'Paste a PEM certificate.';
    if (s.ca.trim() && !PEM.test(s.ca)) e['tls.ca'] = 'Paste PEM CA certificates.';
    if (s.clientKey.trim() && !PEM.test(s.clientKey))
      e['tls.client_key'] = 'Paste a PEM private key.';
    else if (replacing)
      e['tls.client_key'] =
        'Paste the private key again: a change to TLS replaces the whole setting.';
    else if (s.clientCert.trim() && !s.clientKey.trim())
      e['tls.client_key'] = 'The certificate needs its private key.';
    else if (s.clientKey.trim() && !s.clientCert.trim())
      e['tls.client_cert'] = 'The private key needs its certificate.';
  }
  if (authChanged(s)) {
    const again =
      creating || s.authType !== s.base.authType ? '' : ' (again: a change to auth replaces it)';
    if (s.authType === 'basic') {
      if (!s.username) e['auth.username'] = 'Give the user name.';
      if (!s.password) e['auth.password'] = `Give the password${again}.`;
    } else if (s.authType === 'bearer') {
      if (!s.token) e['auth.token'] = `Give the token${again}.`;
    } else if (s.authType === 'oauth2_client_credentials') {
      if (!/^https?:\/\//.test(s.tokenUrl.trim()))
        e['auth.token_url'] = 'Give the token URL (https://…).';
      if (!s.clientId) e['auth.client_id'] = 'Give the client id.';
      if (!s.clientSecret) e['auth.client_secret'] = `Give the client secret${again}.`;
    }
  }
  const proxy = s.proxyUrl.trim();
  if (proxy !== s.base.proxyUrl && proxy && !/^http:\/\/[^/]+:\d+\/?$/.test(proxy))
    e.proxy_url = 'An HTTP CONNECT proxy: http://[user:password@]host:port.';
  return e;
}

/** The fields to send: all that are set on create, only the changed ones on edit. */
export function securityInput(
  s: SecurityState,
  creating: boolean,
  adminOnly: boolean,
): Partial<WebhookInput> {
  const out: Partial<WebhookInput> = {};
  if (creating || s.scheme !== s.base.scheme) out.signature_scheme = s.scheme;
  if (creating || s.legacy !== s.base.legacy) out.legacy_signature = s.legacy;
  if (creating && s.secret) out.secret = s.secret;
  if (tlsChanged(s))
    out.tls = s.tlsOn
      ? {
          ...(s.clientCert.trim() ? { client_cert: s.clientCert.trim() } : {}),
          ...(s.clientKey.trim() ? { client_key: s.clientKey.trim() } : {}),
          ...(s.ca.trim() ? { ca: s.ca.trim() } : {}),
        }
      : null;
  if (authChanged(s)) {
    if (s.authType === 'none') out.auth = null;
    else if (s.authType === 'basic')
      out.auth = { type: 'basic', username: s.username, password: s.password };
    else if (s.authType === 'bearer') out.auth = { type: 'bearer', token: s.token };
    else
      out.auth = {
        type: 'oauth2_client_credentials',
        token_url: s.tokenUrl.trim(),
        client_id: s.clientId,
        client_secret: s.clientSecret,
        ...(s.scope ? { scope: s.scope } : {}),
        ...(s.audience ? { audience: s.audience } : {}),
      };
  }
  const proxy = s.proxyUrl.trim();
  if (adminOnly && proxy !== s.base.proxyUrl) out.proxy_url = proxy || null;
  return out;
}

/** Every error key of the section, for the form to open it when one of them is shown. */
export const securityKeys = [
  'secret',
  'signature_scheme',
  'legacy_signature',
  'tls',
  'tls.client_cert',
  'tls.client_key',
  'tls.ca',
  'auth',
  'auth.username',
  'auth.password',
  'auth.token',
  'auth.token_url',
  'auth.client_id',
  'auth.client_secret',
  'proxy_url',
];

export function SecuritySection({
  value: s,
  onChange,
  creating,
  showProxy,
  error,
}: {
  value: SecurityState;
  onChange: (s: SecurityState) => void;
  creating: boolean;
  /** The proxy is the organization's to set: not shown in the portal. */
  showProxy: boolean;
  error: (key: string) => string | undefined;
}) {
  const set = <K extends keyof SecurityState>(k: K, v: SecurityState[K]) =>
    onChange({ ...s, [k]: v });
  const input = (key: string, id: string) => ({
    id,
    'aria-invalid': error(key) ? true : undefined,
    'aria-describedby': error(key) ? `${id}-error` : undefined,
    spellCheck: false,
    autoComplete: 'off',
  });
  const keptSecret = (has: boolean) =>
    !creating && has ? 'Set; not shown. Enter it again to change it.' : undefined;
  const sameAuthType = s.authType === s.base.authType;
  return (
    <div className="security-section">
      <div className="form-grid">
        <Field
          label="Signature scheme"
          htmlFor="wh-signature_scheme"
          error={error('signature_scheme')}
          hint="ed25519 signs with a key pair: receivers verify with the public key (whpk_…) shown with the secret."
        >
          <select
            {...input('signature_scheme', 'wh-signature_scheme')}
            value={s.scheme}
            onChange={(e) => set('scheme', e.target.value as Scheme)}
          >
            <option value="hmac">HMAC (v1)</option>
            <option value="ed25519">ed25519 (v1a)</option>
            <option value="both">Both (v1 and v1a)</option>
          </select>
        </Field>
        <Field
          label="Legacy signature"
          htmlFor="wh-legacy_signature"
          error={error('legacy_signature')}
          hint="x-webhook-signature, for receivers written before Standard Webhooks."
        >
          <select
            {...input('legacy_signature', 'wh-legacy_signature')}
            value={s.legacy}
            onChange={(e) => set('legacy', e.target.value as Legacy)}
          >
            <option value="timestamped">Timestamped: HMAC of "timestamp.body"</option>
            <option value="body">Body: HMAC of the body (GitHub style)</option>
            <option value="none">None</option>
          </select>
        </Field>
      </div>
      {creating && (
        <Field
          label="Signing secret (optional)"
          htmlFor="wh-secret"
          error={error('secret')}
          hint="Leave empty and Hookline generates one. To keep a receiver's secret, paste it: whsec_… or 24–128 characters."
        >
          <input
            {...input('secret', 'wh-secret')}
            value={s.secret}
            onChange={(e) => set('secret', e.target.value)}
            placeholder="whsec_… or your existing secret"
          />
        </Field>
      )}

      <Check checked={s.tlsOn} onChange={(on) => set('tlsOn', on)}>
        Mutual TLS or a private CA
      </Check>
      {error('tls') && <div className="field-error">{error('tls')}</div>}
      {s.tlsOn && (
        <div className="form-grid">
          <Field
            label="Client certificate (PEM)"
            htmlFor="wh-tls-cert"
            error={error('tls.client_cert')}
          >
            <textarea
              {...input('tls.client_cert', 'wh-tls-cert')}
              rows={4}
              className="mono"
              value={s.clientCert}
              onChange={(e) => set('clientCert', e.target.value)}
              placeholder="-----BEGIN CERTIFICATE-----"
            />
          </Field>
          <Field
            label="Client key (PEM)"
            htmlFor="wh-tls-key"
            error={error('tls.client_key')}
            hint={
              s.base.hasKey && !creating ? (
                <>
                  Kept sealed, never shown. Fingerprint{' '}
                  <span className="mono" data-testid="key-fingerprint">
                    {s.base.fingerprint ?? 'unknown'}
                  </span>
                </>
              ) : (
                'Sealed at rest and never shown again.'
              )
            }
          >
            <textarea
              {...input('tls.client_key', 'wh-tls-key')}
              rows={4}
              className="mono"
              value={s.clientKey}
              onChange={(e) => set('clientKey', e.target.value)}
              placeholder="-----BEGIN PRIVATE KEY-----"
            />
          </Field>
          <Field
            label="CA certificates (PEM, optional)"
            htmlFor="wh-tls-ca"
            error={error('tls.ca')}
            hint="Trusted for this receiver instead of the public roots."
          >
            <textarea
              {...input('tls.ca', 'wh-tls-ca')}
              rows={4}
              className="mono"
              value={s.ca}
              onChange={(e) => set('ca', e.target.value)}
            />
          </Field>
        </div>
      )}

      <Field label="Authorization" htmlFor="wh-auth-type" error={error('auth')}>
        <select
          {...input('auth', 'wh-auth-type')}
          value={s.authType}
          onChange={(e) => set('authType', e.target.value as AuthType)}
        >
          <option value="none">None</option>
          <option value="basic">HTTP Basic</option>
          <option value="bearer">Bearer token</option>
          <option value="oauth2_client_credentials">OAuth2 client credentials</option>
        </select>
      </Field>
      {s.authType === 'basic' && (
        <div className="form-grid">
          <Field label="User name" htmlFor="wh-auth-username" error={error('auth.username')}>
            <input
              {...input('auth.username', 'wh-auth-username')}
              value={s.username}
              onChange={(e) => set('username', e.target.value)}
            />
          </Field>
          <Field
            label="Password"
            htmlFor="wh-auth-password"
            error={error('auth.password')}
            hint={keptSecret(sameAuthType && s.base.authType === 'basic')}
          >
            <input
              {...input('auth.password', 'wh-auth-password')}
              type="password"
              value={s.password}
              onChange={(e) => set('password', e.target.value)}
            />
          </Field>
        </div>
      )}
      {s.authType === 'bearer' && (
        <Field
          label="Token"
          htmlFor="wh-auth-token"
          error={error('auth.token')}
          hint={keptSecret(sameAuthType && s.base.authType === 'bearer')}
        >
          <input
            {...input('auth.token', 'wh-auth-token')}
            type="password"
            value={s.token}
            onChange={(e) => set('token', e.target.value)}
          />
        </Field>
      )}
      {s.authType === 'oauth2_client_credentials' && (
        <div className="form-grid">
          <Field label="Token URL" htmlFor="wh-auth-token_url" error={error('auth.token_url')}>
            <input
              {...input('auth.token_url', 'wh-auth-token_url')}
              value={s.tokenUrl}
              onChange={(e) => set('tokenUrl', e.target.value)}
              placeholder="https://idp.example.com/oauth/token"
            />
          </Field>
          <Field label="Client id" htmlFor="wh-auth-client_id" error={error('auth.client_id')}>
            <input
              {...input('auth.client_id', 'wh-auth-client_id')}
              value={s.clientId}
              onChange={(e) => set('clientId', e.target.value)}
            />
          </Field>
          <Field
            label="Client secret"
            htmlFor="wh-auth-client_secret"
            error={error('auth.client_secret')}
            hint={keptSecret(sameAuthType)}
          >
            <input
              {...input('auth.client_secret', 'wh-auth-client_secret')}
              type="password"
              value={s.clientSecret}
              onChange={(e) => set('clientSecret', e.target.value)}
            />
          </Field>
          <Field label="Scope (optional)" htmlFor="wh-auth-scope">
            <input
              {...input('auth.scope', 'wh-auth-scope')}
              value={s.scope}
              onChange={(e) => set('scope', e.target.value)}
            />
          </Field>
          <Field label="Audience (optional)" htmlFor="wh-auth-audience">
            <input
              {...input('auth.audience', 'wh-auth-audience')}
              value={s.audience}
              onChange={(e) => set('audience', e.target.value)}
            />
          </Field>
        </div>
      )}

      {showProxy && (
        <Field
          label="Egress proxy (optional)"
          htmlFor="wh-proxy_url"
          error={error('proxy_url')}
          hint={
            s.base.proxyHasPassword && !creating
              ? 'Its password is kept sealed and not shown: give it again if you change the URL.'
              : 'http://[user:password@]host:port of an HTTP CONNECT proxy, instead of the server’s --egress-proxy.'
          }
        >
          <input
            {...input('proxy_url', 'wh-proxy_url')}
            value={s.proxyUrl}
            onChange={(e) => set('proxyUrl', e.target.value)}
            placeholder="http://proxy.internal:3128"
          />
        </Field>
      )}
    </div>
  );
}
