/**
 * The ceiling: what this machine and this receiver allow with no queue and no
 * database at all. A bare undici Pool sends freshly signed bodies, as fast as
 * it can, with as many requests in flight as Hookline's worker allows.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { eventBody, signedHeaders } from './payload.js';
import type { Load } from './steady.js';

export function ceilingLoad(
  receiverUrl: string,
  tag: string,
  opts: { concurrency: number; fanout: number },
): Load & { close(): Promise<void> } {
  const pool = new Pool(receiverUrl, { connections: opts.concurrency, keepAliveTimeout: 60_000 });
  let n = 0;
  return {
    async run(stop) {
      const loop = async () => {
        while (!stop.stopped) {
          const id = `evt_${randomUUID()}`;
          const body = eventBody(id, 'bench.ceiling', new Date().toISOString());
          const res = await pool.request({
            method: 'POST',
            path: `/ok/${tag}/${n++ % opts.fanout}`,
            headers: signedHeaders(id, 'bench.ceiling', body),
            body,
          });
          await res.body.dump();
        }
      };
      await Promise.all(Array.from({ length: opts.concurrency }, loop));
    },
    close: () => pool.close(),
  };
}
