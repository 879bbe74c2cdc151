import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { startServer, startupWarnings } from '../../src/server.js';
import type { Config } from '../../src/config.js';
import { testConfig } from '../support/config.js';
import { createSecretBox } from '../../src/core/secret-box.js';
import { activeSecrets, getWebhookRow } from '../../src/store/webhooks.js';
import { createTestApp } from '../support/app.js';

const KEY = Buffer.alloc(32, 5).toString('base64');

/** Starts `hookline serve` in-process on a throwaway embedded database and returns what it logged at start. */
async function startupLog(overrides: Partial<Config>): Promise<string[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-secrets-'));
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const server = await startServer(
    testConfig({ dataDir, port: 0, worker: false, ...overrides }),
    log,
  );
  try {
    return lines
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level === 40)
      .map((l) => l.msg);
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('secrets at rest', () => {
  it('warns when no encryption key is set outside --dev, and only then', () => {
    const warns = (c: { dev: boolean; encryptionKey?: string }) =>
      startupWarnings(c).some((m) => m.includes('HOOKLINE_ENCRYPTION_KEY'));
    expect(warns({ dev: false })).toBe(true);
    expect(warns({ dev: false, encryptionKey: KEY })).toBe(false);
    expect(warns({ dev: true })).toBe(false);
  });

  it('logs that warning when the server starts', { timeout: 120_000 }, async () => {
    const warnings = await startupLog({ dev: false });
    expect(warnings.some((m) => m.includes('HOOKLINE_ENCRYPTION_KEY is not set'))).toBe(true);
  });

  it(
    'keeps current and grace-period secrets sealed after a rotation; the admin endpoint shows the plain one',
    { timeout: 120_000 },
    async () => {
      const t = await createTestApp({ encryptionKey: KEY });
      try {
        await t.org.admin('POST', '/event-types', { name: 'ticket.created' });
        const created = (
          await t.org.admin('POST', '/webhooks', {
            name: 'w',
            url: 'http://127.0.0.1:9/',
            events: ['ticket.created'],
          })
        ).body;
        const rotated = (
          await t.org.admin('POST', `/webhooks/${created.id}/rotate-secret`, {
            grace_seconds: 3600,
          })
        ).body;
        const { rows } = await t.db.query<{
          secret: string;
          previous_secrets: Array<{ secret: string }>;
        }>('SELECT secret, previous_secrets FROM webhooks WHERE id = $1', [created.id]);
        const stored = [rows[0].secret, ...rows[0].previous_secrets.map((p) => p.secret)];
        expect(stored).toHaveLength(2);
        for (const value of stored) {
          expect(value).toMatch(/^enc:v1:/);
          expect(value).not.toContain('whsec_');
        }
        const everything = JSON.stringify(rows[0]);
        for (const plain of [created.secret, rotated.secret])
          expect(everything).not.toContain(plain.slice(6, 30));
        expect((await t.org.admin('GET', `/webhooks/${created.id}/secret`)).body.secret).toBe(
          rotated.secret,
        );
        // The worker still signs with both during the grace period.
        const row = await getWebhookRow(t.db, t.org.orgId, created.id);
        expect(activeSecrets(row!, createSecretBox(KEY))).toEqual([rotated.secret, created.secret]);
        // A wrong key cannot open them.
        expect(() =>
          createSecretBox(Buffer.alloc(32, 6).toString('base64')).open(rows[0].secret),
        ).toThrow();
      } finally {
        await t.close();
      }
    },
  );
});
