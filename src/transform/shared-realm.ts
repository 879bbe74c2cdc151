/**
 * The sandbox thread's shared context (docs/routing.md, "Limits"): one
 * QuickJS context whose built-ins are frozen, in which a script runs as
 * strict-mode code inside a factory function evaluated once per script, so
 * each run gets fresh top-level bindings without a new context (creating one
 * costs several times a small run: 0.35 CPU-ms with its runtime, against
 * 0.04 for the bench's script here). Frozen, nothing a run can reach outlives
 * it: a write to a built-in, to the global object or to an inherited built-in
 * property throws, and the caller runs the script again in a fresh context.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten';

/** Compiled factories kept, by total script length (they count against each run's memory limit). */
const MAX_CACHED_CODE = 256 * 1024;

/**
 * Scripts that say `this` or `arguments` run in a fresh context only: strict mode changes
 * what those mean without an error to fall back on. So do scripts that say `globalThis`,
 * the only other way to the global object: there, top-level declarations are its
 * properties; here they are the factory's variables. (A match inside a string or a comment
 * is only a missed shortcut.)
 */
const FRESH_ONLY = /\b(?:this|arguments|globalThis)\b/;

// Evaluated once per context. Code from strings (eval, Function and its generator and async
// kin) would run sloppy, where a write to a frozen object fails silently, and could declare
// global bindings: here it throws instead. Everything reachable without running a script's
// code (the global object, what its properties hold, their prototypes, the intrinsics only
// syntax reaches) is frozen. Returns the runner: it calls a script's factory and handler.
const LOCKDOWN = `(() => {
  'use strict';
  const { freeze, getPrototypeOf, getOwnPropertyDescriptors, defineProperty } = Object;
  const { parse, stringify } = JSON;
  const noCode = {
    Function() {
      throw new EvalError('code from strings does not run in the shared context');
    },
  }.Function;
  const kin = [function* () {}, async function () {}, async function* () {}];
  noCode.prototype = Function.prototype;
  for (const p of [Function.prototype, ...kin.map(getPrototypeOf)])
    defineProperty(p, 'constructor', { value: noCode });
  defineProperty(globalThis, 'Function', { value: noCode });
  defineProperty(globalThis, 'eval', { value: noCode });
  // Objects whose prototypes only syntax or a built-in's result reaches (QuickJS has the
  // iterator helpers of ES2025 and Iterator.concat). A QuickJS upgrade that adds such a
  // prototype must add it here and to hiddenKinds in test/core/transform-sandbox.test.ts.
  const values = () => [][Symbol.iterator]();
  const todo = [
    globalThis,
    ...kin,
    kin[0](),
    kin[2](),
    values(),
    new Map()[Symbol.iterator](),
    new Set()[Symbol.iterator](),
    ''[Symbol.iterator](),
    ''.matchAll(/./g),
    values().map?.((x) => x),
    globalThis.Iterator?.from?.({ next: () => ({ done: true }) }),
    globalThis.Iterator?.concat?.(),
  ];
  const seen = new Set();
  while (todo.length > 0) {
    const o = todo.pop();
    if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) continue;
    seen.add(o);
    todo.push(getPrototypeOf(o));
    for (const d of Object.values(getOwnPropertyDescriptors(o))) todo.push(d.value, d.get, d.set);
  }
  for (const o of seen) freeze(o);
  return (factory, text) => {
    const handler = factory();
    if (typeof handler !== 'function')
      throw new TypeError('the script must define function handler(webhook)');
    const out = stringify(handler(parse(text)));
    if (typeof out !== 'string') throw new TypeError('handler returned nothing JSON can hold');
    return out;
  };
})()`;

/** A run in the shared context: its JSON text, its error (to dispose), or `null`: not here. */
export type SharedRun = { json: string } | { error: QuickJSHandle } | null;

/** The shared context of one runtime and the factories compiled in it. */
export interface SharedRealm {
  context: QuickJSContext;
  /** Runs `code` on the input text; `null` when the script must run in a fresh context. */
  run(code: string, input: string): SharedRun;
  dispose(): void;
}

/** Creates the shared context in `runtime` (the walk that freezes it costs about 5 CPU-ms). */
export function sharedRealm(runtime: QuickJSRuntime): SharedRealm {
  const context = runtime.newContext();
  const locked = context.evalCode(LOCKDOWN, 'lockdown.js');
  if (locked.error) {
    locked.error.dispose();
    context.dispose();
    throw new Error('the shared context could not be set up');
  }
  const runner = locked.value;
  // null: the script does not compile as a strict function body here (it runs fresh).
  const factories = new Map<string, QuickJSHandle | null>();
  let cachedCode = 0;

  function clearFactories(): void {
    for (const f of factories.values()) f?.dispose();
    factories.clear();
    cachedCode = 0;
  }

  function factoryOf(code: string): QuickJSHandle | null {
    let f = factories.get(code);
    if (f !== undefined) return f;
    if (cachedCode + code.length > MAX_CACHED_CODE) clearFactories();
    f = null;
    // The script alone must parse as a script (compiled, not run) before it is wrapped: then
    // its brackets balance and nothing in it can close the wrapper and run at the top level.
    const alone = FRESH_ONLY.test(code)
      ? undefined
      : context.evalCode(code, 'transformation.js', { compileOnly: true });
    if (alone && !alone.error) {
      alone.value.dispose();
      const made = context.evalCode(
        `(function () {\n'use strict';\n${code}\n;return typeof handler === 'function' ? handler : undefined;\n})`,
        'transformation.js',
      );
      if (made.error) made.error.dispose();
      else f = made.value;
    } else alone?.error?.dispose();
    factories.set(code, f);
    cachedCode += code.length;
    return f;
  }

  return {
    context,
    run(code, input) {
      const factory = factoryOf(code);
      if (!factory) return null;
      const text = context.newString(input);
      const r = context.callFunction(runner, context.undefined, factory, text);
      text.dispose();
      if (r.error) return { error: r.error };
      const json = context.getString(r.value);
      r.value.dispose();
      return { json };
    },
    dispose() {
      clearFactories();
      runner.dispose();
      context.dispose();
    },
  };
}
