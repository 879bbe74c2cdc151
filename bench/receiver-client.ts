/** The benchmark's side of the receiver process: fork it, ask it for counts. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface TagSummary {
  requests: number;
  /** Distinct deliveries: (path, webhook-id) pairs. */
  distinct: number;
  /** Requests left unanswered on /hang/ paths. */
  hung: number;
  firstAt: number;
  lastAt: number;
}

export interface Receiver {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  pid: number;
  stats(tag: string): Promise<TagSummary>;
  reset(tag: string): Promise<void>;
  /** Start recording the first arrival of each webhook-id on this tag. */
  track(tag: string): Promise<void>;
  arrivals(tag: string): Promise<Array<[string, number]>>;
  stop(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./receiver.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`receiver exited at start (${code})`)));
    child.on('message', function onReady(m: any) {
      if (m?.ready) {
        child.off('message', onReady);
        resolve(m.port);
      }
    });
  });
  let next = 1;
  const waiting = new Map<number, (r: any) => void>();
  child.on('message', (m: any) => {
    const done = waiting.get(m?.id);
    if (done) {
      waiting.delete(m.id);
      done(m.result);
    }
  });
  const ask = (op: string, tag = '') =>
    new Promise<any>((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      child.send({ id, op, tag });
    });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stats: (tag) => ask('stats', tag),
    reset: (tag) => ask('reset', tag),
    track: (tag) => ask('track', tag),
    arrivals: (tag) => ask('arrivals', tag),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      await exited;
    },
  };
}
