/**
 * The thread that owns the embedded database. src/store/pglite-thread.ts starts
 * it and speaks to it in batches of the messages below; here they are run on
 * the in-thread adapter (src/store/pglite.ts), so the SQL, the type parsers and
 * the one-connection serialisation are exactly those of the embedded store in
 * process, only off the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Db, Queryable, Row } from './db.js';
import { openPglite } from './pglite.js';

/** What the main thread asks for. `tx` names a transaction the main thread opened with `begin`. */
export type ThreadRequest =
  | {
      op: 'query';
      id: number;
      sql: string;
      params?: readonly unknown[];
      tx?: number;
      /** A statement name: prepared once (src/store/pglite-prepared.ts); outside transactions only. */
      name?: string;
    }
  /** Opens transaction `tx`; no reply of its own: its `commit` or `rollback` answers for it. */
  | { op: 'begin'; tx: number }
  | { op: 'commit' | 'rollback'; id: number; tx: number }
  /** Subscribes to a channel; NOTIFYs come back as `{ notify: id }`. */
  | { op: 'listen'; id: number; channel: string }
  | { op: 'unlisten'; id: number; sub: number }
  | { op: 'close'; id: number };

/** A database error as it crosses the thread: structured clone would keep only message and stack. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** SQLSTATE `code`, `constraint`, `detail`… : every own property that is a plain value. */
  fields: Record<string, string | number | boolean>;
}

/** What the thread answers; `ready`/`failed` once, at start. */
export type ThreadReply =
  | { id: number; rows: Row[]; rowCount: number }
  | { id: number; error: WireError }
  | { notify: number; payload: string }
  | { ready: true }
  | { failed: WireError };

/** Flattens any thrown value into something structured clone carries whole. */
export function toWire(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: WireError['fields'] = {};
  // Only plain values: PGlite's errors also carry the query's params and parser functions.
  for (const [k, v] of Object.entries(err)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  }
  return { name: err.name, message: err.message, stack: err.stack, fields };
}

type TxRequest = Extract<ThreadRequest, { op: 'query' | 'commit' | 'rollback' }>;

interface OpenTx {
  queue: TxRequest[];
  wake?: () => void;
  /** Set when BEGIN itself failed: every later statement of this transaction gets this error. */
  failed?: unknown;
  /** Commit or rollback received: a statement sent after it fails, as in process. */
  ended?: boolean;
}

const port = parentPort!;
const { dataDir } = workerData as { dataDir?: string };

// Replies of one turn of this thread's event loop go out as one message.
let outbox: ThreadReply[] = [];
function send(reply: ThreadReply): void {
  if (outbox.length === 0) queueMicrotask(flush);
  outbox.push(reply);
}
function flush(): void {
  const batch = outbox;
  outbox = [];
  port.postMessage(batch);
}

const ok = (id: number) => (r: { rows: Row[]; rowCount: number }) =>
  send({ id, rows: r.rows, rowCount: r.rowCount });
const fail = (id: number) => (err: unknown) => send({ id, error: toWire(err) });

const rollbackRequested = Symbol('rollback');
const txs = new Map<number, OpenTx>();
const unsubscribes = new Map<number, () => Promise<void>>();

/**
 * Holds PGlite's transaction open until the main thread says commit or rollback,
 * running the transaction's statements in the order they were sent. PGlite keeps
 * every other statement waiting meanwhile, as it does in process.
 */
function begin(db: Db, txId: number): void {
  const t: OpenTx = { queue: [] };
  txs.set(txId, t);
  // The id of the commit or rollback that ended it: the one that gets the outcome.
  let endId: number | undefined;
  const next = () =>
    t.queue.length > 0
      ? Promise.resolve(t.queue.shift()!)
      : new Promise<TxRequest>((resolve) => {
          t.wake = () => {
            t.wake = undefined;
            resolve(t.queue.shift()!);
          };
        });
  const body = async (q: Queryable) => {
    for (;;) {
      const r = await next();
      if (r.op === 'query') {
        await q.query(r.sql, r.params).then(ok(r.id), fail(r.id));
        continue;
      }
      endId = r.id;
      if (r.op === 'rollback') throw rollbackRequested;
      return;
    }
  };
  db.transaction(body).then(
    () => {
      txs.delete(txId);
      send({ id: endId!, rows: [], rowCount: 0 });
    },
    (err) => {
      if (endId !== undefined) {
        txs.delete(txId);
        if (err === rollbackRequested) send({ id: endId, rows: [], rowCount: 0 });
        else fail(endId)(err);
        return;
      }
      // BEGIN failed: answer what waits, and what comes later, with its error.
      t.failed = err;
      for (const r of t.queue.splice(0)) answerFailed(txId, t, r);
    },
  );
}

function answerFailed(txId: number, t: OpenTx, r: TxRequest): void {
  fail(r.id)(t.failed);
  if (r.op === 'commit' || r.op === 'rollback') txs.delete(txId);
}

function dispatch(db: Db, r: ThreadRequest): void {
  switch (r.op) {
    case 'query':
      if (r.tx === undefined) {
        db.query(r.sql, r.params, r.name ? { name: r.name } : undefined).then(ok(r.id), fail(r.id));
        return;
      }
    // falls through: a statement of a transaction waits in that transaction's queue
    case 'commit':
    case 'rollback': {
      const t = txs.get(r.tx!);
      if (!t || t.ended) return fail(r.id)(new Error('Transaction is closed'));
      if (t.failed !== undefined) return answerFailed(r.tx!, t, r);
      t.queue.push(r);
      if (r.op !== 'query') t.ended = true;
      t.wake?.();
      return;
    }
    case 'begin':
      return begin(db, r.tx);
    case 'listen': {
      const id = r.id;
      db.listen(r.channel, (payload) => send({ notify: id, payload })).then((unsubscribe) => {
        unsubscribes.set(id, unsubscribe);
        send({ id, rows: [], rowCount: 0 });
      }, fail(id));
      return;
    }
    case 'unlisten': {
      const unsubscribe = unsubscribes.get(r.sub);
      unsubscribes.delete(r.sub);
      (unsubscribe?.() ?? Promise.resolve()).then(
        () => send({ id: r.id, rows: [], rowCount: 0 }),
        fail(r.id),
      );
      return;
    }
    case 'close':
      db.close().then(() => send({ id: r.id, rows: [], rowCount: 0 }), fail(r.id));
      return;
  }
}

openPglite(dataDir).then(
  (db) => {
    port.on('message', (batch: ThreadRequest[]) => {
      for (const r of batch) dispatch(db, r);
    });
    send({ ready: true });
  },
  (err) => send({ failed: toWire(err) }),
);
