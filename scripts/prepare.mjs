#!/usr/bin/env node
// Makes a fresh clone runnable: installs dependencies when they are missing,
// then compiles the server (incremental: fast when nothing changed) and builds
// the admin UI when its sources are newer than its build. `npm start`,
// `npm test` and `npm run bench` call this first, so the README needs no other step.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function run(what, cmd, args) {
  process.stderr.write(`[prepare] ${what}…\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`[prepare] ${what} failed (exit ${r.status}).\n`);
    process.exit(r.status ?? 1);
  }
}

function newest(dir) {
  let latest = 0;
  if (!existsSync(dir)) return latest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const p = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return latest;
}

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  run('installing dependencies (npm ci)', 'npm', ['ci', '--no-audit', '--no-fund']);
}
run('compiling the server (tsc)', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
run('compiling the SDK (tsc)', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'sdk/tsconfig.json']);
const uiConfig = join(root, 'ui', 'vite.config.ts');
if (existsSync(uiConfig)) {
  const built = join(root, 'ui', 'dist', 'index.html');
  if (!existsSync(built) || newest(join(root, 'ui')) > statSync(built).mtimeMs) {
    run('building the admin UI (vite)', process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', uiConfig, '--logLevel', 'warn']);
  }
}
