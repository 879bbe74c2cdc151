#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by npm start / npm test).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'hookline: not built in this checkout yet: run `npm run build` (or `npm start`) first.\n',
  );
  process.exit(2);
}
await import(cli.href);
