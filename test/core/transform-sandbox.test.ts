import { describe, expect, it } from 'vitest';
import { runTransformation, syntaxProblem } from '../../src/transform/sandbox.js';

// Generous where a test is not about the time limit: a loaded machine must not fail them.
const limits = { memoryMb: 16, timeoutMs: 2000 };
const tight = { memoryMb: 16, timeoutMs: 100 };
const input = {
  eventType: 'a.b',
  payload: { data: { n: 1 } },
  url: 'https://x.test/',
  headers: {},
};

describe('the transformation sandbox', () => {
  it('runs handler on the input and returns its JSON', async () => {
    const r = await runTransformation(
      'function handler(w) { w.payload.data.n += 1; w.headers["x-type"] = w.eventType; return w; }',
      input,
      limits,
    );
    expect(r.ok && JSON.parse(r.json)).toEqual({
      ...input,
      payload: { data: { n: 2 } },
      headers: { 'x-type': 'a.b' },
    });
  });

  it('reports a throw, a loop, memory exhaustion and deep recursion as messages', async () => {
    const fail = async (code: string) => {
      const r = await runTransformation(code, input, tight);
      expect(r.ok).toBe(false);
      return r.ok ? '' : r.message;
    };
    expect(await fail('function handler() { throw new Error("nope") }')).toBe('threw Error: nope');
    expect(await fail('function handler() { while (true) {} }')).toMatch(/out of time/);
    expect(
      await fail(
        'function handler() { const a = []; while (true) a.push({ n: a.length, l: [1] }) }',
      ),
    ).toMatch(/memory|time/);
    // A native call that does not return to the interrupt handler: its thread is stopped.
    expect(
      await fail('function handler() { const a = []; while (true) a.push("x".repeat(1e5)) }'),
    ).toMatch(/memory|time/);
    // The next run still works, on a fresh thread.
    const after = await runTransformation('function handler(w) { return w }', input, limits);
    expect(after.ok).toBe(true);
    expect(await fail('function handler() { return handler() }')).toMatch(/stack overflow/);
    expect(await fail('function handler() {}')).toMatch(/returned nothing/);
    expect(await fail('const x = 1;')).toMatch(/must define function handler/);
  });

  it('gives each of many runs in flight at once its own answer, a failing one among them', async () => {
    const ok = (n: number) =>
      runTransformation(`function handler(w) { w.payload.data.n = ${n}; return w }`, input, limits);
    const runs = Array.from({ length: 40 }, (_, n) =>
      n === 20
        ? runTransformation(
            'function handler() { const a = []; while (true) a.push("x".repeat(1e5)) }',
            input,
            tight,
          )
        : ok(n),
    );
    const results = await Promise.all(runs);
    results.forEach((r, n) => {
      if (n === 20) expect(r.ok, 'the runaway run').toBe(false);
      else expect(r.ok && JSON.parse(r.json).payload.data.n, `run ${n}`).toBe(n);
    });
  });

  it('has no I/O and no timers in the context', async () => {
    const r = await runTransformation(
      'function handler() { return [typeof setTimeout, typeof fetch, typeof require, typeof process] }',
      input,
      limits,
    );
    expect(r.ok && JSON.parse(r.json)).toEqual([
      'undefined',
      'undefined',
      'undefined',
      'undefined',
    ]);
  });

  it('checks syntax without running the script', async () => {
    expect(await syntaxProblem('function handler(w) { return w }', limits)).toBeNull();
    expect(await syntaxProblem('while (true) {}', limits)).toBeNull();
    expect(await syntaxProblem('function handler(w) { return w', limits)).toMatch(/SyntaxError/);
  });

  it('keeps nothing between runs', async () => {
    const code =
      'var seen = (globalThis.seen || 0) + 1; globalThis.seen = seen; function handler() { return seen }';
    for (let i = 0; i < 2; i++) {
      const r = await runTransformation(code, input, limits);
      expect(r.ok && JSON.parse(r.json)).toBe(1);
    }
  });

  it('gives each run fresh top-level bindings and closures', async () => {
    const code = `let n = 0; var m = 0; const next = () => ++n;
      function handler() { m += 1; return [next(), m] }`;
    for (let i = 0; i < 3; i++) {
      const r = await runTransformation(code, input, limits);
      expect(r.ok && JSON.parse(r.json)).toEqual([1, 1]);
    }
  });

  // Objects whose prototypes no global names: iterators, iterator helpers, generators.
  const hiddenKinds = [
    '[].values()',
    'new Map().keys()',
    'new Set().values()',
    '"a"[Symbol.iterator]()',
    '"a".matchAll(/a/g)',
    '[].values().map((x) => x)',
    'Iterator.from({ next: () => ({ done: true }) })',
    'Iterator.concat()',
    '(function* () {})',
    '(async function () {})',
    '(async function* () {})',
  ];
  // Each writes where a later run of another script could read it, then returns normally.
  const polluters: Record<string, string> = {
    'a global': 'function handler(w) { globalThis.leak = "secret"; return w }',
    'an implicit global': 'function handler(w) { leak = "secret"; return w }',
    'a prototype': 'function handler(w) { Object.prototype.leak = "secret"; return w }',
    'a built-in method':
      'function handler(w) { const p = JSON.parse; JSON.parse = (t) => ({ ...p(t), leak: "secret" }); return w }',
    'an accessor on a prototype':
      'function handler(w) { Object.defineProperty(Array.prototype, "leak", { get: () => "secret" }); return w }',
    'the prototype of the global object':
      'function handler(w) { Object.setPrototypeOf(globalThis, { leak: "secret" }); return w }',
    'code from a string':
      'function handler(w) { Function("globalThis.leak = \'secret\'")(); return w }',
    'an eval':
      'function handler(w) { eval("var leak = \'secret\'"); (0, eval)("leak = \'secret\'"); return w }',
    'a constructor reached by syntax':
      'function handler(w) { (() => {}).constructor("globalThis.leak = \'secret\'")(); return w }',
    'a promise reaction left queued':
      'function handler(w) { Promise.resolve().then(() => { globalThis.leak = "secret" }); return w }',
    // One by one: a write that fails must not stop the others.
    'the prototypes only built-ins reach': `function handler(w) {
      for (const o of [${hiddenKinds.join(', ')}])
        try { Object.getPrototypeOf(o).leak = "secret" } catch {}
      return w;
    }`,
    'a script that breaks out of a wrapper':
      '}); let leak = "secret"; (function () { function handler(w) { return w }',
  };
  // Runs in the shared context (it names neither this, arguments nor globalThis); typeof
  // leak also finds a leak on the global object's prototype.
  const probe = `function handler(w) {
    const hidden = [${hiddenKinds.join(', ')}].some((o) => o.leak !== undefined);
    return [typeof leak, ({}).leak, [].leak, JSON.parse("{}").leak, hidden];
  }`;

  it.each(Object.entries(polluters))('lets no run read what one left in %s', async (_, code) => {
    await runTransformation(code, input, limits);
    const r = await runTransformation(probe, input, limits);
    expect(r.ok && JSON.parse(r.json)).toEqual(['undefined', null, null, null, false]);
  });

  it('runs scripts that write to built-ins or need sloppy mode as before', async () => {
    const cases: [string, unknown][] = [
      ['function handler() { Object.prototype.tag = "t"; return ({}).tag }', 't'],
      ['function handler() { const e = new Error(); e.message = "set"; return e.message }', 'set'],
      ['function handler() { const o = {}; o.toString = () => "mine"; return String(o) }', 'mine'],
      ['function handler() { undeclared = 5; return undeclared }', 5],
      ['function handler() { return typeof this }', 'object'],
      ['var v = 4; function handler() { return globalThis.v }', 4],
      ['function handler(a) { arguments[0] = 7; return a }', 7],
      ['function handler() { return Function("return 1 + 1")() }', 2],
      ['function handler() { return Function("globalThis.g = 1; return g")() }', 1],
      ['function handler() { return (0, eval)("globalThis.g = 2; g") }', 2],
      ['var x = 1; eval("var x = 2"); function handler() { return x }', 2],
      ['function handler() { with ({ v: 3 }) return v }', 3],
    ];
    for (const [code, want] of cases) {
      const r = await runTransformation(code, input, limits);
      expect(r.ok && JSON.parse(r.json), code).toEqual(want);
    }
  });

  it('runs a script that leaves promise jobs queued, and one that throws, run after run', async () => {
    const queued = 'function handler() { Promise.resolve().then(() => 0); return "ran" }';
    const throws = 'function handler() { throw new RangeError("bad event") }';
    for (let i = 0; i < 3; i++) {
      const a = await runTransformation(queued, input, limits);
      expect(a.ok && JSON.parse(a.json)).toBe('ran');
      const b = await runTransformation(throws, input, limits);
      expect(b.ok ? '' : b.message).toBe('threw RangeError: bad event');
    }
  });

  it('gives each run the whole memory limit, run after run', async () => {
    // 6 MB held in a cycle (which only QuickJS's cycle collector frees) of the 16 MiB limit.
    const code =
      'function handler() { const o = { s: "x".repeat(6e6) }; o.self = o; return o.s.length }';
    for (let i = 0; i < 5; i++) {
      const r = await runTransformation(code, input, limits);
      expect(r.ok ? JSON.parse(r.json) : r.message).toBe(6e6);
    }
  });

  it('starts clean after a run that ran out of time or memory', async () => {
    const leak = 'var n = 0; function handler() { n += 1; return [n, typeof globalThis.leak] }';
    for (const code of [
      'function handler() { globalThis.leak = 1; while (true) {} }',
      'function handler() { Object.prototype.leak = 1; const a = []; while (true) a.push({ a }) }',
    ]) {
      const r = await runTransformation(code, input, tight);
      expect(r.ok).toBe(false);
      const after = await runTransformation(leak, input, limits);
      expect(after.ok && JSON.parse(after.json)).toEqual([1, 'undefined']);
    }
  });
});
