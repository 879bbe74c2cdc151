import { useEffect } from 'react';
import { setPref, usePrefs, type ThemePref, type ZonePref } from './prefs';

// The sidebar's display settings: which zone times are shown in, and light or dark.

const localZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The time zone and theme selects; both are kept in localStorage (prefs.ts). */
export function DisplayPrefs() {
  const { zone, theme } = usePrefs();
  return (
    <div className="display-prefs">
      <label>
        <span id="pref-zone">Zone</span>
        <select
          aria-labelledby="pref-zone"
          value={zone}
          onChange={(e) => setPref('zone', e.target.value as ZonePref)}
        >
          <option value="local">Local ({localZone()})</option>
          <option value="utc">UTC</option>
        </select>
      </label>
      <label>
        <span id="pref-theme">Theme</span>
        <select
          aria-labelledby="pref-theme"
          value={theme}
          onChange={(e) => setPref('theme', e.target.value as ThemePref)}
        >
          <option value="system">Same as the system</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </label>
    </div>
  );
}

declare global {
  interface Window {
    /** ui/public/theme.js: sets data-theme on <html> before the first paint, and on a change. */
    hooklineTheme?: { set: (theme: string) => void };
  }
}

/** Hands a change of the theme switch to ui/public/theme.js, the one place that sets data-theme. */
export function useThemeAttribute(): void {
  const { theme } = usePrefs();
  useEffect(() => window.hooklineTheme?.set(theme), [theme]);
}
