import { describe, expect, it } from 'vitest';
import { idTime, isId, newId } from '../../src/ids.js';

describe('newId', () => {
  it('orders ids made in one millisecond as they were made', () => {
    const now = Date.now() + 60_000;
    const ids = Array.from({ length: 2_000 }, (_, i) => newId(i % 2 ? 'evt' : 'dlv', now));
    const rands = ids.map((id) => id.slice(id.indexOf('_') + 11));
    for (let i = 1; i < rands.length; i++) expect(rands[i] > rands[i - 1]).toBe(true);
    for (const id of ids) expect(id.startsWith(`evt_${idTime(now)}`) || isId('dlv', id)).toBe(true);
  });

  it('keeps the order of the newest millisecond across an id made for an earlier time', () => {
    for (let i = 0; i < 50; i++) {
      const now = Date.now() + 120_000 + i;
      const first = newId('evt', now);
      const past = newId('att', now - 5_000);
      const second = newId('evt', now);
      expect(second > first).toBe(true);
      expect(past.slice(4, 14)).toBe(idTime(now - 5_000));
      expect(isId('att', past)).toBe(true);
    }
  });

  it('orders ids by their millisecond first', () => {
    const now = Date.now() + 180_000;
    const later = newId('evt', now + 1);
    const earlier = newId('evt', now);
    expect(earlier < later).toBe(true);
  });

  it('draws different digits for each millisecond', () => {
    const now = Date.now() + 240_000;
    const a = newId('evt', now).slice(14);
    const b = newId('evt', now + 1).slice(14);
    const c = newId('evt', now + 2).slice(14);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(isId('evt', `evt_${idTime(now)}${a}`)).toBe(true);
  });
});
