import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

// axe-core (the npm package) judges a page as the browser draws it: contrast of the colours
// actually painted, names of controls, ARIA use. Its source is evaluated in the page through the
// DevTools protocol, which the UI's Content-Security-Policy (script-src 'self') does not apply to.

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/** One rule broken on the page: the rule, how bad, and where (CSS selectors of the nodes). */
export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** The violations of impact `serious` or `critical` on the page as it is now. */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
  const found = await page.evaluate<Violation[]>(`
    window.axe.run(document, { resultTypes: ['violations'] }).then((r) =>
      r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((n) => n.target.join(' ') + (n.failureSummary ? ': ' + n.failureSummary.split('\\n').slice(1).join(' ') : '')),
      })),
    )`);
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
