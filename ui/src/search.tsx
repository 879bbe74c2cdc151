import { useId, useState, type FormEvent } from 'react';
import { all, api, type Webhook } from './api';
import { useResource } from './components';
import { Link, navigate } from './router';

// The search box above every page: an evt_, dlv_ or wh_ id goes straight to that thing; any other
// text finds webhooks by name or URL (the list is loaded once, when the box is first used).

/** Where an id leads, or undefined when the text is not one. */
export function idTarget(text: string): string | undefined {
  const id = text.trim();
  const enc = encodeURIComponent(id);
  if (/^evt_\w+$/.test(id)) return `/events?event=${enc}`;
  if (/^dlv_\w+$/.test(id)) return `/deliveries?delivery=${enc}`;
  if (/^wh_\w+$/.test(id)) return `/webhooks/${enc}`;
  return undefined;
}

function matches(w: Webhook, q: string): boolean {
  const t = q.toLowerCase();
  return w.name.toLowerCase().includes(t) || w.url.toLowerCase().includes(t);
}

/** One box that finds an event, a delivery or a webhook from any page. */
export function GlobalSearch() {
  const [text, setText] = useState('');
  const [used, setUsed] = useState(false);
  const resultsId = useId();
  const webhooks = useResource(
    () => all((cursor) => api.listWebhooks({ limit: 500, cursor })),
    [],
    { enabled: used },
  );
  const q = text.trim();
  const found =
    q && !idTarget(q) ? (webhooks.data ?? []).filter((w) => matches(w, q)).slice(0, 8) : [];
  const go = (to: string) => {
    setText('');
    navigate(to);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const to = idTarget(q) ?? (found.length === 1 ? `/webhooks/${found[0].id}` : undefined);
    if (to) go(to);
  };
  return (
    <form className="global-search" role="search" aria-label="Everywhere" onSubmit={submit}>
      <input
        type="search"
        aria-label="Search"
        placeholder="Find an evt_, dlv_ or wh_ id, or a webhook…"
        spellCheck={false}
        autoComplete="off"
        value={text}
        aria-controls={found.length ? resultsId : undefined}
        onFocus={() => setUsed(true)}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => e.key === 'Escape' && setText('')}
      />
      {q && !idTarget(q) && webhooks.data && (
        <ul className="search-results" id={resultsId} aria-label="Webhooks found">
          {found.length === 0 ? (
            <li className="muted">No webhook has that name or URL.</li>
          ) : (
            found.map((w) => (
              <li key={w.id}>
                <Link
                  to={`/webhooks/${w.id}`}
                  onClick={() => setText('')}
                  aria-label={`Webhook ${w.name}`}
                >
                  <span className="strong">{w.name}</span>
                  <span className="mono small muted truncate">{w.url}</span>
                </Link>
              </li>
            ))
          )}
        </ul>
      )}
    </form>
  );
}
