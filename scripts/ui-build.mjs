// When and how the admin UI is built: shared by scripts/prepare.mjs (npm start, npm test)
// and the browser tests (test/e2e/support.ts), which may run without prepare.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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

/** True when ui/dist is missing or older than a source file under ui/. */
export function uiBuildIsStale(root) {
  const built = join(root, 'ui', 'dist', 'index.html');
  return !existsSync(built) || newest(join(root, 'ui')) > statSync(built).mtimeMs;
}

/** The arguments to `node` that build ui/ into ui/dist. */
export function viteBuildArgs(root) {
  return [
    join(root, 'node_modules/vite/bin/vite.js'),
    'build',
    '--config',
    join(root, 'ui', 'vite.config.ts'),
    '--logLevel',
    'warn',
  ];
}
