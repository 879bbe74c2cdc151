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

/**
 * The subscribed webhooks with a filter of one (organization, tenant, event
 * type), as one publish statement saw them: `version` names the set and each
 * member's last update, so a later statement can tell whether it still holds.
 */
export interface FilteredSet {
  version: string;
  hooks: Filtered[];
}

/** A verdict in its shorter form: the ids that pass, or (`failing`) the ids that do not. */
export interface Verdict {
  ids: string[];
  failing: boolean;
}

/** Judges an event against a filtered set; see `Verdict`. */
export function judge(set: FilteredSet, eventType: string, data: () => unknown): Verdict {
  const passing = passingFilters(set.hooks, eventType, data);
  if (passing.size * 2 <= set.hooks.length) return { ids: [...passing], failing: false };
  return { ids: set.hooks.filter((h) => !passing.has(h.id)).map((h) => h.id), failing: true };
}

/**
 * Filtered sets by (organization, tenant, event type), in this process. An
 * entry is only a guess: the publish statement checks its version and writes
 * nothing when the set has changed (publishSimple in src/store/events.ts), so
 * a stale entry, or one from another database, costs a round trip and never a
 * wrong delivery. Bounded by the webhooks held, oldest entry out first.
 */
const MAX_CACHED_HOOKS = 100_000;
const cache = new Map<string, FilteredSet>();
let cachedHooks = 0;

function cacheKey(orgId: string, tenantKey: string, eventType: string): string {
  return `${orgId}\n${tenantKey}\n${eventType}`;
}

export function cachedFilteredSet(
  orgId: string,
  tenantKey: string,
  eventType: string,
): FilteredSet | undefined {
  return cache.get(cacheKey(orgId, tenantKey, eventType));
}

export function rememberFilteredSet(
  orgId: string,
  tenantKey: string,
  eventType: string,
  set: FilteredSet,
): void {
  const key = cacheKey(orgId, tenantKey, eventType);
  const old = cache.get(key);
  if (old) {
    cache.delete(key);
    cachedHooks -= old.hooks.length;
  }
  // No filtered webhook: nothing to remember, the statement expects none when told nothing.
  if (set.hooks.length === 0 || set.hooks.length > MAX_CACHED_HOOKS) return;
  cache.set(key, set);
  cachedHooks += set.hooks.length;
  for (const [k, s] of cache) {
    if (cachedHooks <= MAX_CACHED_HOOKS) break;
    cache.delete(k);
    cachedHooks -= s.hooks.length;
  }
}
