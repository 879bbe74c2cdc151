import type { PortalSettings } from '../tenants-api';
import { setAppName } from '../router';
import './theme.css';

// The portal follows its host page: `?theme=dark|light` on the iframe's URL picks the palette
// (kept for the tab, as the query goes away on the first navigation), and the organization's
// accent colour replaces the house purple.

const THEME_KEY = 'hookline.portalTheme';

/** Sets `data-theme` on <html> from `?theme=` (or the one this tab was opened with). */
export function applyTheme(query: URLSearchParams): void {
  let theme = query.get('theme');
  try {
    if (theme === 'dark' || theme === 'light') sessionStorage.setItem(THEME_KEY, theme);
    else theme = sessionStorage.getItem(THEME_KEY);
  } catch {
    // storage refused in a third-party frame: the query alone decides
  }
  const chosen = theme === 'dark' ? 'dark' : 'light';
  document.documentElement.dataset.theme = chosen;
  document.documentElement.style.colorScheme = chosen;
}

const HEX = /^#[0-9a-fA-F]{6}$/;

/** The organization's branding: the accent as CSS variables and the name in the tab's title. */
export function applyBranding(settings: PortalSettings, fallbackTitle: string): void {
  const root = document.documentElement.style;
  if (settings.accent_color && HEX.test(settings.accent_color)) {
    root.setProperty('--accent', settings.accent_color);
    root.setProperty('--accent-2', `color-mix(in srgb, ${settings.accent_color} 85%, black)`);
    root.setProperty(
      '--accent-soft',
      `color-mix(in srgb, ${settings.accent_color} 14%, var(--panel))`,
    );
    root.setProperty(
      '--focus',
      `0 0 0 3px color-mix(in srgb, ${settings.accent_color} 35%, transparent)`,
    );
  }
  setAppName(settings.title || fallbackTitle);
  document.title = settings.title || fallbackTitle;
}
