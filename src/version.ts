import { readFileSync } from 'node:fs';

/** Hookline's version, from package.json: sent as User-Agent and shown in the API docs. */
export const version: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;
