/**
 * The webhook API's endpoint security fields (docs/endpoint-security.md): their
 * route schemas, the checks beyond them, and the store calls, so that the
 * webhook routes only spread these in.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { Config } from '../config.js';
import { HooklineError, type FieldError } from '../errors.js';
import { authErrors, tlsErrors } from '../core/endpoint-rules.js';
import type { EndpointInput } from '../core/endpoint-security.js';
import { assertDestinationAllowed, assertHostAllowed } from '../net/guard.js';
import { parseProxyUrl } from '../net/egress-proxy.js';
import type { Queryable } from '../store/db.js';
import type { WebhookRow } from '../store/webhooks.js';
import { WEBHOOK_KEY_NAMES } from '../store/names.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Pem = (description: string) => Type.String({ minLength: 1, maxLength: 65_536, description });
// What may go in an Authorization header value: visible ASCII (no CR/LF, no control characters).
const HeaderSafe = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[\\x20-\\x7e]+$', description });

const SignatureScheme = Type.Union(
  [Type.Literal('hmac'), Type.Literal('ed25519'), Type.Literal('both')],
  {
    description:
      'hmac (default): webhook-signature v1; ed25519: v1a only; both: v1 and v1a. The public key is in GET /webhooks/{id}/secret.',
  },
);

const LegacySignature = Type.Union(
  [Type.Literal('timestamped'), Type.Literal('body'), Type.Literal('none')],
  {
    description:
      'x-webhook-signature: timestamped (default): sha256=<hex HMAC of "{timestamp}.{body}">; body: sha256=<hex HMAC of the body> (GitHub X-Hub-Signature-256 style); none: not sent.',
  },
);

const ProxyUrl = Type.String({
  minLength: 1,
  maxLength: 2048,
  description:
    'http://[user:password@]host:port of an HTTP CONNECT proxy for this webhook, instead of --egress-proxy. Admin keys only; the password is sealed and never returned. Outside --dev the proxy host is checked like a webhook URL.',
});

const TlsInput = Type.Object(
  {
    client_cert: Type.Optional(Pem('PEM client certificate (chain) presented to the receiver')),
    client_key: Type.Optional(Pem('PEM private key of client_cert; sealed, never returned')),
    ca: Type.Optional(
      Pem('PEM CA certificates trusted for this receiver instead of the public roots'),
    ),
  },
  { additionalProperties: false, description: 'Mutual TLS and a private CA; null removes it.' },
);

const AuthInput = Type.Union(
  [
    Type.Object(
      {
        type: Type.Literal('basic'),
        username: HeaderSafe(256),
        password: HeaderSafe(1024, 'sealed, never returned'),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { type: Type.Literal('bearer'), token: HeaderSafe(4096, 'sealed, never returned') },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        type: Type.Literal('oauth2_client_credentials'),
        token_url: Type.String({
          minLength: 1,
          maxLength: 2048,
          description: 'https:// (http:// only with --dev); checked like the webhook URL',
        }),
        client_id: HeaderSafe(512),
        client_secret: HeaderSafe(4096, 'sealed, never returned'),
        scope: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
        audience: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'The Authorization header each request carries; null removes it.' },
);

/** The settable fields, for the create and patch bodies. */
export const endpointFields = {
  signature_scheme: SignatureScheme,
  legacy_signature: LegacySignature,
  tls: Nullable(TlsInput),
  auth: Nullable(AuthInput),
  proxy_url: Nullable(ProxyUrl),
};

/** The fields of a webhook as the API shows it. */
export const endpointViewFields = {
  signature_scheme: SignatureScheme,
  legacy_signature: LegacySignature,
  tls: Nullable(
    Type.Object({
      client_cert: Nullable(Type.String()),
      ca: Nullable(Type.String()),
      has_client_key: Type.Boolean(),
      client_key_fingerprint: Nullable(
        Type.String({ description: 'sha256: + hex SHA-256 of the public key (SPKI DER)' }),
      ),
    }),
  ),
  auth: Nullable(
    Type.Union([
      Type.Object({
        type: Type.Literal('basic'),
        username: Type.String(),
        has_password: Type.Boolean(),
      }),
      Type.Object({ type: Type.Literal('bearer'), has_token: Type.Boolean() }),
      Type.Object({
        type: Type.Literal('oauth2_client_credentials'),
        token_url: Type.String(),
        client_id: Type.String(),
        scope: Nullable(Type.String()),
        audience: Nullable(Type.String()),
        has_client_secret: Type.Boolean(),
      }),
    ]),
  ),
  proxy_url: Type.Optional(
    Nullable(Type.String({ description: 'Without its password; not shown to portal sessions.' })),
  ),
  proxy_has_password: Type.Optional(Type.Boolean()),
};

/** The public key field of the secret answers. */
export const PublicKeyField = Nullable(
  Type.String({ description: 'whpk_ + base64 of the raw ed25519 public key (verifies v1a)' }),
);

/** Splits a request body into the endpoint input and the rest. */
export function splitEndpointInput<T extends EndpointInput>(
  body: T,
): [EndpointInput, Omit<T, keyof EndpointInput>] {
  const { signature_scheme, legacy_signature, tls, auth, proxy_url, ...rest } = body;
  const input: EndpointInput = {};
  if (signature_scheme !== undefined) input.signature_scheme = signature_scheme;
  if (legacy_signature !== undefined) input.legacy_signature = legacy_signature;
  if (tls !== undefined) input.tls = tls;
  if (auth !== undefined) input.auth = auth;
  if (proxy_url !== undefined) input.proxy_url = proxy_url;
  return [input, rest];
}

/** Every problem with the endpoint fields of a create or patch body. */
export async function endpointErrors(
  config: Config,
  input: EndpointInput,
  customHeaders: Record<string, string> | undefined,
  current?: Pick<WebhookRow, 'endpoint_security'>,
): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  if (input.tls) errors.push(...tlsErrors(input.tls));
  // A PATCH of custom_headers alone must not add an Authorization beside the stored auth.
  const storedAuth = input.auth === undefined ? current?.endpoint_security?.auth : undefined;
  if (storedAuth && customHeaders) errors.push(...authErrors(storedAuth, customHeaders));
  if (input.auth) {
    const found = authErrors(input.auth, customHeaders);
    errors.push(...found);
    if (input.auth.type === 'oauth2_client_credentials' && found.length === 0) {
      try {
        // The token request goes out like a delivery: the same destination rules apply.
        await assertDestinationAllowed(new URL(input.auth.token_url), config);
      } catch (err) {
        if (!(err instanceof HooklineError) || err.code !== 'VALIDATION_FAILED') throw err;
        for (const e of err.details as FieldError[])
          errors.push({
            ...e,
            field: 'auth.token_url',
            message: e.message.replace(
              'use custom_headers instead',
              'put them in client_id and client_secret',
            ),
          });
      }
    }
  }
  if (input.proxy_url) errors.push(...(await proxyUrlErrors(config, input.proxy_url)));
  return errors;
}

/**
 * Problems with a webhook's proxy_url. Unlike --egress-proxy (the operator's), it is set by
 * an organization's admin, so outside --dev its host must pass the destination rules: else a
 * CONNECT line could be written to any internal service. HOOKLINE_ALLOW_CIDRS lists a private
 * proxy's address.
 */
async function proxyUrlErrors(config: Config, text: string): Promise<FieldError[]> {
  let url: URL;
  try {
    url = parseProxyUrl(text);
  } catch (err) {
    return [
      {
        field: 'proxy_url',
        message: (err as Error).message.replace('Invalid URL', 'is not a valid URL'),
      },
    ];
  }
  try {
    await assertHostAllowed(url.hostname, config, 'proxy_url');
  } catch (err) {
    if (!(err instanceof HooklineError) || err.code !== 'VALIDATION_FAILED') throw err;
    return err.details as FieldError[];
  }
  return [];
}

/** Writes the column; returns the updated row. */
export async function writeEndpointSecurity(
  q: Queryable,
  row: Pick<WebhookRow, 'org_id' | 'id'>,
  stored: unknown,
): Promise<WebhookRow> {
  const { rows } = await q.query<WebhookRow>(
    `UPDATE webhooks SET endpoint_security = $3 WHERE org_id = $1 AND id = $2
     RETURNING *, ${WEBHOOK_KEY_NAMES}`,
    [row.org_id, row.id, JSON.stringify(stored)],
  );
  return rows[0];
}
