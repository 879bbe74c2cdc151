#!/usr/bin/env node
// Makes a fresh clone runnable: installs dependencies when they are missing,
// then compiles the server (incremental: fast when nothing changed) and builds
// the admin UI when its sources are newer than its build. `npm start`,
// `npm test` and `npm run bench` call this first, so the README needs no other step.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { uiBuildIsStale, viteBuildArgs } from './ui-build.mjs';

const root = new URL('..', import.meta.url).pathname;

function run(what, cmd, args) {
  process.stderr.write(`[prepare] ${what}…\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`[prepare] ${what} failed (exit ${r.status}).\n`);
    process.exit(r.status ?? 1);
  }
}

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  run('installing dependencies (npm ci)', 'npm', ['ci', '--no-audit', '--no-fund']);
}
run('compiling the server (tsc)', process.execPath, [
  join(root, 'node_modules/typescript/bin/tsc'),
  '-p',
  'tsconfig.json',
]);
run('compiling the SDK (tsc)', process.execPath, [
  join(root, 'node_modules/typescript/bin/tsc'),
  '-p',
  'sdk/tsconfig.json',
]);
if (existsSync(join(root, 'ui', 'vite.config.ts')) && uiBuildIsStale(root)) {
  run('building the admin UI (vite)', process.execPath, viteBuildArgs(root));
}
