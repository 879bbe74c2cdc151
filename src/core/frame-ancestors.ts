// Which pages may embed the customer portal in an iframe: the sources of a
// Content-Security-Policy `frame-ancestors` directive, checked once at start so a
// typo fails the start instead of silently blocking (or allowing) every embedder.

/**
 * Parses a space-separated list of frame ancestors: each `'self'`, `'none'`, or an
 * http(s) origin (scheme, host and optional port; a leading `*.` wildcard in the host is
 * allowed, as CSP allows it). Returns the directive's value, normalised to single spaces.
 * Throws an Error naming the first bad entry.
 */
export function parseFrameAncestors(raw: string): string {
  const items = raw.split(/\s+/).filter(Boolean);
  if (items.length === 0) throw new Error("expected at least one source, e.g. 'self'");
  for (const item of items) {
    if (item === "'self'" || item === "'none'") continue;
    if (!isOrigin(item))
      throw new Error(
        `"${item}" is not 'self', 'none' or an http(s) origin such as https://app.example.com`,
      );
  }
  if (items.includes("'none'") && items.length > 1)
    throw new Error("'none' cannot be combined with other sources");
  return items.join(' ');
}

function isOrigin(s: string): boolean {
  const m = /^(https?):\/\/(\*\.)?(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i.exec(s);
  if (!m) return false;
  if (m[4] && Number(m[4].slice(1)) > 65535) return false;
  try {
    // The regex lets through only a scheme, a host of letters, digits, dots and dashes (or a
    // bracketed IPv6) and a port: no path, user info, quote or semicolon, which CSP would read
    // differently. The URL parser then judges the host itself.
    return new URL(`${m[1]}://${m[3]}`).hostname.length > 0;
  } catch {
    return false;
  }
}
