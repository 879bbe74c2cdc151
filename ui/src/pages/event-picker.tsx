import { useMemo, useState } from 'react';
import type { EventType } from '../api';
import { Check } from '../components';
import { Link } from '../router';

/**
 * Events grouped by category. A category's checkbox subscribes to `category.*` (every type of
 * the category, including ones added later); "All events" subscribes to `*`.
 */
export function EventPicker({
  types,
  selected,
  onChange,
}: {
  types: EventType[];
  selected: Set<string>;
  onChange: (s: Set<string>) => void;
}) {
  const [filter, setFilter] = useState('');
  const groups = useMemo(() => {
    const m = new Map<string, EventType[]>();
    for (const t of types) {
      if (filter && !t.name.includes(filter.toLowerCase())) continue;
      m.set(t.category, [...(m.get(t.category) ?? []), t]);
    }
    // Hookline's own operational events go last.
    return [...m].sort(([a], [b]) =>
      a === 'hookline' ? 1 : b === 'hookline' ? -1 : a.localeCompare(b),
    );
  }, [types, filter]);
  const known = new Set(types.map((t) => t.name));
  const categories = new Set(types.map((t) => `${t.category}.*`));
  const others = [...selected].filter((e) => e !== '*' && !known.has(e) && !categories.has(e));
  const everything = selected.has('*');

  const toggle = (value: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(value);
    else next.delete(value);
    onChange(next);
  };
  const toggleCategory = (cat: string, on: boolean) => {
    const next = new Set(selected);
    if (on) {
      next.add(`${cat}.*`);
      for (const t of types) if (t.category === cat) next.delete(t.name);
    } else next.delete(`${cat}.*`);
    onChange(next);
  };

  return (
    <div>
      <div className="picker-top">
        <Check checked={everything} onChange={(on) => onChange(on ? new Set(['*']) : new Set())}>
          <strong>All events</strong>{' '}
          <span className="muted">(*, including types added later)</span>
        </Check>
        <input
          className="picker-filter"
          type="search"
          placeholder="Filter event types"
          aria-label="Filter event types"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
      </div>
      {types.length === 0 && (
        <p className="muted">
          No event types yet. <Link to="/event-types">Create one</Link> first, or choose All events.
        </p>
      )}
      <div className={`picker-groups${everything ? ' disabled' : ''}`}>
        {groups.map(([cat, list]) => {
          const catOn = everything || selected.has(`${cat}.*`);
          const some = !catOn && list.some((t) => selected.has(t.name));
          return (
            <div className="picker-group" key={cat}>
              <label className="check check-cat">
                <input
                  type="checkbox"
                  checked={catOn}
                  disabled={everything}
                  ref={(el) => {
                    if (el) el.indeterminate = some;
                  }}
                  onChange={(e) => toggleCategory(cat, e.target.checked)}
                />
                <span>
                  <strong>{cat === 'hookline' ? 'Hookline operational events' : cat}</strong>{' '}
                  <span className="muted mono small">{cat}.*</span>
                </span>
              </label>
              <div className="picker-types">
                {list.map((t) => (
                  <label className="check" key={t.name} title={t.description ?? undefined}>
                    <input
                      type="checkbox"
                      checked={catOn || selected.has(t.name)}
                      disabled={catOn}
                      onChange={(e) => toggle(t.name, e.target.checked)}
                    />
                    <span className="mono small">{t.name}</span>
                  </label>
                ))}
              </div>
            </div>
          );
        })}
      </div>
      {others.length > 0 && (
        <div className="picker-others">
          <span className="muted small">Also subscribed:</span>
          {others.map((e) => (
            <span key={e} className="chip mono">
              {e}
              <button
                type="button"
                className="chip-x"
                aria-label={`Remove ${e}`}
                onClick={() => toggle(e, false)}
              >
                ×
              </button>
            </span>
          ))}
        </div>
      )}
    </div>
  );
}
