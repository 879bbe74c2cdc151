// The viewer's display preferences, kept in localStorage (they belong to the browser, not the
// session): the time zone every time is shown in, and the colour theme.

import { useSyncExternalStore } from 'react';

/** 'local': the browser's zone; 'utc': UTC everywhere (logs and receivers usually speak UTC). */
export type ZonePref = 'local' | 'utc';
/** 'system' follows prefers-color-scheme. */
export type ThemePref = 'system' | 'light' | 'dark';

export interface Prefs {
  zone: ZonePref;
  theme: ThemePref;
}

const KEYS = { zone: 'hookline.timeZone', theme: 'hookline.theme' } as const;

function read(): Prefs {
  let zone: string | null = null;
  let theme: string | null = null;
  try {
    zone = localStorage.getItem(KEYS.zone);
    theme = localStorage.getItem(KEYS.theme);
  } catch {
    // Storage can be blocked (privacy settings): the defaults apply.
  }
  return {
    zone: zone === 'utc' ? 'utc' : 'local',
    theme: theme === 'light' || theme === 'dark' ? theme : 'system',
  };
}

let current = read();
const listeners = new Set<() => void>();

/** The preferences now (for plain functions such as formatTime). */
export function prefs(): Prefs {
  return current;
}

/** Changes one preference, stores it and re-renders whoever uses usePrefs. */
export function setPref<K extends keyof Prefs>(key: K, value: Prefs[K]): void {
  current = { ...current, [key]: value };
  try {
    localStorage.setItem(KEYS[key], value);
  } catch {
    // Not stored: it still applies until the page is reloaded.
  }
  for (const fn of listeners) fn();
}

/** The preferences, re-rendering on change. */
export function usePrefs(): Prefs {
  return useSyncExternalStore(
    (fn) => (listeners.add(fn), () => void listeners.delete(fn)),
    () => current,
  );
}

/** The IANA zone times are shown in ('UTC' or the browser's). */
export function shownZone(): string {
  return current.zone === 'utc' ? 'UTC' : Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Intl options for the chosen zone: `timeZone` only when it is UTC (else the browser's). */
export function zoneOption(): { timeZone?: string } {
  return current.zone === 'utc' ? { timeZone: 'UTC' } : {};
}

/** The offset of the chosen zone at `at`, in minutes east of UTC (Berlin in winter: 60). */
export function zoneOffsetMinutes(at: Date): number {
  return current.zone === 'utc' ? 0 : -at.getTimezoneOffset();
}

const pad = (n: number) => String(Math.abs(n)).padStart(2, '0');

/** `+01:00`: the chosen zone's offset at `at`, as an ISO 8601 suffix. */
export function offsetSuffix(at: Date): string {
  const m = zoneOffsetMinutes(at);
  return `${m < 0 ? '-' : '+'}${pad(Math.trunc(m / 60))}:${pad(m % 60)}`;
}

/**
 * A `datetime-local` input's value (wall time, no zone) read in the chosen zone, as ISO 8601
 * with its offset (`2026-03-01T09:00+01:00`): a shared link then selects the same instant
 * wherever it is opened. A value that already has an offset is kept.
 */
export function withOffset(local: string): string {
  if (!local || /(Z|[+-]\d{2}:?\d{2})$/.test(local)) return local;
  const asUtc = new Date(`${local}Z`);
  if (Number.isNaN(asUtc.getTime())) return local;
  // The offset that applies at that wall time: try the offset at the UTC reading, then correct.
  let offset = zoneOffsetMinutes(asUtc);
  offset = zoneOffsetMinutes(new Date(asUtc.getTime() - offset * 60e3));
  const at = new Date(asUtc.getTime() - offset * 60e3);
  return `${local}${offsetSuffix(at)}`;
}

/** An instant (ISO, with or without an offset) as a `datetime-local` value in the chosen zone. */
export function toLocalInput(value: string | undefined): string {
  if (!value) return '';
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(value)) return value;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  const shifted = new Date(d.getTime() + zoneOffsetMinutes(d) * 60e3);
  return shifted.toISOString().slice(0, 16);
}
