// The portal's credential: a short-lived hlp_ token handed over in the URL fragment
// (`/portal#token=…`), so it never reaches a server log or a Referer header. It is kept in
// session storage (this tab only) and taken out of the address bar at once.

const TOKEN_KEY = 'hookline.portalToken';
const ORG_KEY = 'hookline.portalOrg';

// Session storage can be refused in a third-party iframe (blocked storage): the token then
// lives in memory for this page only, which is all an embedded portal needs.
let memory: string | null = null;

function store(key: string, value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // storage refused: memory only
  }
}

function load(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

/**
 * The token of this portal session: a new one from the fragment (which replaces any saved one,
 * so a fresh link always wins), else the one saved in this tab. Removes it from the address bar.
 */
export function takeToken(): string | null {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const fresh = params.get('token');
  if (fresh) {
    memory = fresh;
    store(TOKEN_KEY, fresh);
    params.delete('token');
    const rest = params.toString();
    window.history.replaceState(
      null,
      '',
      window.location.pathname + window.location.search + (rest ? `#${rest}` : ''),
    );
    return fresh;
  }
  return memory ?? load(TOKEN_KEY);
}

/** Forgets the token (expired or revoked). */
export function dropToken(): void {
  memory = null;
  store(TOKEN_KEY, null);
}

/** The name of whoever gave out the link, remembered for the "link expired" screen. */
export function rememberIssuer(name: string): void {
  store(ORG_KEY, name);
}

export function issuer(): string | null {
  return load(ORG_KEY);
}
