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

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

function mix(hex: string, towards: string, t: number): string {
  const channel = (h: string, i: number) => parseInt(h.slice(i, i + 2), 16);
  return `#${[1, 3, 5]
    .map((i) => Math.round(channel(hex, i) * (1 - t) + channel(towards, i) * t))
    .map((c) => c.toString(16).padStart(2, '0'))
    .join('')}`;
}

/**
 * The accent as text (links, the active tab) on `surface`: the accent itself when it reads at
 * 4.5:1 (WCAG AA), else mixed towards `towards` (black on light pages, white on dark ones) just
 * enough that it does, so a navy brand stays readable in the dark theme and a pale one in the light.
 */
export function readableAccent(hex: string, surface: string, towards: string): string {
  for (let t = 0; t <= 1; t += 0.05) {
    const c = mix(hex, towards, t);
    if (contrast(c, surface) >= 4.6) return c;
  }
  return towards;
}

// The surfaces text sits on in each theme (ui/src/styles.css: --bg, and --panel where darker
// text is harder to read: the light page's grey, the dark panels' lighter navy).
const LIGHT_SURFACE = '#f6f8fa';
const DARK_SURFACE = '#171c2c';

/** The organization's branding: the accent as CSS variables and the name in the tab's title. */
export function applyBranding(settings: PortalSettings, fallbackTitle: string): void {
  const root = document.documentElement.style;
  if (settings.accent_color && HEX.test(settings.accent_color)) {
    root.setProperty('--accent', settings.accent_color);
    root.setProperty('--on-accent', onAccent(settings.accent_color));
    // Text in the accent: one shade per theme, chosen by theme.css with the theme attribute.
    root.setProperty(
      '--brand-text-light',
      readableAccent(settings.accent_color, LIGHT_SURFACE, '#000000'),
    );
    root.setProperty(
      '--brand-text-dark',
      readableAccent(settings.accent_color, DARK_SURFACE, '#ffffff'),
    );
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
