import { useEffect, useState } from 'react';
import { Button, Empty } from './components';
import { navigate, useLocation } from './router';
import { shownZone, toLocalInput, withOffset } from './prefs';

// The filter bar the list pages share (deliveries, events, audit log): labelled selects and text
// boxes whose empty value means "any", a time range, and the filters kept in the page's URL so a
// filtered view can be shared or reloaded.

const ranges: Record<string, number> = {
  '1h': 3600e3,
  '24h': 86400e3,
  '7d': 7 * 86400e3,
  '30d': 30 * 86400e3,
};

export const rangeOptions: [string, string][] = [
  ['1h', 'Last hour'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['custom', 'Custom range…'],
];

/**
 * A time filter: `range` is 1h, 24h, 7d, 30d, or custom (then `since`/`until`: ISO 8601 with the
 * offset of the zone they were chosen in, so a shared link means the same instants everywhere).
 */
export interface TimeRange {
  range: string;
  since?: string;
  until?: string;
}

function isoOf(local: string | undefined): string | undefined {
  if (!local) return undefined;
  // An old link's value has no offset: it is read in the chosen zone.
  const d = new Date(withOffset(local));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The API's since/until (ISO) for a time filter. */
export function rangeBounds(t: TimeRange): { since?: string; until?: string } {
  if (t.range === 'custom') return { since: isoOf(t.since), until: isoOf(t.until) };
  if (t.range && ranges[t.range])
    return { since: new Date(Date.now() - ranges[t.range]).toISOString() };
  return {};
}

/**
 * The current page's query string and a setter that patches it (empty values are removed),
 * replacing the history entry: filtering is not a navigation the Back button should step through.
 */
export function useUrlQuery(): [
  URLSearchParams,
  (patch: Record<string, string | null | undefined>) => void,
] {
  const { path, query } = useLocation();
  const set = (patch: Record<string, string | null | undefined>) => {
    const q = new URLSearchParams(query);
    for (const [k, v] of Object.entries(patch)) {
      if (v) q.set(k, v);
      else q.delete(k);
    }
    const s = q.toString();
    navigate(`${path}${s ? `?${s}` : ''}`, { replace: true });
  };
  return [query, set];
}

/** The URL patch of a time filter: since/until are kept only for a custom range. */
export function rangeQuery(t: TimeRange): Record<string, string | null> {
  const custom = t.range === 'custom';
  return {
    range: t.range || null,
    since: custom ? (t.since ?? null) : null,
    until: custom ? (t.until ?? null) : null,
  };
}

/** A time filter read from the URL (see rangeQuery). */
export function rangeFromQuery(q: URLSearchParams): TimeRange {
  return {
    range: q.get('range') ?? '',
    since: q.get('since') ?? undefined,
    until: q.get('until') ?? undefined,
  };
}

/** One filter of the bar: a labelled select whose empty value means any. Options are [value, text]. */
export function FilterSelect({
  label,
  any,
  value,
  options,
  onChange,
}: {
  label: string;
  any: string;
  value: string;
  options: [string, string][];
  onChange: (value: string) => void;
}) {
  return (
    <label>
      <span>{label}</span>
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{any}</option>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * A free-text filter: applied on Enter or when the box loses focus, not on every keystroke (each
 * change reloads the list). `suggestions` become a datalist.
 */
export function FilterText({
  label,
  value,
  placeholder,
  suggestions,
  onChange,
}: {
  label: string;
  value: string;
  placeholder?: string;
  suggestions?: string[];
  onChange: (value: string) => void;
}) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  const listId = suggestions
    ? `filter-${label.toLowerCase().replace(/\W+/g, '-')}-options`
    : undefined;
  const commit = () => text.trim() !== value && onChange(text.trim());
  return (
    <label>
      <span>{label}</span>
      <input
        type="search"
        value={text}
        placeholder={placeholder}
        list={listId}
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === 'Enter' && commit()}
      />
      {suggestions && (
        <datalist id={listId}>
          {suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      )}
    </label>
  );
}

/** The time filter: a range select, and From/To boxes for a custom range. */
export function TimeFilter({
  value,
  onChange,
}: {
  value: TimeRange;
  onChange: (t: TimeRange) => void;
}) {
  return (
    <>
      <FilterSelect
        label="Time"
        any="Any time"
        value={value.range}
        options={rangeOptions}
        onChange={(range) => onChange({ ...value, range })}
      />
      {value.range === 'custom' && (
        <>
          <label>
            <span>From ({shownZone()})</span>
            <input
              type="datetime-local"
              value={toLocalInput(value.since)}
              onChange={(e) => onChange({ ...value, since: withOffset(e.target.value) })}
            />
          </label>
          <label>
            <span>To ({shownZone()})</span>
            <input
              type="datetime-local"
              value={toLocalInput(value.until)}
              onChange={(e) => onChange({ ...value, until: withOffset(e.target.value) })}
            />
          </label>
        </>
      )}
    </>
  );
}

/** The filter bar's "Clear filters", shown only while a filter is set. */
export function ClearFilters({ filtered, onClear }: { filtered: boolean; onClear: () => void }) {
  if (!filtered) return null;
  return (
    <Button variant="ghost" size="sm" onClick={onClear}>
      Clear filters
    </Button>
  );
}

/** A filtered list that came back empty: say so, and offer to clear the filters. */
export function NoMatches({ what, onClear }: { what: string; onClear: () => void }) {
  return (
    <Empty
      title={`No ${what} match these filters`}
      action={<Button onClick={onClear}>Clear filters</Button>}
    >
      Widen the time range or clear a filter.
    </Empty>
  );
}
