import { useEffect, useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

// A tiny history router: the app has a handful of screens, not worth a dependency.

const listeners = new Set<() => void>();
function subscribe(fn: () => void) {
  listeners.add(fn);
  window.addEventListener('popstate', fn);
  return () => {
    listeners.delete(fn);
    window.removeEventListener('popstate', fn);
  };
}
// The path the app is mounted at: '' for the admin UI at /, '/portal' for the portal. Pages link
// to app paths ('/webhooks/…'); the base is added to the address bar and taken off when read.
let base = '';

/** Mounts the router under `prefix` (e.g. '/portal'); call once, before the first render. */
export function setBasePath(prefix: string): void {
  base = prefix.replace(/\/+$/, '');
}

function appPath(pathname: string): string {
  if (!base) return pathname;
  return pathname === base
    ? '/'
    : pathname.startsWith(`${base}/`)
      ? pathname.slice(base.length)
      : pathname;
}

/** The address-bar URL of an app path. */
const urlOf = (to: string) => (base ? (to === '/' ? base : `${base}${to}`) : to);

const snapshot = () => appPath(window.location.pathname) + window.location.search;

let generation = 0;
const generationSnapshot = () => generation;

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === snapshot()) {
    // Following a link to the page already shown reloads it (fresh data), as a browser would.
    generation++;
    for (const fn of listeners) fn();
    return;
  }
  if (opts.replace) window.history.replaceState(null, '', urlOf(to));
  else window.history.pushState(null, '', urlOf(to));
  for (const fn of listeners) fn();
}

/** The current path and query string; re-renders on navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const loc = useSyncExternalStore(subscribe, snapshot);
  const i = loc.indexOf('?');
  return {
    path: i < 0 ? loc : loc.slice(0, i),
    query: new URLSearchParams(i < 0 ? '' : loc.slice(i + 1)),
  };
}

/** Changes when the current page is asked for again: a key that remounts (and reloads) the page. */
export function usePageGeneration(): number {
  return useSyncExternalStore(subscribe, generationSnapshot);
}

/** Matches `/webhooks/:id` against a path; returns the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const a = pattern.split('/').filter(Boolean);
  const b = path.split('/').filter(Boolean);
  if (a.length !== b.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(':')) params[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return params;
}

/** A real link (works with middle-click and the keyboard) that navigates without a reload. */
export function Link({
  to,
  onClick,
  ...rest
}: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  return (
    <a
      href={urlOf(to)}
      onClick={(e: MouseEvent<HTMLAnchorElement>) => {
        onClick?.(e);
        if (
          e.defaultPrevented ||
          e.button !== 0 ||
          e.metaKey ||
          e.ctrlKey ||
          e.shiftKey ||
          e.altKey
        )
          return;
        e.preventDefault();
        navigate(to);
      }}
      {...rest}
    />
  );
}

let appName = 'Hookline';

/** The name after each screen's title in the tab ('Hookline'; the portal's own title). */
export function setAppName(name: string): void {
  appName = name;
}

/** Sets document.title for the current screen. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · ${appName}` : appName;
  }, [title]);
}
