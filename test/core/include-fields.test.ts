import { describe, expect, it } from 'vitest';
import { includeFields, includeFieldsErrors } from '../../src/core/include-fields.js';

const data = {
  employee: { id: 'emp_1', name: 'Dana', ssn: '123-45-6789', tags: ['a', 'b', 'c'] },
  amount: 1500,
  lines: [
    { code: 'BASE', value: 1200, iban: 'X' },
    { code: 'BONUS', value: 300, iban: 'Y' },
  ],
};

describe('include_fields', () => {
  it('keeps only the named paths, in the same shape', () => {
    expect(includeFields(data, ['employee.id', 'amount'])).toEqual({
      employee: { id: 'emp_1' },
      amount: 1500,
    });
    expect(includeFields(data, ['lines.1.code', 'lines.0.value'])).toEqual({
      lines: [{ value: 1200 }, { code: 'BONUS' }],
    });
    expect(includeFields(data, ['employee', 'employee.id'])).toEqual({ employee: data.employee });
    expect(includeFields(data, ['employee.tags.2'])).toEqual({ employee: { tags: ['c'] } });
  });

  it('leaves out what is missing', () => {
    expect(includeFields(data, ['nope', 'amount.x', 'lines.9'])).toEqual({ lines: [] });
    expect(includeFields('text', ['a'])).toEqual({});
    expect(includeFields(data, ['constructor'])).toEqual({});
  });

  it('validates the list', () => {
    expect(includeFieldsErrors(['a.b', 'c.0'])).toEqual([]);
    expect(includeFieldsErrors(['ok', 'bad path'])).toEqual([
      { field: 'include_fields.1', message: expect.stringMatching(/dot-separated/) },
    ]);
    expect(includeFieldsErrors(Array.from({ length: 101 }, (_, i) => `f${i}`))[0].message).toMatch(
      /at most 100/,
    );
  });
});
