/**
 * `node --import tsx bench/transform-cost.ts [runs]`: the process CPU (main
 * thread and sandbox thread together) of one run of the transformation phase's
 * script through runTransformation, 16 in flight like the worker's window,
 * and of one fresh-context run of the same script (named so it skips the
 * shared context, docs/routing.md "Limits"). CPU rather than wall time, so a
 * figure taken on a busy machine still compares.
 */
import { payload } from './payload.js';
import { BENCH_TRANSFORMATION } from './transformation.js';
import { runTransformation } from '../src/transform/sandbox.js';

const runs = Number(process.argv[2] ?? 5000);
const limits = { memoryMb: 64, timeoutMs: 1000 };
const input = {
  eventType: 'bench.transform_js',
  payload: { id: 'evt_1', type: 'bench.transform_js', timestamp: new Date(), data: payload },
  url: 'https://receiver.test/hook',
  headers: {},
};

/** CPU-ms per run of `code`, `n` runs after a warm-up. */
async function cpuPerRun(code: string, n: number): Promise<number> {
  const batch = async (count: number) => {
    let left = count;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (left-- > 0) {
          const r = await runTransformation(code, input, limits);
          if (!r.ok) throw new Error(r.message);
        }
      }),
    );
  };
  await batch(Math.min(1000, n));
  const before = process.cpuUsage();
  await batch(n);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / n;
}

const shared = await cpuPerRun(BENCH_TRANSFORMATION, runs);
// A mention of `this` in a comment is enough to send it to a fresh context.
const fresh = await cpuPerRun(`// no this\n${BENCH_TRANSFORMATION}`, Math.ceil(runs / 5));
process.stdout.write(
  `CPU-ms per run: ${shared.toFixed(3)} (shared context), ${fresh.toFixed(3)} (fresh context)\n`,
);
process.exit(0);
