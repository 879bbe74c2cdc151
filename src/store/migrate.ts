import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';

/** Where the numbered migration files live: `sql/` at the package root. */
export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sql');

// Any constant works; it only has to be the same in every Hookline process.
const MIGRATION_LOCK = 72_411_907;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Reads `sql/NNNNNN_name.sql` files in version order. */
export function loadMigrations(dir = migrationsDir): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{6}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 6)),
      name: file.slice(7, -4),
      sql: readFileSync(join(dir, file), 'utf8'),
    }));
}

/**
 * Applies every migration not yet recorded, each in its own transaction that
 * holds a transaction-scoped advisory lock, so processes starting at once take
 * turns and each migration runs exactly once. Returns the versions applied here.
 */
export async function migrate(db: Db, migrations = loadMigrations()): Promise<number[]> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  const applied: number[] = [];
  for (const m of migrations) {
    const ran = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [
        m.version,
      ]);
      if (done.rows.length > 0) return false;
      // Statements run one by one so a single adapter call never has to take a multi-statement script.
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ]);
      return true;
    });
    if (ran) applied.push(m.version);
  }
  return applied;
}

/**
 * Splits a migration script on semicolons that end a line, outside dollar-quoted
 * bodies (`$$ … $$`, a function's), whose statements end lines too. Whole-line
 * comments outside such bodies are dropped.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current: string[] = [];
  let inBody = false;
  const push = (text: string) => {
    if (text.trim().length > 0) statements.push(text.trim());
  };
  for (const line of sql.split('\n')) {
    if (!inBody && /^\s*--/.test(line)) continue;
    if ((line.match(/\$\$/g)?.length ?? 0) % 2 === 1) inBody = !inBody;
    if (!inBody && /;\s*$/.test(line)) {
      push([...current, line.replace(/;\s*$/, '')].join('\n'));
      current = [];
    } else current.push(line);
  }
  push(current.join('\n'));
  return statements;
}
