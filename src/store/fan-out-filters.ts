/**
 * The filter step of fan-out (docs/routing.md, "Filters"): of the webhooks
 * subscribed to an event, which of those with a filter it passes. Filters are
 * judged in JavaScript, by the one evaluator in src/core/filter.ts, so the
 * API's filter tester and fan-out can never disagree.
 */
import { matchesFilter, type Filter } from '../core/filter.js';

/** A subscribed webhook and its filter (null: none). */
export interface Filtered {
  id: string;
  filter: Filter | null;
}

/**
 * The ids of the webhooks with a filter that the event passes. `data` is
 * called at most once, and only when some webhook has a filter.
 */
export function passingFilters(
  hooks: readonly Filtered[],
  eventType: string,
  data: () => unknown,
): Set<string> {
  const passing = new Set<string>();
  let event: { type: string; data: unknown } | undefined;
  for (const h of hooks) {
    if (!h.filter) continue;
    event ??= { type: eventType, data: data() };
    if (matchesFilter(h.filter, event)) passing.add(h.id);
  }
  return passing;
}
