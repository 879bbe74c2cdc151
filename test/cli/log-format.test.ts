import { afterAll, describe, expect, it } from 'vitest';
import { spawnHookline } from '../support/cli.js';
import { createProcessStore, type ProcessStore } from '../support/db.js';

const stores: ProcessStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.drop();
});

describe('hookline serve --log-format pretty', { timeout: 300_000 }, () => {
  it('writes readable lines, not JSON, to a pipe when asked', async () => {
    const store = await createProcessStore();
    stores.push(store);
    const env: Record<string, string> = { ...store.env, HOOKLINE_LOG_LEVEL: 'info' };
    const child = spawnHookline(['serve', '--port', '0', '--log-format', 'pretty'], { env });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        const m =
          /^\d\d:\d\d:\d\d\.\d{3} INFO {2}Hookline is listening {2}url=(http:\/\/\S+)$/m.exec(
            stderr,
          );
        if (m) resolve(m[1]);
      });
      void exited.then((code) => reject(new Error(`serve exited with ${code}:\n${stderr}`)));
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/INFO {2}draining and shutting down {2}signal=SIGTERM/);
    expect(stderr.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
  });
});
