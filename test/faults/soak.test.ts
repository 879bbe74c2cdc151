/**
 * Soak: a bounded mixed run of a real `hookline serve` (API and worker) on
 * PostgreSQL against healthy, failing and slow receivers, sampling the
 * process's RSS and open file descriptors and the queue. It proves that
 * memory and handles stay flat after warm-up, that no delivery stays `sending`
 * past its lease, and that every event for the healthy receiver arrives.
 *
 * Off by default. Run it with:
 *   HOOKLINE_SOAK=1 npx vitest run test/faults/soak.test.ts --project postgres
 * HOOKLINE_SOAK_MINUTES (default 10) sets the length (1 is enough to see it work),
 * HOOKLINE_SOAK_RATE (default 5) the events published per second.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { createTestDatabase, testStore, type TestDatabase } from '../support/db.js';
import { startFaultReceiver, type FaultReceiver } from '../support/fault-receiver.js';
import { http, killAll, staleLeases, startServe, statusCounts } from './harness.js';
import { until } from '../support/receiver.js';

const enabled = process.env.HOOKLINE_SOAK === '1';
const minutes = Number(process.env.HOOKLINE_SOAK_MINUTES ?? 10);
/** Events published per second (each fans out to 7 webhooks): a steady load, not a throughput test. */
const rate = Number(process.env.HOOKLINE_SOAK_RATE ?? 5);
const LEASE_SECONDS = 10;

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) / 1024;
}
const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

describe.runIf(enabled && testStore === 'postgres')('soak', () => {
  let tdb: TestDatabase;
  const rxs: FaultReceiver[] = [];
  afterAll(async () => {
    await killAll();
    for (const rx of rxs) await rx.close();
    await tdb?.drop();
  });

  it(
    `${minutes} minute(s) of mixed traffic: RSS and open handles flat, no lease outlived, healthy deliveries complete`,
    async () => {
      const runMs = minutes * 60_000;
      tdb = await createTestDatabase({ poolSize: 2 });
      // One receiver (one origin) per behaviour: the worker's connection pool is per origin, and a
      // slow host sharing an origin with a healthy one would cap both (not what this run is about).
      const at = async (mode: Parameters<FaultReceiver['url']>[0]) => {
        const rx = await startFaultReceiver();
        rxs.push(rx);
        return { rx, url: rx.url(mode) };
      };
      const serve = await startServe({
        databaseUrl: tdb.url,
        args: ['--lease-seconds', String(LEASE_SECONDS)],
        env: {
          HOOKLINE_TEST_RETRY_DELAY_SCALE: '0.01',
          HOOKLINE_TEST_TIMEOUT_SCALE: '0.2',
          // A capped heap: V8 then collects instead of growing lazily, so RSS shows what is really
          // kept, and a real leak ends the process (caught by the alive check) instead of hiding.
          NODE_OPTIONS: '--max-old-space-size=160',
        },
      });
      const pid = serve.child.pid!;
      expect((await http(serve.url, 'POST', '/event-types', { name: 'soak.tick' })).status).toBe(
        201,
      );
      const receivers = {
        healthy: await at('ok'),
        healthy2: await at({ kind: 'delay', ms: 20 }),
        failing: await at({ kind: 'status', status: 500 }),
        resetting: await at('reset'),
        slow: await at({ kind: 'delay', ms: 3_000 }), // past the 5 s × 0.2 = 1 s timeout
        throttling: await at({ kind: 'retry-after', status: 429, retryAfter: '30' }),
        trickling: await at({ kind: 'trickle-body', bytes: 100_000, everyMs: 10 }),
      };
      for (const [name, { url }] of Object.entries(receivers)) {
        const res = await http(serve.url, 'POST', '/webhooks', {
          name,
          url,
          events: ['soak.tick'],
          retry_attempts: 3,
          retry_delay_seconds: 10,
        });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
      }

      const samples: Array<{
        at: number;
        rss: number;
        fds: number;
        stale: number;
        counts: Record<string, number>;
      }> = [];
      const accepted: string[] = [];
      let publishErrors = 0;
      const start = Date.now();
      let nextSample = start;
      // `rate` events a second, in two batches, each event fanned out to 7 webhooks.
      while (Date.now() - start < runMs) {
        const tickStarted = Date.now();
        const events = Array.from({ length: Math.max(1, Math.round(rate / 2)) }, (_, i) => ({
          event_type: 'soak.tick',
          payload: { i, at: Date.now() },
        }));
        const res = await http(serve.url, 'POST', '/events/batch', { events }).catch(() => ({
          status: 0,
          body: null,
        }));
        if (res.status === 202) accepted.push(...res.body.data.map((e: { id: string }) => e.id));
        else publishErrors++;
        if (Date.now() >= nextSample) {
          nextSample += 10_000;
          samples.push({
            at: Date.now() - start,
            rss: rssMb(pid),
            fds: openFds(pid),
            stale: await staleLeases(tdb.db, 2_000),
            counts: await statusCounts(tdb.db),
          });
          console.info(`[soak] ${JSON.stringify(samples.at(-1))}`);
        }
        await new Promise((r) => setTimeout(r, Math.max(0, 500 - (Date.now() - tickStarted))));
      }
      expect(serve.alive(), serve.output()).toBe(true);

      // Healthy receivers get everything once publishing stops.
      const got = (r: { rx: FaultReceiver; url: string }) => r.rx.stats(r.url).ids;
      const done = () =>
        accepted.every((id) => got(receivers.healthy).has(id) && got(receivers.healthy2).has(id));
      await until(
        done,
        Math.max(120_000, runMs / 2),
        () => `healthy deliveries to finish (${got(receivers.healthy).size} of ${accepted.length})`,
      );

      const warm = samples.filter((s) => s.at >= runMs * 0.25);
      const base = warm[0] ?? samples[0];
      const peakRss = Math.max(...warm.map((s) => s.rss));
      const peakFds = Math.max(...warm.map((s) => s.fds));
      console.info(
        `[soak] ${minutes} min: accepted ${accepted.length} events (${publishErrors} publish errors), RSS ${base.rss.toFixed(0)} → peak ${peakRss.toFixed(0)} MB, fds ${base.fds} → peak ${peakFds}, final ${JSON.stringify(await statusCounts(tdb.db))}`,
      );
      expect(publishErrors).toBe(0);
      expect(samples.every((s) => s.stale === 0)).toBe(true);
      // Flat after warm-up: no growth with the volume of traffic (a leak grows with every request).
      expect(peakRss - base.rss).toBeLessThan(Math.max(60, base.rss * 0.3));
      expect(peakFds - base.fds).toBeLessThanOrEqual(40);
      await serve.kill('SIGTERM');
      expect((await serve.exited).code).toBe(0);
    },
    (minutes * 1.5 + 5) * 60_000,
  );
});
