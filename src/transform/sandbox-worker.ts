/**
 * The sandbox's thread (see sandbox.ts): loads QuickJS once, then runs one
 * script at a time, each in a fresh runtime and context with a memory limit,
 * a stack limit and an interrupt handler at its deadline. QuickJS alone has
 * no I/O and no timers; nothing from Node is put into the context.
 */
import { parentPort } from 'node:worker_threads';
import { getQuickJS, type QuickJSContext, type QuickJSHandle } from 'quickjs-emscripten';
import type { RunResult, SandboxJob } from './sandbox.js';

// QuickJS must report a stack overflow before the thread's own stack runs out (a host
// RangeError there would leave the engine in an undefined state).
const STACK_BYTES = 128 * 1024;
const INPUT_GLOBAL = '__hookline_input';
// After the script: call its handler with the input, give back JSON text.
const CALL = `(() => {
  if (typeof handler !== 'function') throw new TypeError('the script must define function handler(webhook)');
  const out = handler(JSON.parse(globalThis.${INPUT_GLOBAL}));
  const text = JSON.stringify(out);
  if (typeof text !== 'string') throw new TypeError('handler returned nothing JSON can hold');
  return text;
})()`;

const QuickJS = await getQuickJS();

/**
 * What went wrong, said so that it reads after "the transformation": a run's error is something
 * the script threw; a compile error is only named.
 */
function errorMessage(
  ctx: QuickJSContext,
  handle: QuickJSHandle,
  timedOut: boolean,
  thrown: boolean,
): string {
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

function run(job: SandboxJob): RunResult {
  const runtime = QuickJS.newRuntime();
  let context: QuickJSContext | undefined;
  const deadline = Date.now() + job.timeoutMs;
  let timedOut = false;
  try {
    runtime.setMemoryLimit(job.memoryMb * 1024 * 1024);
    runtime.setMaxStackSize(STACK_BYTES);
    runtime.setInterruptHandler(() => (timedOut = Date.now() > deadline));
    context = runtime.newContext();
    const ctx = context;
    const script = ctx.evalCode(job.code, 'transformation.js', { compileOnly: job.input === null });
    if (script.error) {
      const message = errorMessage(ctx, script.error, timedOut, false);
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
      const message = errorMessage(ctx, call.error, timedOut, true);
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
