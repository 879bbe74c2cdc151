/**
 * The signing secrets of a claimed delivery, decrypted once per webhook
 * version rather than once per send.
 */
import type { SecretBox } from '../core/secret-box.js';
import { activeSecrets, type PreviousSecret } from '../store/webhooks.js';

interface Entry {
  secrets: string[];
  /** When a previous secret's grace ends, the list changes: recompute then. */
  validUntil: number;
}

const MAX_ENTRIES = 10_000;

export function createSecretCache(box: SecretBox) {
  const cache = new Map<string, Entry>();
  return {
    get(
      w: { webhook_id: string; secret: string; previous_secrets: PreviousSecret[] },
      now = Date.now(),
    ): string[] {
      const key = `${w.webhook_id}\u0000${w.secret}\u0000${JSON.stringify(w.previous_secrets ?? [])}`;
      const hit = cache.get(key);
      if (hit && hit.validUntil > now) return hit.secrets;
      const secrets = activeSecrets(w, box, new Date(now));
      const ends = (w.previous_secrets ?? [])
        .map((p) => new Date(p.expires_at).getTime())
        .filter((t) => t > now);
      if (cache.size >= MAX_ENTRIES) cache.clear();
      cache.set(key, { secrets, validUntil: ends.length ? Math.min(...ends) : Infinity });
      return secrets;
    },
  };
}
