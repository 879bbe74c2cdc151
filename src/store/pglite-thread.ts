/**
 * The embedded store on a thread of its own. PGlite runs PostgreSQL compiled to
 * WebAssembly synchronously on whichever thread owns it: on the main thread,
 * every statement stops the API and the sender for as long as it runs. Here a
 * `worker_threads` worker (src/store/pglite-thread-worker.ts) owns the database
 * and this proxy implements `Db` by messages, so the main thread only sends SQL
 * and receives rows, and the database works on the second core meanwhile.
 *
 * What crosses the thread, and how it arrives: rows are structured-cloned,
 * which keeps what PGlite's parsers made of them (Date for timestamps, numbers
 * for int8, objects for json, Uint8Array for bytea); parameters the same way
 * (a Buffer arrives as the Uint8Array it is). Errors are flattened
 * (`toWire`) and rebuilt with their SQLSTATE `code` and other fields, so
 * callers that check `pgErrorCode(err)` see what they saw in process.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Db, Queryable, QueryResult, Row } from './db.js';
import type { ThreadReply, ThreadRequest, WireError } from './pglite-thread-worker.js';

/** Rebuilds an error the thread flattened: an `Error` with the database's fields on it. */
function fromWire(w: WireError): Error {
  const err = Object.assign(new Error(w.message), w.fields);
  err.name = w.name;
  // The statement failed on the database thread: its stack is where; the caller awaited here.
  if (w.stack) err.stack = w.stack;
  return err;
}

/**
 * Starts the database thread. Built, it is the compiled `.js` beside this file.
 * From TypeScript sources (the test suite, `tsx`) the thread needs tsx's loader,
 * and Node 20 loads a worker's entry module before it would apply an
 * `--import` in `execArgv`: a one-line bootstrap registers tsx, then imports it.
 */
function startThread(dataDir: string | undefined): Worker {
  const workerData = { dataDir };
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./pglite-thread-worker.js', import.meta.url), { workerData });
  const entry = new URL('./pglite-thread-worker.ts', import.meta.url).href;
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

interface Pending {
  resolve: (r: QueryResult<any>) => void;
  reject: (err: Error) => void;
}

/**
 * Opens the embedded database (`dataDir` undefined: in memory) on a thread of
 * its own; resolves once it is open, rejects with PGlite's error if it cannot be.
 * Same contract as `openPglite` (src/store/pglite.ts): one connection, statements
 * run in the order they are sent, a transaction holds the database exclusively.
 */
export async function openPgliteThread(dataDir?: string): Promise<Db> {
  const thread = startThread(dataDir);
  const pending = new Map<number, Pending>();
  const subscribers = new Map<number, (payload: string) => void>();
  let nextId = 1;
  let nextTx = 1;
  // Set once the database is closed or the thread is gone: every later call fails with it.
  let gone: Error | undefined;
  let closing: Promise<void> | undefined;

  // Requests made in one turn of the event loop go as one message.
  let outbox: ThreadRequest[] = [];
  const flush = () => {
    const batch = outbox;
    outbox = [];
    try {
      thread.postMessage(batch);
    } catch {
      // A parameter structured clone cannot carry (a function, a symbol): fail that call alone.
      for (const r of batch) {
        try {
          thread.postMessage([r]);
        } catch (err) {
          if ('id' in r) settle(r.id, { id: r.id, error: { ...wireOf(err), fields: {} } });
        }
      }
    }
  };
  const post = (r: ThreadRequest) => {
    if (outbox.length === 0) queueMicrotask(flush);
    outbox.push(r);
  };

  const call = <R>(r: ThreadRequest & { id: number }): Promise<QueryResult<R>> => {
    if (gone) return Promise.reject(gone);
    if (pending.size === 0) thread.ref();
    return new Promise<QueryResult<R>>((resolve, reject) => {
      pending.set(r.id, { resolve, reject });
      post(r);
    });
  };

  const settle = (id: number, reply: ThreadReply) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (pending.size === 0) thread.unref();
    if ('error' in reply) p.reject(fromWire(reply.error));
    else if ('rows' in reply) p.resolve({ rows: reply.rows, rowCount: reply.rowCount });
  };

  const failAll = (err: Error) => {
    gone ??= err;
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(err);
    }
    thread.unref();
  };

  await new Promise<void>((resolve, reject) => {
    const early = (err: Error) => reject(err);
    const earlyExit = (code: number) =>
      reject(new Error(`the embedded database thread exited while opening (code ${code})`));
    thread.once('error', early);
    thread.once('exit', earlyExit);
    thread.once('message', (batch: ThreadReply[]) => {
      thread.off('error', early);
      thread.off('exit', earlyExit);
      const first = batch[0];
      if (first && 'failed' in first) reject(fromWire(first.failed));
      else resolve();
    });
  }).catch(async (err) => {
    await thread.terminate();
    throw err;
  });
  // A thread with nothing in flight must not keep the process alive (PGlite in process does not);
  // `call` holds a reference while any answer is awaited.
  thread.unref();

  thread.on('message', (batch: ThreadReply[]) => {
    for (const reply of batch) {
      if ('notify' in reply) subscribers.get(reply.notify)?.(reply.payload);
      else if ('id' in reply) settle(reply.id, reply);
    }
  });
  thread.on('error', (err) => failAll(err));
  thread.on('exit', (code) =>
    failAll(new Error(`the embedded database thread exited (code ${code})`)),
  );

  const query = <R = Row>(sql: string, params?: readonly unknown[], tx?: number, name?: string) =>
    call<R>({ op: 'query', id: nextId++, sql, params, tx, name });

  return {
    kind: 'pglite',
    query: (sql, params, opts) => query(sql, params, undefined, opts?.name),
    async transaction(fn) {
      if (gone) throw gone;
      const tx = nextTx++;
      // Not awaited: BEGIN goes ahead of the first statement in the same message, and if it
      // fails, that statement, and the commit or rollback, get its error.
      post({ op: 'begin', tx });
      const q: Queryable = { query: (sql, params) => query(sql, params, tx) };
      let result;
      try {
        result = await fn(q);
      } catch (err) {
        await call({ op: 'rollback', id: nextId++, tx }).catch(() => {});
        throw err;
      }
      await call({ op: 'commit', id: nextId++, tx });
      return result;
    },
    async listen(channel, onNotify) {
      const id = nextId++;
      subscribers.set(id, onNotify);
      try {
        await call({ op: 'listen', id, channel });
      } catch (err) {
        subscribers.delete(id);
        throw err;
      }
      return async () => {
        if (!subscribers.delete(id) || gone) return;
        await call({ op: 'unlisten', id: nextId++, sub: id });
      };
    },
    close() {
      closing ??= (async () => {
        if (!gone) {
          try {
            await call({ op: 'close', id: nextId++ });
          } finally {
            gone = new Error('the embedded database is closed');
            await thread.terminate();
          }
        }
        failAll(gone ?? new Error('the embedded database is closed'));
      })();
      return closing;
    },
  };
}

function wireOf(err: unknown): Omit<WireError, 'fields'> {
  return err instanceof Error
    ? { name: err.name, message: err.message, stack: err.stack }
    : { name: 'Error', message: String(err) };
}
