import { describe, expect, it } from 'vitest';
import { isPattern, matchingEntries, patternMatches, subscribes } from '../../src/core/matching.js';

describe('matching', () => {
  it('matches exact names only exactly', () => {
    expect(patternMatches('ticket.created', 'ticket.created')).toBe(true);
    expect(patternMatches('ticket.created', 'ticket.created_v2')).toBe(false);
    expect(patternMatches('ticket.created', 'ticket.updated')).toBe(false);
  });

  it('matches category.* on the name prefix and on the catalog category', () => {
    expect(patternMatches('ticket.*', 'ticket.created')).toBe(true);
    expect(patternMatches('ticket.*', 'ticket.status.changed')).toBe(true);
    // "tickets.created" shares the characters but not the category.
    expect(patternMatches('ticket.*', 'tickets.created')).toBe(false);
    expect(patternMatches('support.*', 'ticket.created', 'support')).toBe(true);
    expect(patternMatches('support.*', 'ticket.created', 'ticket')).toBe(false);
  });

  it('matches * to every application event but not to hookline.* operational events', () => {
    expect(patternMatches('*', 'ticket.created')).toBe(true);
    expect(patternMatches('*', 'hookline.delivery.exhausted')).toBe(false);
    expect(patternMatches('hookline.*', 'hookline.delivery.exhausted')).toBe(true);
    expect(patternMatches('hookline.webhook.disabled', 'hookline.webhook.disabled')).toBe(true);
  });

  it('subscribes when any entry matches', () => {
    expect(subscribes(['a.b', 'ticket.*'], 'ticket.closed')).toBe(true);
    expect(subscribes(['a.b', 'ticket.*'], 'contact.created')).toBe(false);
    expect(subscribes([], 'ticket.closed')).toBe(false);
    expect(isPattern('*')).toBe(true);
    expect(isPattern('a.*')).toBe(true);
    expect(isPattern('a.b')).toBe(false);
  });

  it('lists exactly the entries that match (what the one-statement publish asks the database for)', () => {
    const types = [
      'ticket.created',
      'ticket.status.changed',
      'hookline.delivery.exhausted',
      'a.b',
      'tickets.created',
    ];
    const categories = [undefined, 'ticket', 'support', 'hookline', 'a', 'a.b'];
    const entries = [
      '*',
      'ticket.*',
      'ticket.status.*',
      'ticket.status.changed.*',
      'ticket.created',
      'tickets.*',
      'support.*',
      'hookline.*',
      'hookline.delivery.*',
      'hookline.delivery.exhausted',
      'a.*',
      'a.b',
      'a.b.*',
      'b.*',
      'ticket',
      '.*',
      'x.y',
    ];
    for (const type of types)
      for (const category of categories)
        for (const entry of entries)
          expect(
            matchingEntries(type, category).includes(entry),
            `${entry} vs ${type} (${category})`,
          ).toBe(patternMatches(entry, type, category));
    expect(matchingEntries('ticket.status.changed')).toEqual([
      'ticket.status.changed',
      '*',
      'ticket.*',
      'ticket.status.*',
    ]);
  });
});
