/**
 * Main-thread cost of the embedded store, in process against on its own thread:
 *
 *   node --import tsx bench/store-elu.ts [--rounds N] [--publishes P] [--concurrency C]
 *
 * Per round and per adapter (src/store/pglite.ts, src/store/pglite-thread.ts; the
 * order alternates), a fresh migrated database, Hookline's API built in this
 * process (worker off, one webhook on the type), and P publishes through
 * `app.inject` (`POST /events`, C in flight, default 16) after a warm-up. Prints
 * per publish the main thread's busy time (`performance.eventLoopUtilization()`:
 * time the event loop spent outside waiting), the main thread's own CPU (from
 * /proc: on a loaded machine busy time also counts waits for a core), the
 * process's CPU (both threads) and the wall time; then the medians. Both adapters run in the same process, one
 * after the other, so a loaded machine slows both: compare their ratio, and note
 * the load average printed with each round.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildApp } from '../src/api/app.js';
import { bootstrap } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { createMetrics } from '../src/metrics.js';
import type { Db } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { openPglite } from '../src/store/pglite.js';
import { openPgliteThread } from '../src/store/pglite-thread.js';
import { median } from './steady.js';

const args = process.argv.slice(2);
const take = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const rounds = take('--rounds', 3);
const publishes = take('--publishes', 2000);
const concurrency = take('--concurrency', 16);
const warmup = Math.min(200, publishes);

const adapters = { 'in process': openPglite, thread: openPgliteThread } as const;
type Adapter = keyof typeof adapters;

/**
 * CPU ms used so far by the main thread alone (Linux: its task's utime + stime, in ticks of
 * 10 ms). Unlike the event loop's busy time it does not grow when a loaded machine leaves
 * the thread waiting for a core in the middle of its work.
 */
function mainThreadCpuMs(): number {
  const s = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

interface Figures {
  busyMsPerPublish: number;
  mainCpuMsPerPublish: number;
  cpuMsPerPublish: number;
  wallS: number;
  load: number;
}

async function once(adapter: Adapter, templateDir: string): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-elu-'));
  cpSync(templateDir, dir, { recursive: true });
  const db: Db = await adapters[adapter](dir);
  try {
    const boot = await bootstrap(db, {});
    const key = boot.created!.key;
    const config = { ...loadConfig({}), dev: true, rateLimitPerMinute: 0 };
    config.publishRateLimitPerMinute = 0;
    const app = await buildApp({ db, config, metrics: createMetrics(), wake: () => {} });
    const call = async (method: 'POST', url: string, body: unknown) => {
      const res = await app.inject({
        method,
        url: `/api/v1${url}`,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    };
    await call('POST', '/event-types', { name: 'bench.elu' });
    await call('POST', '/webhooks', {
      name: 'elu',
      url: 'http://127.0.0.1:9/elu',
      events: ['bench.elu'],
    });
    const publish = (i: number) =>
      call('POST', '/events', { event_type: 'bench.elu', payload: { i } });
    const drive = async (n: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < n) await publish(next++);
        }),
      );
    };
    await drive(warmup);
    const load = loadavg()[0];
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuMs();
    const t0 = performance.now();
    await drive(publishes);
    const wallMs = performance.now() - t0;
    const elu = performance.eventLoopUtilization(elu0);
    const cpu = process.cpuUsage(cpu0);
    const mainCpuMs = mainThreadCpuMs() - main0;
    await app.close();
    return {
      busyMsPerPublish: elu.active / publishes,
      mainCpuMsPerPublish: mainCpuMs / publishes,
      cpuMsPerPublish: (cpu.user + cpu.system) / 1000 / publishes,
      wallS: wallMs / 1000,
      load,
    };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const templateDir = mkdtempSync(join(tmpdir(), 'hookline-elu-template-'));
  const template = await openPglite(templateDir);
  await migrate(template);
  await template.close();
  const all: Record<Adapter, Figures[]> = { 'in process': [], thread: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      const order: Adapter[] = round % 2 ? ['thread', 'in process'] : ['in process', 'thread'];
      for (const adapter of order) {
        const f = await once(adapter, templateDir);
        all[adapter].push(f);
        process.stdout.write(
          `round ${round + 1} ${adapter.padEnd(10)}: main thread busy ${f.busyMsPerPublish.toFixed(3)} ms/publish ` +
            `(CPU ${f.mainCpuMsPerPublish.toFixed(3)}), ` +
            `process CPU ${f.cpuMsPerPublish.toFixed(3)} ms/publish, ${publishes} publishes in ${f.wallS.toFixed(1)} s ` +
            `(${(publishes / f.wallS).toFixed(0)}/s), load ${f.load.toFixed(1)}\n`,
        );
      }
    }
  } finally {
    rmSync(templateDir, { recursive: true, force: true });
  }
  for (const adapter of Object.keys(all) as Adapter[]) {
    const fs = all[adapter];
    process.stdout.write(
      `median ${adapter.padEnd(10)}: main thread busy ${median(fs.map((f) => f.busyMsPerPublish)).toFixed(3)} ms/publish ` +
        `(CPU ${median(fs.map((f) => f.mainCpuMsPerPublish)).toFixed(3)}), ` +
        `process CPU ${median(fs.map((f) => f.cpuMsPerPublish)).toFixed(3)} ms/publish, ` +
        `${median(fs.map((f) => publishes / f.wallS)).toFixed(0)} publishes/s\n`,
    );
  }
}

await main();
