/**
 * LISTEN/NOTIFY on a real PostgreSQL server: one dedicated connection per Db,
 * outside the pool, that carries every channel. It is opened on the first
 * subscription and re-opened whenever it drops (a server restart, a network
 * cut, pg_terminate_backend), with every channel LISTENed again. NOTIFYs sent
 * while it was down are lost, so after a reconnect every subscriber's
 * `onReconnect` runs: it looks again at what a notification would have told it.
 */
import pg from 'pg';
import type { ListenOptions } from './db.js';

/** What the listener logs with: a pino logger fits. */
export interface ListenLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

export interface ListenerOptions {
  log?: ListenLog;
  /** Reconnect backoff: the first wait, doubled per failed attempt up to `maxMs`, jittered. */
  backoff?: { minMs: number; maxMs: number };
  /**
   * A query on the idle connection every `everyMs` finds a connection cut without a reset (a
   * network that drops packets, a host gone): with no answer after `timeoutMs` it is replaced.
   */
  heartbeat?: { everyMs: number; timeoutMs: number };
}

export interface Listener {
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    opts?: ListenOptions,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

interface Subscriber {
  onNotify: (payload: string) => void;
  onReconnect?: () => void;
}

interface Connection {
  client: pg.Client;
  /** Channels LISTENed on this connection. */
  listened: Set<string>;
  beatTimer?: NodeJS.Timeout;
}

const APPLICATION_NAME = 'hookline-listen';
const DEFAULT_BACKOFF = { minMs: 100, maxMs: 5_000 };
const DEFAULT_HEARTBEAT = { everyMs: 30_000, timeoutMs: 10_000 };
const CONNECT_TIMEOUT_MS = 10_000;

const silent: ListenLog = { info() {}, warn() {}, error() {} };

function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export function createListener(url: string, opts: ListenerOptions = {}): Listener {
  const log = opts.log ?? silent;
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const heartbeat = opts.heartbeat ?? DEFAULT_HEARTBEAT;
  const subs = new Map<string, Set<Subscriber>>();
  let conn: Connection | undefined;
  let opening: Promise<Connection> | undefined;
  let reconnecting: Promise<void> | undefined;
  let closed = false;
  let cancelWait: (() => void) | undefined;
  // LISTEN and UNLISTEN run one at a time, so what a connection listens to follows `subs`.
  let syncing: Promise<void> = Promise.resolve();

  function dispatch(n: pg.Notification): void {
    for (const sub of [...(subs.get(n.channel) ?? [])]) {
      try {
        sub.onNotify(n.payload ?? '');
      } catch (err) {
        log.error({ err, channel: n.channel }, 'a NOTIFY subscriber failed');
      }
    }
  }

  async function open(): Promise<Connection> {
    const client = new pg.Client({
      connectionString: url,
      application_name: APPLICATION_NAME,
      keepAlive: true,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    // Until it is the live connection, errors surface through connect(); a client left behind
    // after a drop must never raise an unhandled 'error'.
    client.on('error', () => {});
    await client.connect();
    const c: Connection = { client, listened: new Set() };
    if (closed) {
      await client.end().catch(() => {});
      throw new Error('the listener is closed');
    }
    client.on('notification', dispatch);
    client.on('error', (err) => dropped(c, err));
    client.on('end', () => dropped(c));
    c.beatTimer = setInterval(() => beat(c), heartbeat.everyMs).unref();
    conn = c;
    return c;
  }

  function beat(c: Connection): void {
    const timer = setTimeout(
      () => dropped(c, new Error(`no answer to a heartbeat within ${heartbeat.timeoutMs} ms`)),
      heartbeat.timeoutMs,
    );
    timer.unref();
    c.client.query('SELECT 1').then(
      () => clearTimeout(timer),
      () => clearTimeout(timer), // a failed query on a dropped connection: 'error'/'end' say so
    );
  }

  /** Makes what the live connection LISTENs to match the channels that have subscribers. */
  function sync(): Promise<void> {
    const run = syncing.then(async () => {
      const c = conn;
      if (!c) return;
      for (const channel of subs.keys()) {
        if (c.listened.has(channel)) continue;
        await c.client.query(`LISTEN ${quoteIdent(channel)}`);
        c.listened.add(channel);
      }
      for (const channel of [...c.listened]) {
        if (subs.has(channel)) continue;
        await c.client.query(`UNLISTEN ${quoteIdent(channel)}`);
        c.listened.delete(channel);
      }
    });
    syncing = run.catch(() => {});
    return run;
  }

  function dropped(c: Connection, err?: unknown): void {
    if (conn !== c) return; // already handled (an 'error' is followed by 'end')
    conn = undefined;
    clearInterval(c.beatTimer);
    c.client.removeListener('notification', dispatch);
    // With a query in flight (a heartbeat with no answer) end() destroys the socket at once.
    c.client.end().catch(() => {});
    // Closed; or nobody listens (the next subscription opens a connection); or a reconnect is
    // under way and lost the connection it was setting up: it tries again itself.
    if (closed || subs.size === 0 || reconnecting) return;
    log.warn(
      { err, channels: [...subs.keys()] },
      'the LISTEN connection to PostgreSQL dropped; reconnecting (notifications sent meanwhile are lost: subscribers look again once it is back)',
    );
    reconnecting ??= reconnect().finally(() => (reconnecting = undefined));
  }

  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // Waiting to reconnect keeps no process alive by itself.
      const timer = setTimeout(done, ms).unref();
      function done() {
        clearTimeout(timer);
        cancelWait = undefined;
        resolve();
      }
      cancelWait = done;
    });
  }

  async function reconnect(): Promise<void> {
    const since = Date.now();
    let delay = backoff.minMs;
    let lastErr: unknown;
    for (let attempt = 1; !closed; attempt++) {
      // Jitter: processes that lost one server together do not all come back in step.
      await wait(delay / 2 + Math.random() * (delay / 2));
      if (closed) return;
      try {
        const c = await open();
        await sync();
        if (conn !== c)
          throw new Error('the connection dropped again while re-LISTENing', { cause: lastErr });
        log.info(
          { attempts: attempt, downMs: Date.now() - since, channels: [...c.listened] },
          'the LISTEN connection to PostgreSQL is back',
        );
        break;
      } catch (err) {
        lastErr = err;
        log.debug?.({ err, attempt }, 'the LISTEN connection could not be re-opened yet');
        if (conn) {
          const c = conn;
          conn = undefined;
          clearInterval(c.beatTimer);
          c.client.end().catch(() => {});
        }
        delay = Math.min(delay * 2, backoff.maxMs);
      }
    }
    if (closed) return;
    // Every channel listens again: whatever was NOTIFYed while it was down, subscribers look now.
    const all = [...subs.values()].flatMap((set) => [...set]);
    for (const sub of new Set(all)) {
      try {
        sub.onReconnect?.();
      } catch (err) {
        log.error({ err }, 'a NOTIFY subscriber failed on reconnect');
      }
    }
  }

  function remove(channel: string, sub: Subscriber): void {
    const set = subs.get(channel);
    if (!set) return;
    set.delete(sub);
    if (set.size === 0) subs.delete(channel);
  }

  return {
    async listen(channel, onNotify, opts = {}) {
      if (closed) throw new Error('the database is closed');
      const sub: Subscriber = { onNotify, onReconnect: opts.onReconnect };
      let set = subs.get(channel);
      if (!set) subs.set(channel, (set = new Set()));
      set.add(sub);
      try {
        // While a reconnect runs the channel is LISTENed with the others when it is back.
        if (!conn && !reconnecting) {
          opening ??= open().finally(() => (opening = undefined));
          await opening;
        }
        await sync();
      } catch (err) {
        // A connection that dropped meanwhile is being re-opened, this channel with it.
        if (!reconnecting || closed) {
          remove(channel, sub);
          throw err;
        }
      }
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        remove(channel, sub);
        await sync().catch(() => {}); // on a dropped connection there is nothing to UNLISTEN
      };
    },
    async close() {
      closed = true;
      cancelWait?.();
      await opening?.catch(() => {});
      await reconnecting;
      const c = conn;
      conn = undefined;
      if (c) {
        clearInterval(c.beatTimer);
        await c.client.end().catch(() => {});
      }
    },
  };
}
