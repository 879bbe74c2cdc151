/**
 * Runs webhook transformations in QuickJS compiled to WebAssembly
 * (quickjs-emscripten), on a thread of their own (sandbox-worker.ts): the
 * script never touches Node's realm, and the process's event loop keeps
 * answering HTTP while scripts run. Runs go one at a time, so memory stays
 * bounded by one run's limit. The interrupt handler stops a script at its
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

// Compiled, the thread is the .js beside this file; run from source, the .ts.
const compiled = new URL('./sandbox-worker.js', import.meta.url);
const source = new URL('./sandbox-worker.ts', import.meta.url);

interface Thread {
  worker: Worker;
  ready: Promise<void>;
}

let thread: Thread | undefined;
let queue: Promise<unknown> = Promise.resolve();

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
  const t: Thread = { worker, ready };
  worker.once('exit', () => {
    if (thread === t) thread = undefined;
  });
  return t;
}

function runOnThread(job: SandboxJob): Promise<RunResult> {
  return new Promise<RunResult>((resolve) => {
    const t = (thread ??= startThread());
    t.ready.then(
      () => {
        // `timer` is read by finish only after it is set (finish runs on a later event).
        const finish = (r: RunResult) => {
          clearTimeout(timer);
          t.worker.off('message', onMessage);
          t.worker.off('exit', onExit);
          resolve(r);
        };
        const onMessage = (r: RunResult) => finish(r);
        const onExit = () => finish({ ok: false, message: 'the sandbox stopped it' });
        t.worker.on('message', onMessage);
        t.worker.on('exit', onExit);
        const timer = setTimeout(() => {
          if (thread === t) thread = undefined;
          void t.worker.terminate();
          finish({ ok: false, message: 'ran out of time (stopped at the time limit)' });
        }, job.timeoutMs + GRACE_MS);
        t.worker.postMessage(job);
      },
      (err: unknown) => {
        if (thread === t) thread = undefined;
        resolve({ ok: false, message: `the sandbox did not start: ${(err as Error).message}` });
      },
    );
  });
}

function evaluate(code: string, input: string | null, limits: SandboxLimits): Promise<RunResult> {
  const run = queue.then(() => runOnThread({ code, input, ...limits }));
  queue = run;
  return run;
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
