import { describe, expect, it } from 'vitest';
import { isPattern, patternMatches, subscribes } from '../../src/core/matching.js';

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
});
