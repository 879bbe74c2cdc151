/**
 * Webhook secrets at rest: AES-256-GCM with HOOKLINE_ENCRYPTION_KEY when it is
 * set. Sealed values look like `enc:v1:<base64 iv|tag|ciphertext>`; values
 * stored before a key was configured stay readable as plain text.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '../config.js';

const PREFIX = 'enc:v1:';

export interface SecretBox {
  readonly encrypting: boolean;
  seal(plain: string): string;
  open(stored: string): string;
}

/** Parses a 32-byte key given as base64 or hex. */
export function parseEncryptionKey(text: string): Buffer {
  const hex = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : undefined;
  const key = hex ?? Buffer.from(text, 'base64');
  if (key.length !== 32)
    throw new ConfigError(
      'HOOKLINE_ENCRYPTION_KEY must be 32 bytes, as base64 or 64 hex characters',
    );
  return key;
}

export function createSecretBox(encryptionKey?: string): SecretBox {
  const key = encryptionKey ? parseEncryptionKey(encryptionKey) : undefined;
  return {
    encrypting: key !== undefined,
    seal(plain) {
      if (!key) return plain;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64');
    },
    open(stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      if (!key)
        throw new ConfigError(
          'A webhook secret is encrypted but HOOKLINE_ENCRYPTION_KEY is not set',
        );
      const raw = Buffer.from(stored.slice(PREFIX.length), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}
