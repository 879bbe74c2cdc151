import { ConfigError } from '../config.js';
import { createSecretBox } from '../core/secret-box.js';
import type { Queryable } from './db.js';

/**
 * Refuses to start when the webhook secrets in the database were encrypted with a
 * HOOKLINE_ENCRYPTION_KEY that this process does not have (unset, or another key).
 * Without this check the process starts, every delivery to those webhooks fails
 * with `internal_error` and `GET /webhooks/{id}/secret` answers 500, with the
 * reason only in the log. One sealed secret is enough to tell.
 */
export async function checkEncryptionKey(
  db: Queryable,
  encryptionKey: string | undefined,
): Promise<void> {
  const { rows } = await db.query<{ secret: string }>(
    "SELECT secret FROM webhooks WHERE secret LIKE 'enc:v1:%' LIMIT 1",
  );
  if (rows.length === 0) return;
  if (!encryptionKey) {
    throw new ConfigError(
      'webhook secrets in this database are encrypted, but HOOKLINE_ENCRYPTION_KEY is not set: start with the key they were encrypted with',
    );
  }
  const box = createSecretBox(encryptionKey); // a malformed key is its own ConfigError
  try {
    box.open(rows[0].secret);
  } catch (err) {
    throw new ConfigError(
      'HOOKLINE_ENCRYPTION_KEY is not the key the webhook secrets in this database were encrypted with',
      { cause: err },
    );
  }
}
