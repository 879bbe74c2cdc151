/**
 * One home for the delivery state machine (docs/delivery-states.md): only
 * src/queue/ writes a delivery's status or lease, or inserts a delivery. This
 * reads the source, so a route, store or worker file that grows its own
 * statement for it fails here instead of in review.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const src = join(root, 'src');

/** Statement shapes that write a delivery's status or lease, or add a delivery. */
const WRITES: RegExp[] = [
  /\b(?:UPDATE|INSERT\s+INTO|MERGE\s+INTO)\s+deliveries\b/i,
  /\blease_expires_at\s*=\s*(?:NULL\b|now\(\))/i,
  /\bworker_id\s*=\s*NULL\b/i,
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(?:ts|mts|js|mjs)$/.test(e.name) ? [path] : [];
  });
}

/** `file:line: text` for every line of `files` that matches one of WRITES. */
function writesIn(files: string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (WRITES.some((re) => re.test(line)))
          found.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
      });
  }
  return found;
}

const inQueue = (f: string) => relative(src, f).split(/[\\/]/)[0] === 'queue';

describe('the queue module is the only home of delivery status and lease writes', () => {
  it('no file in src/ outside src/queue/ writes a delivery status or lease', () => {
    expect(writesIn(sourceFiles(src).filter((f) => !inQueue(f)))).toEqual([]);
  });

  it('src/queue/ holds them, so the check above is not looking at nothing', () => {
    expect(writesIn(sourceFiles(src).filter(inQueue)).length).toBeGreaterThan(5);
  });

  it('recognises each kind of write, and leaves reads and deletes alone', () => {
    const caught = [
      'UPDATE deliveries SET state = $1',
      '  update deliveries d',
      'INSERT INTO deliveries (id, org_id)',
      "SET state = 'pending', lease_expires_at = NULL, worker_id = NULL",
      'lease_expires_at = now()',
    ];
    for (const line of caught)
      expect(
        WRITES.some((re) => re.test(line)),
        line,
      ).toBe(true);
    const ignored = [
      "SELECT count(*) FROM deliveries WHERE status = 'pending'",
      'DELETE FROM deliveries WHERE id IN (SELECT 1)',
      'lease_expires_at: Date | null;',
      'ORDER BY lease_expires_at LIMIT $1',
    ];
    for (const line of ignored)
      expect(
        WRITES.some((re) => re.test(line)),
        line,
      ).toBe(false);
  });
});
