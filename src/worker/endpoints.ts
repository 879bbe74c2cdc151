/**
 * What a delivery needs of its webhook's endpoint security settings, opened
 * once per webhook version rather than once per send (as secrets.ts does for the
 * HMAC secrets): the signature scheme and ed25519 seeds, the legacy signature,
 * the Authorization, and the dispatcher carrying its TLS settings and proxy.
 */
import type { Dispatcher } from 'undici';
import type { GuardConfig } from '../net/resolve.js';
import type { SecretBox } from '../core/secret-box.js';
import {
  openEndpoint,
  type AuthSettings,
  type LegacySignature,
  type SignatureScheme,
  type StoredEndpoint,
} from '../core/endpoint-security.js';
import { webhookDispatcher } from '../net/webhook-dispatchers.js';

/** The endpoint part of an attempt's target. */
export interface AttemptEndpoint {
  scheme: SignatureScheme;
  signingSeeds: Buffer[];
  legacySignature: LegacySignature;
  auth?: AuthSettings;
  /** Set when the webhook has TLS settings or a proxy_url: it replaces the shared delivery dispatcher. */
  dispatcher?: Dispatcher;
}

interface Entry {
  endpoint: AttemptEndpoint;
  validUntil: number;
}

const MAX_ENTRIES = 10_000;

/** Opens an endpoint column for sending, now and without the cache. */
export function attemptEndpoint(
  box: SecretBox,
  config: GuardConfig & { egressProxy?: string },
  stored: StoredEndpoint | null | undefined,
  now = Date.now(),
): AttemptEndpoint & { validUntil: number } {
  const open = openEndpoint(box, stored, now);
  return {
    scheme: open.scheme,
    signingSeeds: open.signingSeeds,
    legacySignature: open.legacySignature,
    auth: open.auth,
    dispatcher:
      open.tls || open.proxyUrl
        ? webhookDispatcher(config, { tls: open.tls, proxyUrl: open.proxyUrl })
        : undefined,
    validUntil: open.validUntil,
  };
}

/**
 * A per-worker cache of opened endpoint settings, keyed by the webhook and its
 * updated_at: every write of the column (save, rotation) moves updated_at.
 */
export function createEndpointCache(
  box: SecretBox,
  config: GuardConfig & { egressProxy?: string },
) {
  const cache = new Map<string, Entry>();
  return {
    get(
      w: { webhook_id: string; webhook_updated_at: Date; endpoint_security: StoredEndpoint | null },
      now = Date.now(),
    ): AttemptEndpoint {
      const key = `${w.webhook_id}\u0000${new Date(w.webhook_updated_at).getTime()}`;
      const hit = cache.get(key);
      if (hit && hit.validUntil > now) return hit.endpoint;
      const { validUntil, ...endpoint } = attemptEndpoint(box, config, w.endpoint_security, now);
      if (cache.size >= MAX_ENTRIES) cache.clear();
      cache.set(key, { endpoint, validUntil });
      return endpoint;
    },
  };
}
