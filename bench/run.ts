/**
 * `npm run bench [-- --quick] [-- --profile] [-- --budget S]
 *   [-- --only ceiling,pgboss,bullmq,pglite,postgres] [-- --phases transformation,…]`
 *
 * Starts, on 127.0.0.1 only, a receiver process, a PostgreSQL (or uses
 * DATABASE_URL), the references (ceiling, pg-boss, BullMQ on a Redis of its
 * own) and Hookline on each store; prints a table
 * and writes bench/results/<timestamp>.json and bench/results/latest.json.
 */
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchPostgres, type BenchPostgres } from './database.js';
import { benchStore, type Store } from './hookline-phases.js';
import { planFor } from './plan.js';
import { loadAverage, machine } from './proc.js';
import { startReceiver, type Receiver } from './receiver-client.js';
import { runBullMq, runCeiling, runPgBoss } from './references.js';
import {
  ratiosFor,
  scaleOutTable,
  table,
  targetsFor,
  targetTable,
  type Results,
} from './report.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg
  ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1]).split(',')
  : undefined;
const wants = (part: string) => !only || only.includes(part);
// Hookline's phases by name (as logged: "ingest single", "routing filters", "transformation" …),
// each matched by its start; the setup and the ceiling run regardless.
const phasesArg = args.find((a) => a.startsWith('--phases'));
const phases = phasesArg
  ? (phasesArg.includes('=') ? phasesArg.split('=')[1] : args[args.indexOf(phasesArg) + 1]).split(
      ',',
    )
  : undefined;
const wantsPhase = (name: string) => !phases || phases.some((p) => name.startsWith(p));

const plan = planFor(quick);
// --budget S: a longer (or shorter) bound for the whole run, e.g. a quick run on a loaded machine.
const budgetArg = args.find((a) => a.startsWith('--budget'));
if (budgetArg) {
  const v = budgetArg.includes('=') ? budgetArg.split('=')[1] : args[args.indexOf(budgetArg) + 1];
  if (!(Number(v) > 0)) throw new Error(`--budget wants seconds, not ${JSON.stringify(v)}`);
  plan.budgetS = Number(v);
}
const startedAt = Date.now();
const remainingS = () => plan.budgetS - (Date.now() - startedAt) / 1000;
const log = (line: string) =>
  process.stderr.write(
    `[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${line}\n`,
  );

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
const profileDir = profile ? mkdtempSync(join(tmpdir(), 'hookline-bench-prof-')) : undefined;
const logDir = mkdtempSync(join(tmpdir(), 'hookline-bench-logs-'));
const logFile = (store: Store) => join(logDir, `hookline-${store}.log`);

let receiver: Receiver | undefined;
let pg: BenchPostgres | undefined;
const results: Results = {
  version: 1,
  started_at: new Date(startedAt).toISOString(),
  finished_at: '',
  duration_s: 0,
  quick,
  machine: { ...machine(), postgres: '', load_before: loadAverage(), load_after: 0 },
  plan: { ...plan },
  hookline: {},
  targets: [],
  errors: {},
};

async function main() {
  log(
    `${quick ? 'quick' : 'full'} run on ${results.machine.cores} × ${results.machine.cpu}, load ${results.machine.load_before}`,
  );
  receiver = await startReceiver();
  log(`receiver on ${receiver.url} (pid ${receiver.pid}); Hookline's output goes to ${logDir}`);
  pg = await startBenchPostgres({ statements: profile });
  results.machine.postgres = pg.version;
  log(
    `PostgreSQL ${pg.version} ${pg.owned ? 'started for the run' : 'from DATABASE_URL'}${pg.statements ? ', pg_stat_statements on' : ''}`,
  );

  if (wants('ceiling')) {
    log('ceiling: bare undici Pool, signed bodies, no queue');
    results.ceiling = await runCeiling(plan, receiver, log).catch(
      (err) => void (results.errors.ceiling = String(err)),
    );
  }
  if (wants('pgboss')) {
    log('do-it-yourself baseline: pg-boss + fetch');
    results.pgboss = await runPgBoss(plan, pg, receiver, log).catch(
      (err) => void (results.errors.pgboss = String(err?.stack ?? err)),
    );
  }
  if (wants('bullmq')) {
    log('second do-it-yourself baseline: BullMQ on Redis + undici');
    const skip = (why: string) => {
      results.errors.bullmq = `skipped: ${why}`;
      log(`BullMQ: ${results.errors.bullmq}`);
    };
    results.bullmq = await runBullMq(plan, receiver, log, skip).catch(
      (err) => void (results.errors.bullmq = String(err?.stack ?? err)),
    );
  }
  const stores = (['postgres', 'pglite'] as Store[]).filter(wants);
  for (const [i, store] of stores.entries()) {
    log(`Hookline on ${store === 'pglite' ? 'the embedded store (PGlite)' : 'PostgreSQL'}`);
    // Each store gets its share of what is left, so a slow one cannot starve the next.
    const storeEnd = Date.now() + (remainingS() * 1000) / (stores.length - i);
    const storeRemainingS = () => Math.min(remainingS(), (storeEnd - Date.now()) / 1000);
    const r = await benchStore(store, {
      plan,
      receiver,
      pg,
      log,
      remainingS: storeRemainingS,
      wantsPhase,
      profileDir,
      logFile,
    });
    results.hookline[store] = { ...r, ratios: ratiosFor(r, results) };
  }
}

function write() {
  results.finished_at = new Date().toISOString();
  results.duration_s = Math.round((Date.now() - startedAt) / 1000);
  results.machine.load_after = loadAverage();
  results.targets = targetsFor(results);
  if (profileDir)
    results.errors.profile_dir = `CPU profiles of the Hookline processes: ${profileDir}`;
  mkdirSync(resultsDir, { recursive: true });
  const json = JSON.stringify(results, null, 2) + '\n';
  const stamp = results.started_at.replace(/[:.]/g, '-');
  for (const name of [`${stamp}${quick ? '-quick' : ''}.json`, 'latest.json']) {
    const tmp = join(resultsDir, `${name}.tmp`);
    writeFileSync(tmp, json);
    renameSync(tmp, join(resultsDir, name));
  }
  const scale = scaleOutTable(results);
  process.stdout.write(
    `\n${table(results)}\n\n${scale ? `${scale}\n\n` : ''}${targetTable(results.targets)}\n\n`,
  );
  const errors = Object.entries(results.errors);
  for (const [store, r] of Object.entries(results.hookline))
    for (const [k, v] of Object.entries(r!.errors)) errors.push([`${store} ${k}`, v]);
  for (const [k, v] of errors) process.stdout.write(`note: ${k}: ${v.split('\n')[0]}\n`);
  process.stdout.write(
    `Results: bench/results/${stamp}${quick ? '-quick' : ''}.json (and latest.json), ${results.duration_s} s.\n`,
  );
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  results.errors.run = err instanceof Error ? (err.stack ?? err.message) : String(err);
  log(`failed: ${results.errors.run}`);
  exitCode = 1;
} finally {
  await receiver?.stop().catch(() => {});
  await pg?.stop().catch(() => {});
  write();
}
process.exit(exitCode);
