import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the hookline/sdk package export', () => {
  it('builds with sdk/tsconfig.json and resolves as `hookline/sdk` from plain Node', () => {
    // The same build scripts/prepare.mjs runs (incremental: quick when nothing changed).
    const build = spawnSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'sdk/tsconfig.json'],
      { cwd: root, encoding: 'utf8' },
    );
    expect(build.stdout + build.stderr).toBe('');
    expect(build.status).toBe(0);
    const script = `
      import { verify, WebhookVerificationError } from 'hookline/sdk';
      import { createHmac } from 'node:crypto';
      const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
      const body = '{"id":"evt_1","type":"a.b","timestamp":"x","data":{}}';
      const ts = Math.floor(Date.now() / 1000);
      const sig = createHmac('sha256', Buffer.alloc(32, 7)).update('evt_1.' + ts + '.' + body).digest('base64');
      const event = verify(body, { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': 'v1,' + sig }, secret);
      let reason;
      try { verify(body, {}, secret); } catch (e) { reason = e instanceof WebhookVerificationError && e.reason; }
      console.log(JSON.stringify({ type: event.type, reason }));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ type: 'a.b', reason: 'missing_headers' });
    const publish = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('hookline/publish'); console.log(typeof m.publish, typeof m.HooklineError)",
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(publish.stderr).toBe('');
    expect(publish.stdout.trim()).toBe('function function');
  }, 120_000);
});
