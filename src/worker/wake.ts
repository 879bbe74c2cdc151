/**
 * Waking workers when new work is due: at once in this process, and through
 * NOTIFY for workers in other processes (PostgreSQL only; the embedded store
 * is one process). Bursts of publishes share one NOTIFY.
 */
import type { Db } from '../store/db.js';
import { WAKE_CHANNEL } from '../store/events.js';

// A burst of publishes within this window costs one NOTIFY; it is also the most it adds to latency.
const NOTIFY_EVERY_MS = 2;

export function createWake(
  db: Db,
  local?: () => void,
  onError?: (err: unknown) => void,
): () => void {
  if (db.kind !== 'postgres') return () => local?.();
  let scheduled = false;
  return () => {
    local?.();
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      db.query(`SELECT pg_notify('${WAKE_CHANNEL}', '')`).catch((err) => onError?.(err));
    }, NOTIFY_EVERY_MS).unref();
  };
}
