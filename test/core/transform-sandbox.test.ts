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
});
