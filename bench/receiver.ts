/**
 * The webhook receiver of the benchmark, run in its own process (forked by
 * receiver-client.ts). `POST /ok/<tag>/<n>` answers 200 at once; `POST
 * /hang/<tag>/<n>` never answers (the sender's timeout ends it). Per tag it
 * counts requests and distinct deliveries (path + webhook-id), and for tags in
 * latency mode it records the first arrival time of each webhook-id.
 * The parent asks over IPC: {op: 'stats'|'reset'|'arrivals'|'track', tag}.
 */
import { createServer, type ServerResponse } from 'node:http';
import { nowMs } from './payload.js';

interface TagStats {
  requests: number;
  seen: Set<string>;
  hung: number;
  firstAt: number;
  lastAt: number;
  /** webhook-id → first arrival (ms), only for tags being tracked. */
  arrivals?: Map<string, number>;
}

const tags = new Map<string, TagStats>();
const hanging = new Set<ServerResponse>();

function stats(tag: string): TagStats {
  let s = tags.get(tag);
  if (!s) {
    s = { requests: 0, seen: new Set(), hung: 0, firstAt: 0, lastAt: 0 };
    tags.set(tag, s);
  }
  return s;
}

const server = createServer((req, res) => {
  const at = nowMs();
  const url = req.url ?? '/';
  const second = url.indexOf('/', 1);
  const kind = url.slice(1, second);
  const rest = url.slice(second + 1);
  const slash = rest.indexOf('/');
  const tag = slash === -1 ? rest : rest.slice(0, slash);
  const s = stats(tag);
  const id = req.headers['webhook-id'];
  s.requests++;
  if (s.firstAt === 0) s.firstAt = at;
  s.lastAt = at;
  if (kind === 'hang') {
    s.hung++;
    hanging.add(res);
    res.on('close', () => hanging.delete(res));
    req.resume();
    return;
  }
  if (typeof id === 'string') {
    s.seen.add(url + '|' + id);
    if (s.arrivals && !s.arrivals.has(id)) s.arrivals.set(id, at);
  }
  res.writeHead(200, { 'content-length': '0' });
  res.end();
  req.resume();
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;

function summary(tag: string) {
  const s = stats(tag);
  return {
    requests: s.requests,
    distinct: s.seen.size,
    hung: s.hung,
    firstAt: s.firstAt,
    lastAt: s.lastAt,
  };
}

process.on('message', (msg: { id: number; op: string; tag: string }) => {
  const { id, op, tag } = msg;
  let result: unknown = null;
  if (op === 'stats') result = summary(tag);
  else if (op === 'reset') tags.delete(tag);
  else if (op === 'track') stats(tag).arrivals = new Map();
  else if (op === 'arrivals') result = [...(stats(tag).arrivals ?? new Map())];
  else if (op === 'connections') result = hanging.size;
  process.send!({ id, result });
});
process.on('disconnect', () => {
  for (const res of hanging) res.destroy();
  server.close();
  process.exit(0);
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send!({ ready: true, port });
});
