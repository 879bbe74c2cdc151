/**
 * Keeps the README's configuration table true to src/config.ts. After adding or
 * changing a setting, regenerate the table with:
 *   HOOKLINE_UPDATE_README=1 npx vitest run test/core/readme.test.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { settings } from '../../src/config.js';

const readmePath = fileURLToPath(new URL('../../README.md', import.meta.url));
const START =
  '<!-- config-table:start (generated from src/config.ts by test/core/readme.test.ts) -->';
const END = '<!-- config-table:end -->';

function defaultText(s: (typeof settings)[number]): string {
  if (s.default === undefined) return '';
  if (Array.isArray(s.default)) return s.default.length ? `\`${s.default.join(',')}\`` : '';
  return `\`${String(s.default)}\``;
}

/** The flag as typed: booleans that default to true are turned off with --no-…. */
function flagText(s: (typeof settings)[number]): string {
  if (s.kind === 'bool')
    return s.default === true ? `\`--no-${s.flag.slice(2)}\`` : `\`${s.flag}\``;
  return `\`${s.flag} <value>\``;
}

export function configTable(): string {
  const rows = settings.map(
    (s) =>
      `| ${flagText(s)} | \`${s.env}\` | ${defaultText(s)} | ${s.description.replace(/\|/g, '\\|')} |`,
  );
  return [
    START,
    '| Flag | Environment variable | Default | What it does |',
    '| --- | --- | --- | --- |',
    ...rows,
    END,
  ].join('\n');
}

describe('README', () => {
  it('lists every setting of src/config.ts with its flag, variable and default', () => {
    let readme = readFileSync(readmePath, 'utf8');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start, 'README has the generated configuration table').toBeGreaterThanOrEqual(0);
    const current = readme.slice(start, end + END.length);
    if (process.env.HOOKLINE_UPDATE_README === '1' && current !== configTable()) {
      readme = readme.slice(0, start) + configTable() + readme.slice(end + END.length);
      writeFileSync(readmePath, readme);
    }
    expect(
      readme.slice(start, readme.indexOf(END) + END.length),
      'regenerate with HOOKLINE_UPDATE_README=1',
    ).toBe(configTable());
    for (const s of settings) {
      const row = readme
        .split('\n')
        .find((line) => line.startsWith('|') && line.includes(`\`${s.env}\``));
      expect(row, s.key).toBeDefined();
      expect(row, s.key).toContain(s.flag.slice(2));
    }
  });

  it('keeps the two quick-start commands exactly', () => {
    const readme = readFileSync(readmePath, 'utf8');
    const quick = readme.slice(readme.indexOf('## Quick start'));
    const blocks = [...quick.matchAll(/```sh\n([^`]*)```/g)].map((m) => m[1].trim());
    expect(blocks.slice(0, 2)).toEqual(['npm start', 'npm test']);
  });
});
