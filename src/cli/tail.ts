/**
 * `hookline deliveries tail`: follows the delivery log live. It polls
 * GET /deliveries (newest first), walking pages with the cursor until it reaches
 * rows older than a window behind the newest it has seen, and prints each new
 * delivery and each change of status of one it has seen.
 *
 * The window (rows created in the last `overlap` seconds before the newest seen)
 * covers deliveries that commit later than newer-numbered ones, which happens
 * whenever several processes publish at once.
 */
import type { Command } from 'commander';
import type { HooklineClient, ItemOf } from '../client/client.js';
import { describeError, painter, remoteClient, withRemote, type RemoteOptions } from './remote.js';

export type DeliveryRow = ItemOf<'GET /deliveries'>;

export interface TailFilters {
  webhookId?: string;
  status?: DeliveryRow['status'];
  eventType?: string;
}

export interface TailOptions extends TailFilters {
  /** Poll interval. */
  intervalMs?: number;
  /** Seconds behind the newest seen row that are fetched again on each poll. Default 300. Changes of older deliveries (a retry hours later) are not followed. */
  overlapSeconds?: number;
  /** Rows already in the log when the tail starts are printed too (default: only new ones). */
  history?: boolean;
  signal?: AbortSignal;
  /** Called after each poll (tests wait on it). */
  onPoll?: (polls: number) => void;
}

/** One tail "line": a delivery that appeared or changed. */
export interface TailChange {
  row: DeliveryRow;
  /** Its previous status, when it was seen before. */
  previous?: DeliveryRow['status'];
}

/** Follows the log and calls `onChange` for each new row or change of status/attempts, oldest first. */
export async function tailDeliveries(
  client: HooklineClient,
  opts: TailOptions,
  onChange: (c: TailChange) => void,
): Promise<void> {
  const interval = opts.intervalMs ?? 1000;
  const overlapMs = (opts.overlapSeconds ?? 300) * 1000;
  const seen = new Map<string, { status: string; attempts: number; createdAt: number }>();
  let newest = 0; // created_at (ms) of the newest row seen
  let first = true;
  let polls = 0;
  while (!opts.signal?.aborted) {
    const since = newest ? new Date(newest - overlapMs).toISOString() : undefined;
    const rows: DeliveryRow[] = [];
    for await (const row of client.paginate('GET /deliveries', {
      query: {
        limit: 500,
        since,
        webhook_id: opts.webhookId,
        status: opts.status,
        event_type: opts.eventType,
      },
      signal: opts.signal,
    })) {
      // Newest first: once a row is older than the window behind the newest, the rest are too.
      if (
        !opts.history &&
        Date.parse(row.created_at) <
          Math.max(newest, Date.parse(rows[0]?.created_at ?? row.created_at)) - overlapMs
      )
        break;
      rows.push(row);
    }
    rows.reverse(); // oldest first, the order to print in
    for (const row of rows) {
      const createdAt = Date.parse(row.created_at);
      const before = seen.get(row.id);
      if (
        !(first && !opts.history) &&
        (!before || before.status !== row.status || before.attempts !== row.attempts)
      ) {
        onChange({ row, previous: before?.status as DeliveryRow['status'] | undefined });
      }
      seen.set(row.id, { status: row.status, attempts: row.attempts, createdAt });
      newest = Math.max(newest, createdAt);
    }
    for (const [id, s] of seen) if (s.createdAt < newest - overlapMs) seen.delete(id);
    first = false;
    opts.onPoll?.(++polls);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, interval);
      opts.signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), {
        once: true,
      });
    });
  }
}

interface TailCliOptions extends RemoteOptions {
  webhook?: string;
  status?: DeliveryRow['status'];
  eventType?: string;
  interval: string;
  history?: boolean;
  json?: boolean;
}

export function registerTail(deliveries: Command): void {
  withRemote(
    deliveries
      .command('tail')
      .description(
        'Follow the delivery log live: prints each new delivery and each change of its status.',
      )
      .option('--webhook <id>', 'only this webhook’s deliveries')
      .option('--status <status>', 'only deliveries with this status')
      .option('--event-type <name>', 'only this event type')
      .option('--interval <ms>', 'poll interval in milliseconds', '1000')
      .option('--history', 'print the deliveries already in the log first')
      .option('--json', 'one JSON object per line'),
  ).action(async (opts: TailCliOptions) => {
    const { client, server } = remoteClient(opts);
    const c = painter();
    const controller = new AbortController();
    process.on('SIGINT', () => controller.abort());
    process.on('SIGTERM', () => controller.abort());
    const colour = (status: string) =>
      status === 'succeeded'
        ? c.green(status)
        : status === 'failed'
          ? c.red(status)
          : status === 'pending' || status === 'sending'
            ? c.dim(status)
            : c.yellow(status);
    if (c.on) process.stderr.write(c.dim(`Following deliveries on ${server} (Ctrl-C to stop)…\n`));
    try {
      await tailDeliveries(
        client,
        {
          webhookId: opts.webhook,
          status: opts.status,
          eventType: opts.eventType,
          history: opts.history,
          intervalMs: Math.max(100, Number(opts.interval) || 1000),
          signal: controller.signal,
        },
        ({ row, previous }) => {
          if (opts.json)
            return void process.stdout.write(
              JSON.stringify({ ...row, previous_status: previous ?? null }) + '\n',
            );
          const outcome = row.last_status_code
            ? ` ${row.last_status_code}`
            : row.last_error
              ? ` ${row.last_error}`
              : '';
          const time = (row.last_attempt_at ?? row.created_at).slice(11, 19);
          process.stdout.write(
            `${c.dim(time)} ${colour(row.status.padEnd(9))} ${row.event_type} ${row.id} → ${row.webhook_id} attempts=${row.attempts}${outcome}${previous ? c.dim(` (was ${previous})`) : ''}\n`,
          );
        },
      );
    } catch (err) {
      if (controller.signal.aborted) return;
      process.stderr.write(`hookline: ${describeError(err, server)}\n`);
      process.exit(1);
    }
  });
}
