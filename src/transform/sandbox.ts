/**
 * Runs webhook transformations in QuickJS compiled to WebAssembly
 * (quickjs-emscripten), on a thread of their own (sandbox-worker.ts): the
 * script never touches Node's realm, and the process's event loop keeps
 * answering HTTP while scripts run. Runs go one at a time, so memory stays
 * bounded by one run's limit (and a window of inputs waiting beside it). The interrupt handler stops a script at its
 * deadline; a native operation that does not return to it (a huge
 * String.repeat) is stopped by terminating the thread once the deadline
 * and a grace period have passed, and the next run gets a new thread
 * (docs/routing.md, "Limits").
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** Per-run limits (config.transformMemoryMb, config.transformTimeoutMs). */
export interface SandboxLimits {
  memoryMb: number;
  timeoutMs: number;
}

/** A run's outcome: the handler's return value as JSON text, or why there is none. */
export type RunResult = { ok: true; json: string } | { ok: false; message: string };

/** One run as the thread gets it; `input` null: only check that the script parses. */
export interface SandboxJob extends SandboxLimits {
  code: string;
  input: string | null;
}

/** How long past its deadline a run may take before its thread is terminated. */
const GRACE_MS = 1000;
/**
 * Runs handed to the thread ahead of the one it is running. The thread still runs one at a
 * time; what the window saves is the round trip through this (busy) event loop between two
 * runs, which cost more than the runs themselves (BENCHMARKS.md, phase "Transformations").
 */
const WINDOW = 16;

// Compiled, the thread is the .js beside this file; run from source, the .ts.
const compiled = new URL('./sandbox-worker.js', import.meta.url);
const source = new URL('./sandbox-worker.ts', import.meta.url);

interface Run {
  job: SandboxJob;
  resolve: (r: RunResult) => void;
}

interface Thread {
  worker: Worker;
  ready: Promise<void>;
  /** Runs handed to this thread, oldest first: its answers come in this order. */
  sent: Run[];
  /** Stops the oldest run if it outlives its deadline (set while `sent` is not empty). */
  watchdog?: NodeJS.Timeout;
}

let thread: Thread | undefined;
/** Runs no thread has yet. */
const waiting: Run[] = [];

/** The oldest run's deadline starts when the thread reaches it (its predecessor answered). */
function armWatchdog(t: Thread): void {
  if (t.watchdog || t.sent.length === 0) return;
  t.watchdog = setTimeout(() => {
    t.watchdog = undefined;
    const stuck = t.sent.shift();
    // What was queued behind it never ran: the next thread gets it.
    waiting.unshift(...t.sent.splice(0));
    if (thread === t) thread = undefined;
    void t.worker.terminate();
    stuck?.resolve({ ok: false, message: 'ran out of time (stopped at the time limit)' });
    pump();
  }, t.sent[0].job.timeoutMs + GRACE_MS);
}

function startThread(): Thread {
  // From source (tests), the thread registers tsx's loader before importing the .ts.
  const worker = existsSync(compiled)
    ? new Worker(compiled)
    : new Worker(
        `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(source.href)}); })`,
        { eval: true },
      );
  worker.unref();
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  const t: Thread = { worker, ready, sent: [] };
  worker.on('message', (r: RunResult | 'ready') => {
    if (r === 'ready') return;
    clearTimeout(t.watchdog);
    t.watchdog = undefined;
    t.sent.shift()?.resolve(r);
    armWatchdog(t);
    pump();
  });
  worker.once('exit', () => {
    clearTimeout(t.watchdog);
    if (thread === t) thread = undefined;
    // The engine failed (the thread answered its run first, then left) or the thread was
    // terminated: the runs it had not reached go to the next thread.
    waiting.unshift(...t.sent.splice(0));
    pump();
  });
  return t;
}

/** Hands waiting runs to the thread (started when there is none), up to WINDOW ahead. */
function pump(): void {
  if (waiting.length === 0) return;
  const t = (thread ??= startThread());
  t.ready.then(
    () => {
      if (thread !== t) return;
      while (t.sent.length < WINDOW && waiting.length > 0) {
        const run = waiting.shift()!;
        t.sent.push(run);
        t.worker.postMessage(run.job);
      }
      armWatchdog(t);
    },
    (err: unknown) => {
      if (thread === t) thread = undefined;
      for (const run of waiting.splice(0))
        run.resolve({ ok: false, message: `the sandbox did not start: ${(err as Error).message}` });
    },
  );
}

function evaluate(code: string, input: string | null, limits: SandboxLimits): Promise<RunResult> {
  return new Promise<RunResult>((resolve) => {
    waiting.push({ job: { code, input, ...limits }, resolve });
    pump();
  });
}

/** Runs the script's handler on one input. Never rejects for anything the script does. */
export function runTransformation(
  code: string,
  input: unknown,
  limits: SandboxLimits,
): Promise<RunResult> {
  return evaluate(code, JSON.stringify(input), limits);
}

/** The syntax error in a script, or null when it parses. Nothing of it runs. */
export async function syntaxProblem(code: string, limits: SandboxLimits): Promise<string | null> {
  const r = await evaluate(code, null, limits);
  return r.ok ? null : r.message;
}
