/**
 * `node --import tsx bench/medians.ts <run.json> <run.json> <run.json>`: the
 * targets of several full runs side by side, and their medians, which is how
 * BENCHMARKS.md states whether a target is met (each run's targets are
 * compared with the references of that same run). With an odd number of runs,
 * the median meets a target exactly when most runs do.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { targetsFor, targetValue, type Results } from './report.js';
import { median } from './steady.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: medians.ts <run.json> [<run.json> …]\n');
  process.exit(2);
}
// Judged again by today's targetsFor, so runs written before a target's rule changed compare alike.
const runs = files.map((f) => {
  const r = JSON.parse(readFileSync(f, 'utf8')) as Results;
  return { ...r, targets: targetsFor(r) };
});

const names = runs[0].targets.map((t) => t.name);
const head = runs.map((r) => r.started_at.slice(0, 16).replace('T', ' '));
const lines = [
  `| Target | Wanted | ${head.join(' | ')} | Median | |`,
  `|---|---|${head.map(() => '---|').join('')}---|---|`,
];
for (const name of names) {
  const of = runs.map((r) => r.targets.find((t) => t.name === name));
  const values = of.map((t) => t?.value ?? null);
  const measured = values.filter((v): v is number => v !== null);
  const verdicts = of.map((t) => t?.met).filter((m): m is boolean => m !== null && m !== undefined);
  const verdict =
    verdicts.length === 0
      ? 'not measured'
      : verdicts.filter(Boolean).length * 2 > verdicts.length
        ? 'met'
        : 'not met';
  lines.push(
    `| ${name} | ${of[0]!.target} | ${values.map(targetValue).join(' | ')} | ${targetValue(measured.length ? median(measured) : null)} | ${verdict} |`,
  );
}
process.stdout.write(`Runs: ${files.map((f) => basename(f)).join(', ')}\n\n${lines.join('\n')}\n`);
