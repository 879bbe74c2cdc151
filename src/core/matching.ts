/**
 * Which webhooks an event goes to. A webhook's `events` list holds exact type
 * names, `category.*` patterns and `*`. Pure code: the publish path fetches the
 * organization's active webhooks once and filters them with these functions.
 */

/** Hookline's own operational events (hookline.webhook.disabled, …). */
export const OPERATIONAL_PREFIX = 'hookline.';

/**
 * True when one subscription entry matches an event type.
 * - `*` matches every application event, but not Hookline's own `hookline.*`
 *   events: those go only to webhooks that name them (or `hookline.*`), so a
 *   catch-all receiver that is failing is never sent news of its own failure,
 *   which would otherwise feed itself.
 * - `x.*` matches every type whose name starts with `x.`, and every type whose
 *   catalog category is `x` (a category can be set to differ from the prefix).
 * - anything else is an exact name.
 */
export function patternMatches(pattern: string, eventType: string, category?: string): boolean {
  if (pattern === '*') return !eventType.startsWith(OPERATIONAL_PREFIX);
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -2);
    return eventType.startsWith(prefix + '.') || (category !== undefined && category === prefix);
  }
  return pattern === eventType;
}

/** True when any entry of a webhook's `events` list matches the event type. */
export function subscribes(
  events: readonly string[],
  eventType: string,
  category?: string,
): boolean {
  for (const p of events) if (patternMatches(p, eventType, category)) return true;
  return false;
}

/** True for the shapes a subscription entry may take: `*`, `category.*`, or an exact name. */
export function isPattern(entry: string): boolean {
  return entry === '*' || entry.endsWith('.*');
}

/**
 * Every subscription entry that matches `eventType` (with `category`, when
 * given): `patternMatches(p, eventType, category)` holds exactly for the
 * entries listed. Lets the database select the subscribed webhooks itself
 * (`webhooks.events && entries`) instead of filtering every active webhook here.
 */
export function matchingEntries(eventType: string, category?: string): string[] {
  const entries = [eventType];
  if (!eventType.startsWith(OPERATIONAL_PREFIX)) entries.push('*');
  // `x.*` matches when the name starts with `x.`: one entry per dot in the name.
  for (let i = eventType.indexOf('.'); i >= 0; i = eventType.indexOf('.', i + 1))
    entries.push(eventType.slice(0, i) + '.*');
  if (category !== undefined) entries.push(category + '.*');
  return [...new Set(entries)];
}
