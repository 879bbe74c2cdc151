/**
 * `node --import tsx bench/profile-summary.ts <file.cpuprofile>… [top]`: the
 * functions with the most self time in each V8 CPU profile named (from `npm run
 * bench -- --profile`: one per Hookline process, so a glob names several), and the
 * share of time per file, to find the hot path.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const args = process.argv.slice(2);
const files = args.filter((a) => !/^\d+$/.test(a));
const top = Number(args.find((a) => /^\d+$/.test(a)) ?? 30);
if (files.length === 0) {
  process.stderr.write('usage: profile-summary.ts <file.cpuprofile>... [top]\n');
  process.exit(2);
}
for (const file of files) summarize(file);

function summarize(file: string): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: Node[];
    samples: number[];
    timeDeltas: number[];
  };

  // Self time per node from samples × their time deltas (µs).
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  const total = [...self.values()].reduce((a, b) => a + b, 0);

  const short = (url: string) =>
    url
      .replace(/^file:\/\//, '')
      .replace(/.*\/node_modules\//, 'npm:')
      .replace(/.*\/(dist|src)\//, '$1/');

  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const n of profile.nodes) {
    const t = self.get(n.id) ?? 0;
    if (!t) continue;
    const where = short(n.callFrame.url) || '(native)';
    const fn = `${n.callFrame.functionName || '(anonymous)'}  ${where}:${n.callFrame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + t);
    const pkg = where.startsWith('npm:')
      ? where
          .split('/')
          .slice(0, where.startsWith('npm:@') ? 2 : 1)
          .join('/')
      : where;
    byFile.set(pkg, (byFile.get(pkg) ?? 0) + t);
  }

  const pct = (t: number) => `${((t * 100) / total).toFixed(1).padStart(5)}%`;
  process.stdout.write(
    `Profile ${file}: ${(total / 1e6).toFixed(1)} s sampled\n\nSelf time by function:\n`,
  );
  for (const [fn, t] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`${pct(t)}  ${fn}\n`);
  process.stdout.write('\nSelf time by file or package:\n');
  for (const [f, t] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`${pct(t)}  ${f}\n`);
}
