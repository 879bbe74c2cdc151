/**
 * Compiles and runs event type schemas off the main thread (docs/security.md,
 * "Event type schemas"). One worker thread holds the compiled validators; each
 * request gets a deadline, and a worker past it is terminated (and a new one started
 * for the next request), so no schema and no payload can hold the event loop, the
 * API or the delivery loop. Inside the worker every schema gets an Ajv instance of
 * its own (nothing registered by one schema is visible to another, so `$id` cannot
 * leak or collide across organizations), the root `$id` is dropped, and `pattern` /
 * `patternProperties` run on RE2 (re2js: linear time, no backtracking).
 *
 * The worker is plain JavaScript evaluated from a string, so it runs the same from
 * the TypeScript sources (tests), the compiled server and the SDK's bundle.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How long one request (compile and validate a batch) may run in the worker. */
export const SCHEMA_DEADLINE_MS = 2000;

/** One failed keyword, as Ajv reports it. */
export interface SchemaIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  missingProperty?: string;
}

/** What the worker answered: issues per payload ([] when valid), or why it could not. */
export type SandboxAnswer =
  | { ok: true; issues: SchemaIssue[][] }
  | { ok: false; reason: 'compile'; message: string }
  | { ok: false; reason: 'deadline' | 'crashed'; message: string };

const require = createRequire(import.meta.url);
const modules = {
  ajv: require.resolve('ajv'),
  formats: require.resolve('ajv-formats'),
  re2: require.resolve('re2js'),
};

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Ajv = require(workerData.ajv).default;
const addFormats = require(workerData.formats).default;
const { RE2JS } = require(workerData.re2);

// Ajv caches compiled patterns by toString(): without a distinct one, every pattern of a
// schema would be the first one.
function re2(pattern, flags) {
  const re = RE2JS.compile(pattern);
  return { test: (s) => re.matcher(s).find(), toString: () => '/' + pattern + '/' + flags };
}
re2.code = 'unused: schemas are never compiled to standalone code';

const cache = new Map();
const MAX_CACHED = 2000;

// Checks schemas against the meta-schema only: it compiles nothing of theirs and registers
// nothing, so sharing it leaks nothing between schemas, and each compile skips that step.
const metaChecker = new Ajv({ strict: false });

function compile(schema) {
  const { $id, ...rest } = schema;
  if (!metaChecker.validateSchema(rest)) throw new Error(metaChecker.errorsText(metaChecker.errors));
  const options = { strict: false, allErrors: true, validateSchema: false, code: { regExp: re2 } };
  const validate = addFormats(new Ajv(options)).compile(rest);
  if (validate.$async) throw new Error('$async schemas are not supported');
  return validate;
}

function check(validate, payload) {
  try {
    if (validate(payload)) return [];
    return (validate.errors || []).slice(0, 20).map((e) => ({
      keyword: e.keyword,
      instancePath: e.instancePath,
      message: e.message,
      missingProperty: e.params && e.params.missingProperty,
    }));
  } catch (err) {
    return [{ keyword: 'nesting', instancePath: '', message: 'nests too deeply to be checked against the schema' }];
  }
}

parentPort.on('message', (msg) => {
  let validate = msg.key ? cache.get(msg.key) : undefined;
  if (!validate) {
    try {
      validate = compile(msg.schema);
    } catch (err) {
      parentPort.postMessage({ id: msg.id, ok: false, reason: 'compile', message: String((err && err.message) || err) });
      return;
    }
    if (msg.key) {
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(msg.key, validate);
    }
  }
  parentPort.postMessage({ id: msg.id, ok: true, issues: msg.payloads.map((p) => check(validate, p)) });
});
parentPort.postMessage({ ready: true });
`;

interface Job {
  id: number;
  message: { id: number; key?: string; schema: object; payloads: unknown[] };
  resolve: (a: SandboxAnswer) => void;
}

let worker: Worker | null = null;
let ready = false;
let current: { job: Job; timer: NodeJS.Timeout } | null = null;
const queue: Job[] = [];
let nextId = 1;

function finish(answer: SandboxAnswer): void {
  if (!current) return;
  clearTimeout(current.timer);
  const { job } = current;
  current = null;
  job.resolve(answer);
  pump();
}

function discardWorker(w: Worker): void {
  if (worker !== w) return;
  worker = null;
  ready = false;
  void w.terminate();
}

function start(): Worker {
  const w = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: modules,
    // A schema or payload that eats memory takes the worker down, not the process.
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });
  w.on('message', (m: { ready?: boolean; id?: number } & SandboxAnswer) => {
    if (m.ready) {
      ready = true;
      pump();
    } else if (current && m.id === current.job.id) finish(m);
  });
  w.on('error', (err) => {
    discardWorker(w);
    finish({ ok: false, reason: 'crashed', message: err.message });
  });
  w.on('exit', () => {
    if (worker === w) {
      worker = null;
      ready = false;
      finish({ ok: false, reason: 'crashed', message: 'the schema worker stopped' });
    }
  });
  return w;
}

function pump(): void {
  if (current || queue.length === 0) {
    // An idle worker must not keep the process alive (a CLI command, the SDK).
    if (!current && queue.length === 0) worker?.unref();
    return;
  }
  worker ??= start();
  worker.ref();
  if (!ready) return; // the 'ready' message pumps again
  const job = queue.shift()!;
  const w = worker;
  const timer = setTimeout(() => {
    discardWorker(w);
    finish({
      ok: false,
      reason: 'deadline',
      message: `could not be checked against the schema within ${SCHEMA_DEADLINE_MS} ms`,
    });
  }, SCHEMA_DEADLINE_MS);
  current = { job, timer };
  try {
    w.postMessage(job.message);
  } catch (err) {
    // A payload the structured clone cannot copy (nesting past its stack) is refused, not thrown.
    finish({
      ok: false,
      reason: 'crashed',
      message: `could not be checked: ${(err as Error).message}`,
    });
  }
}

/**
 * Compiles `schema` (or reuses the validator cached under `key`) and checks each of
 * `payloads` against it, in the worker. Without payloads it only compiles.
 */
export function runSchema(
  schema: object,
  payloads: unknown[],
  key?: string,
): Promise<SandboxAnswer> {
  return new Promise((resolve) => {
    const id = nextId++;
    queue.push({ id, message: { id, key, schema, payloads }, resolve });
    pump();
  });
}

/** Whether a request is running in the worker now (for tests that watch the main thread). */
export function schemaWorkerBusy(): boolean {
  return current !== null;
}
