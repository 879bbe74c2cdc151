/**
 * The planner settings every connection gets (src/store/planner.ts): no JIT, whose compile time
 * dwarfed the queue's short statements, and no bitmap scans, which read a webhook's whole
 * backlog when the statistics put it at a few rows. On PostgreSQL on several pooled connections
 * at once, in and out of a transaction; on the embedded store on its one connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testStore, type TestDatabase } from '../support/db.js';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.drop());

const SETTINGS = `SELECT current_setting('jit') AS jit, current_setting('enable_bitmapscan') AS bitmap,
                          pg_backend_pid() AS pid`;

describe('the planner settings of a connection', () => {
  it('turn JIT and bitmap scans off, whichever connection serves the query', async () => {
    // Held open together (each for a moment of the server's time), so the pool opens a
    // connection for each; the embedded store has one and serves them in turn.
    const shows = await Promise.all(
      Array.from({ length: 4 }, () =>
        tdb.db.transaction(async (tx) => {
          const { rows } = await tx.query<{ jit: string; bitmap: string; pid: number }>(
            `${SETTINGS}, pg_sleep(0.05)`,
          );
          return rows[0];
        }),
      ),
    );
    if (testStore === 'postgres') expect(new Set(shows.map((s) => s.pid)).size).toBe(4);
    for (const s of shows) expect(s).toMatchObject({ jit: 'off', bitmap: 'off' });
    const { rows } = await tdb.db.query<{ jit: string; bitmap: string }>(SETTINGS);
    expect(rows[0]).toMatchObject({ jit: 'off', bitmap: 'off' });
  });
});
