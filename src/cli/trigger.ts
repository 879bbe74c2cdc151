/** `hookline trigger EVENT_TYPE --data JSON`: publishes one event through the API. */
import type { Command } from 'commander';
import { describeError, painter, remoteClient, withRemote, type RemoteOptions } from './remote.js';

interface TriggerOptions extends RemoteOptions {
  data?: string;
  idempotencyKey?: string;
  tenant?: string;
  json?: boolean;
}

export function registerTrigger(program: Command): void {
  withRemote(
    program
      .command('trigger')
      .description(
        'Publish an event through the API (POST /events), e.g. hookline trigger ticket.created --data \'{"id":1}\'.',
      )
      .argument('<event-type>', 'a registered event type')
      .option('--data <json>', 'the payload, as JSON (default: {})')
      .option('--idempotency-key <key>', 'publish at most once per key within 24 hours')
      .option('--tenant <id>', "deliver to this tenant's webhooks only (docs/tenants.md)")
      .option('--json', 'print the API answer as JSON'),
  ).action(async (eventType: string, opts: TriggerOptions) => {
    let payload: unknown = {};
    if (opts.data !== undefined) {
      try {
        payload = JSON.parse(opts.data);
      } catch (err) {
        process.stderr.write(`hookline: --data is not valid JSON: ${(err as Error).message}\n`);
        process.exit(2);
      }
    }
    const { client, server } = remoteClient(opts);
    const c = painter();
    try {
      const event = await client.request('POST /events', {
        body: {
          event_type: eventType,
          payload,
          ...(opts.tenant !== undefined ? { tenant_id: opts.tenant } : {}),
        },
        ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
      });
      if (opts.json) process.stdout.write(JSON.stringify(event) + '\n');
      else {
        const n = event.deliveries;
        process.stdout.write(
          `${c.green('Published')} ${event.event_type} ${c.bold(event.id)}: ${n} ${n === 1 ? 'delivery' : 'deliveries'} queued.\n`,
        );
      }
    } catch (err) {
      process.stderr.write(`hookline: ${describeError(err, server)}\n`);
      process.exit(1);
    }
  });
}
