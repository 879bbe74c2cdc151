/**
 * The sandbox's thread (see sandbox.ts): loads QuickJS once and keeps one
 * runtime (memory limit and deadline set per run, a stack limit), in which it
 * runs one script at a time: first in the shared context of shared-realm.ts,
 * where nothing a run does survives it; a script that fails there runs again
 * in a fresh context of its own. Any failure drops the runtime
 * and everything in it, so a run that ran out of memory or time cannot leave
 * anything behind for the next. QuickJS alone has no I/O and no timers;
 * nothing from Node is put into a context.
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
/** Scripts remembered as needing a fresh context (they failed shared and not fresh). */
const MAX_FRESH_ONLY = 1000;

const QuickJS = await getQuickJS();

let runtime: QuickJSRuntime | undefined;
let shared: SharedRealm | undefined;
/** The current run's deadline, read by the runtime's interrupt handler. */
let deadline = 0;
let timedOut = false;
const freshOnly = new Set<string>();

/** The thread's runtime (a new one after a failure), with this job's memory limit. */
function theRuntime(job: SandboxJob): QuickJSRuntime {
  if (!runtime) {
    runtime = QuickJS.newRuntime();
    runtime.setMaxStackSize(STACK_BYTES);
    runtime.setInterruptHandler(() => (timedOut = Date.now() > deadline));
  }
  runtime.setMemoryLimit(job.memoryMb * 1024 * 1024);
  return runtime;
}

function dropRuntime(): void {
  shared?.dispose();
  shared = undefined;
  runtime?.dispose();
  runtime = undefined;
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

/** The run in a fresh context of the runtime (and a syntax check, when `input` is null). */
function runFresh(rt: QuickJSRuntime, job: SandboxJob): RunResult {
  const ctx = rt.newContext();
  try {
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
    ctx.dispose();
  }
}

/** The shared context, set up (once per runtime) before the run's deadline starts. */
function theSharedRealm(job: SandboxJob): SharedRealm | undefined {
  const rt = theRuntime(job);
  if (shared) return shared;
  deadline = Infinity;
  try {
    return (shared = sharedRealm(rt));
  } catch {
    // It did not fit in this run's memory limit: the run goes to a fresh context.
    dropRuntime();
    return undefined;
  }
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
  let sharedFailure: RunResult | undefined;
  if (realm && input !== null) {
    const r = runShared(realm, code, input);
    if (r?.ok) return finish(r);
    if (r) {
      dropRuntime();
      // Out of time or memory says nothing about strict mode or frozen built-ins.
      if (r.message.startsWith('ran out of')) return r;
      sharedFailure = r;
    }
  }
  const result = runFresh(theRuntime(job), job);
  // It failed shared but not fresh: it needs sloppy mode or writes to built-ins.
  if (sharedFailure && result.ok) {
    if (freshOnly.size >= MAX_FRESH_ONLY) freshOnly.clear();
    freshOnly.add(code);
  }
  return finish(result);
}

/**
 * After a run: a failure, or jobs a run left queued (a promise's reactions, which never run and
 * would hold its context), drop the runtime.
 */
function finish(result: RunResult): RunResult {
  if (!result.ok || runtime?.hasPendingJob()) dropRuntime();
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
