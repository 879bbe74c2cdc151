/**
 * The settings every pooled PostgreSQL connection gets (src/store/postgres.ts): no JIT, whose
 * compile time dwarfed the queue's short statements once the planner priced them past
 * jit_above_cost. Checked on several connections at once, in and out of a transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testStore, type TestDatabase } from '../support/db.js';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.drop());

describe.runIf(testStore === 'postgres')('a pooled PostgreSQL connection', () => {
  it('runs without JIT compilation, whichever connection serves it', async () => {
    // Held open together, so the pool opens a connection for each.
    const shows = await Promise.all(
      Array.from({ length: 4 }, () =>
        tdb.db.transaction(async (tx) => {
          const { rows } = await tx.query<{ jit: string; pid: number }>(
            'SELECT current_setting($1) AS jit, pg_backend_pid() AS pid, pg_sleep(0.05)',
            ['jit'],
          );
          return rows[0];
        }),
      ),
    );
    expect(new Set(shows.map((s) => s.pid)).size).toBe(4);
    expect(shows.map((s) => s.jit)).toEqual(['off', 'off', 'off', 'off']);
    const { rows } = await tdb.db.query<{ jit: string }>('SHOW jit');
    expect(rows[0].jit).toBe('off');
  });
});
