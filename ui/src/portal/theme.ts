import type { PortalSettings } from '../tenants-api';
import { setAppName } from '../router';
import './theme.css';

// The organization's accent colour replaces the house purple. Light or dark (`?theme=`) is set
// before the first paint by ui/public/theme.js, with the admin UI's one dark palette.

const HEX = /^#[0-9a-fA-F]{6}$/;

/** WCAG relative luminance of `#rrggbb` (0 black … 1 white). */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * The text colour of buttons drawn in the accent: white or the dark page colour, whichever
 * contrasts more with it (an organization may pick a pale accent as well as a dark one).
 */
export function onAccent(hex: string): string {
  const l = luminance(hex);
  const dark = luminance('#0f1320');
  return 1.05 / (l + 0.05) >= (l + 0.05) / (dark + 0.05) ? '#ffffff' : '#0f1320';
}

/** The organization's branding: the accent as CSS variables and the name in the tab's title. */
export function applyBranding(settings: PortalSettings, fallbackTitle: string): void {
  const root = document.documentElement.style;
  if (settings.accent_color && HEX.test(settings.accent_color)) {
    root.setProperty('--accent', settings.accent_color);
    root.setProperty('--on-accent', onAccent(settings.accent_color));
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
