/**
 * The sandbox's thread (see sandbox.ts): loads QuickJS once, then runs one
 * script at a time, first in the shared context of shared-realm.ts (its own
 * runtime, kept between runs, where nothing a run does survives it). A script
 * that throws there runs again in a fresh runtime and context, made for the
 * run and discarded after it. A shared run that ran out of memory or time,
 * hit an engine error or left promise jobs queued drops the shared runtime,
 * so it leaves nothing behind for the next run. Every runtime has the run's
 * memory limit, a stack limit and an interrupt handler at its deadline.
 * QuickJS alone has no I/O and no timers; nothing from Node is put into a
 * context.
 */
import { parentPort } from 'node:worker_threads';
import {
  getQuickJS,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
} from 'quickjs-emscripten';
import type { RunResult, SandboxJob } from './sandbox.js';
import { sharedRealm, type SharedRealm } from './shared-realm.js';

// QuickJS must report a stack overflow before the thread's own stack runs out (a host
// RangeError there would leave the engine in an undefined state).
const STACK_BYTES = 128 * 1024;
const INPUT_GLOBAL = '__hookline_input';
// In a fresh context, after the script: call its handler with the input, give back JSON text.
const CALL = `(() => {
  if (typeof handler !== 'function') throw new TypeError('the script must define function handler(webhook)');
  const out = handler(JSON.parse(globalThis.${INPUT_GLOBAL}));
  const text = JSON.stringify(out);
  if (typeof text !== 'string') throw new TypeError('handler returned nothing JSON can hold');
  return text;
})()`;
/** Scripts remembered as needing a fresh context (how many, at most). */
const MAX_FRESH_ONLY = 1000;

const QuickJS = await getQuickJS();

/** The shared context and its runtime: set up once (a few ms), kept while runs leave it clean. */
let shared: { runtime: QuickJSRuntime; realm: SharedRealm } | undefined;
/** The current run's deadline, read by every runtime's interrupt handler. */
let deadline = 0;
let timedOut = false;
/** Scripts that failed in the shared context but not in a fresh one, or left jobs queued there. */
const freshOnly = new Set<string>();

function newRuntime(job: SandboxJob): QuickJSRuntime {
  const runtime = QuickJS.newRuntime();
  runtime.setMaxStackSize(STACK_BYTES);
  runtime.setInterruptHandler(() => (timedOut = Date.now() > deadline));
  runtime.setMemoryLimit(job.memoryMb * 1024 * 1024);
  return runtime;
}

function dropShared(): void {
  shared?.realm.dispose();
  shared?.runtime.dispose();
  shared = undefined;
}

function rememberFreshOnly(code: string): void {
  if (freshOnly.size >= MAX_FRESH_ONLY) freshOnly.clear();
  freshOnly.add(code);
}

/**
 * What went wrong, said so that it reads after "the transformation": a run's error is something
 * the script threw; a compile error is only named.
 */
function errorMessage(ctx: QuickJSContext, handle: QuickJSHandle, thrown: boolean): string {
  if (timedOut) return 'ran out of time (interrupted at the time limit)';
  let dumped: unknown;
  try {
    dumped = ctx.dump(handle);
  } catch {
    return 'failed (its error could not be read)';
  }
  if (dumped && typeof dumped === 'object') {
    const { name, message } = dumped as { name?: unknown; message?: unknown };
    const text = `${typeof name === 'string' ? name : 'Error'}: ${String(message ?? '')}`;
    if (/out of memory/i.test(text)) return 'ran out of memory (InternalError: out of memory)';
    return `${thrown ? 'threw ' : ''}${text.slice(0, 500)}`;
  }
  if (dumped === null) return 'ran out of memory, or threw null';
  return `threw ${JSON.stringify(dumped)?.slice(0, 200) ?? String(dumped)}`;
}

/** The run in a fresh runtime and context (and a syntax check, when `input` is null). */
function runFresh(job: SandboxJob): RunResult {
  const runtime = newRuntime(job);
  let context: QuickJSContext | undefined;
  try {
    const ctx = (context = runtime.newContext());
    const script = ctx.evalCode(job.code, 'transformation.js', { compileOnly: job.input === null });
    if (script.error) {
      const message = errorMessage(ctx, script.error, false);
      script.error.dispose();
      return { ok: false, message };
    }
    script.value.dispose();
    if (job.input === null) return { ok: true, json: 'null' };
    const text = ctx.newString(job.input);
    ctx.setProp(ctx.global, INPUT_GLOBAL, text);
    text.dispose();
    const call = ctx.evalCode(CALL, 'call.js');
    if (call.error) {
      const message = errorMessage(ctx, call.error, true);
      call.error.dispose();
      return { ok: false, message };
    }
    const json = ctx.getString(call.value);
    call.value.dispose();
    return { ok: true, json };
  } finally {
    context?.dispose();
    runtime.dispose();
  }
}

/** The shared context with this job's memory limit, set up before the run's deadline starts. */
function theSharedRealm(job: SandboxJob): SharedRealm | undefined {
  if (!shared) {
    deadline = Infinity;
    const runtime = newRuntime(job);
    try {
      shared = { runtime, realm: sharedRealm(runtime) };
    } catch {
      // It did not fit in this run's memory limit: the run goes to a fresh context.
      runtime.dispose();
      return undefined;
    }
  }
  shared.runtime.setMemoryLimit(job.memoryMb * 1024 * 1024);
  return shared.realm;
}

/** The run in the shared context; null when the script is to run in a fresh one instead. */
function runShared(realm: SharedRealm, code: string, input: string): RunResult | null {
  const r = realm.run(code, input);
  if (!r) return null;
  if ('json' in r) return { ok: true, json: r.json };
  const message = errorMessage(realm.context, r.error, true);
  r.error.dispose();
  return { ok: false, message };
}

function run(job: SandboxJob): RunResult {
  const { code, input } = job;
  const realm = input !== null && !freshOnly.has(code) ? theSharedRealm(job) : undefined;
  // One deadline for the job: a rerun in a fresh context gets what is left of it.
  deadline = Date.now() + job.timeoutMs;
  timedOut = false;
  let failedShared = false;
  if (realm && input !== null) {
    const r = runShared(realm, code, input);
    // A promise's reactions never run and would hold the context: start over, and run this
    // script fresh from now on (where its runtime goes with the run).
    if (shared?.runtime.hasPendingJob()) {
      dropShared();
      rememberFreshOnly(code);
    }
    if (r?.ok) return r;
    if (r) {
      // Out of time or memory says nothing about strict mode or frozen built-ins; an engine
      // error (InternalError: stack overflow …) may have left the runtime half-way.
      const resources = r.message.startsWith('ran out of');
      if (resources || r.message.includes('InternalError')) dropShared();
      if (resources) return r;
      failedShared = true;
    }
  }
  const result = runFresh(job);
  // It failed shared but not fresh: it needs sloppy mode or writes to built-ins.
  if (failedShared && result.ok) rememberFreshOnly(code);
  return result;
}

parentPort!.on('message', (job: SandboxJob) => {
  let result: RunResult;
  try {
    result = run(job);
  } catch (err) {
    // The engine itself failed: this thread is not trusted with another run.
    parentPort!.postMessage({
      ok: false,
      message: `the sandbox stopped it: ${(err as Error)?.message ?? String(err)}`,
    } satisfies RunResult);
    process.exit(1);
  }
  parentPort!.postMessage(result);
});
parentPort!.postMessage('ready');
