import { describe, expect, it } from 'vitest';
import {
  dataPathProblem,
  filterErrors,
  matchesFilter,
  type Filter,
} from '../../src/core/filter.js';

const event = {
  type: 'payroll.processed',
  data: {
    amount: 1500,
    currency: 'EUR',
    employee: { id: 'emp_42', tags: ['fulltime', 'paris'] },
    lines: [
      { code: 'BASE', value: 1200 },
      { code: 'BONUS', value: 300 },
    ],
    note: null,
  },
};
const matches = (f: Filter) => {
  expect(filterErrors(f)).toEqual([]);
  return matchesFilter(f, event);
};

describe('filter evaluation', () => {
  it('treats a plain value as $eq and every key as AND', () => {
    expect(matches({ 'data.currency': 'EUR', type: 'payroll.processed' })).toBe(true);
    expect(matches({ 'data.currency': 'EUR', type: 'payroll.failed' })).toBe(false);
    expect(matches({ 'data.employee': { id: 'emp_42', tags: ['fulltime', 'paris'] } })).toBe(true);
    expect(matches({ 'data.note': null })).toBe(true);
  });

  it('compares numbers and strings, never across kinds', () => {
    expect(matches({ 'data.amount': { $gte: 1000, $lt: 2000 } })).toBe(true);
    expect(matches({ 'data.amount': { $gt: 1500 } })).toBe(false);
    expect(matches({ 'data.amount': { $lte: 1500 } })).toBe(true);
    expect(matches({ 'data.amount': { $gt: '1' } })).toBe(false);
    expect(matches({ 'data.currency': { $gt: 'DKK' } })).toBe(true);
  });

  it('follows array indexes and handles missing paths', () => {
    expect(matches({ 'data.lines.1.code': 'BONUS' })).toBe(true);
    expect(matches({ 'data.employee.tags.0': { $startsWith: 'full' } })).toBe(true);
    expect(matches({ 'data.lines.5.code': { $exists: false } })).toBe(true);
    expect(matches({ 'data.missing': { $exists: true } })).toBe(false);
    expect(matches({ 'data.missing': { $neq: 1 } })).toBe(true);
    expect(matches({ 'data.missing': { $nin: [1] } })).toBe(true);
    expect(matches({ 'data.missing': { $in: [null] } })).toBe(false);
    expect(matches({ 'data.amount.toString': { $exists: true } })).toBe(false);
  });

  it('combines with $and, $or and $not', () => {
    expect(
      matches({ 'data.amount': { $gte: 1000 }, 'data.currency': { $in: ['EUR', 'USD'] } }),
    ).toBe(true);
    expect(matches({ $or: [{ 'data.currency': 'USD' }, { 'data.amount': { $gt: 1000 } }] })).toBe(
      true,
    );
    expect(matches({ $and: [{ 'data.currency': 'EUR' }, { 'data.amount': 1 }] })).toBe(false);
    expect(matches({ $not: { 'data.currency': 'EUR' } })).toBe(false);
    expect(matches({ 'data.currency': { $not: { $in: ['USD'] } } })).toBe(true);
    expect(matches({ 'data.currency': { $nin: ['USD', 'GBP'] } })).toBe(true);
    expect(matches({})).toBe(true);
  });
});

describe('filter validation', () => {
  it('names the path and the bad operator', () => {
    expect(filterErrors({ 'data.amount': { $gtx: 1 } })).toEqual([
      { field: 'filter.data.amount.$gtx', message: 'unknown operator $gtx' },
    ]);
    const nested = filterErrors({ $or: [{ type: 'a.b' }, { 'data.x': { $in: 3 } }] });
    expect(nested).toEqual([{ field: 'filter.$or.1.data.x.$in', message: '$in takes an array' }]);
    expect(filterErrors({ $xor: [] })[0].field).toBe('filter.$xor');
    expect(filterErrors({ amount: 1 })[0].message).toMatch(/must be "type", "data"/);
    expect(filterErrors({ 'data..x': 1 })[0].field).toBe('filter.data..x');
    expect(filterErrors({ 'data.x': { $gt: true } })[0].message).toMatch(/number or a string/);
    expect(filterErrors({ 'data.x': { $exists: 1 } })[0].message).toMatch(/true or false/);
    expect(filterErrors({ 'data.x': { $eq: 1, y: 2 } })[0].message).toMatch(/mixes/);
    expect(filterErrors({ $and: [] })[0].message).toMatch(/non-empty/);
    expect(filterErrors([])[0].field).toBe('filter');
  });

  it('refuses filters over 4 KiB or 10 levels deep', () => {
    const big = { 'data.x': { $in: Array.from({ length: 1000 }, (_, i) => `value-${i}`) } };
    expect(filterErrors(big)[0].message).toMatch(/limit is 4096/);
    let deep: Filter = { type: 'a.b' };
    for (let i = 0; i < 10; i++) deep = { $not: deep };
    expect(filterErrors(deep)[0].message).toMatch(/levels deep; the limit is 10/);
  });

  it('checks data paths', () => {
    expect(dataPathProblem('employee.tags.0')).toBeNull();
    expect(dataPathProblem('')).toMatch(/empty/);
    expect(dataPathProblem('a b')).toMatch(/dot-separated/);
    expect(dataPathProblem('x'.repeat(201))).toMatch(/200/);
  });
});
