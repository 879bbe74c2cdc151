import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
  type ButtonHTMLAttributes,
  type ReactNode,
} from 'react';
import { createPortal } from 'react-dom';
import { ApiError, type DeliveryStatus } from './api';
import { zoneOption } from './prefs';

// ---------- data loading ----------

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads data when `deps` change; with `pollMs` it reloads by itself while the tab is visible.
 * A reload keeps showing the previous data (no flicker), and late answers of stale requests are dropped.
 */
export function useResource<T>(
  load: () => Promise<T>,
  deps: unknown[],
  opts: { pollMs?: number; enabled?: boolean } = {},
): Resource<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError | Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const enabled = opts.enabled ?? true;
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    if (!enabled) {
      setLoading(false);
      return;
    }
    let stale = false;
    setLoading(true);
    loadRef.current().then(
      (d) => {
        if (stale) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: Error) => {
        if (stale) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      stale = true;
    };
  }, [...deps, tick, enabled]);

  useEffect(() => {
    if (!opts.pollMs || !enabled) return;
    const id = window.setInterval(() => {
      if (document.visibilityState === 'visible') setTick((t) => t + 1);
    }, opts.pollMs);
    return () => window.clearInterval(id);
  }, [opts.pollMs, enabled]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

// ---------- toasts ----------

interface Toast {
  id: number;
  kind: 'success' | 'error' | 'info';
  text: string;
}
const ToastContext = createContext<(kind: Toast['kind'], text: string) => void>(() => {});

// The open modal dialogs, innermost last. A modal <dialog> sits in the browser's top layer and
// makes the rest of the page inert, so toasts drawn in <body> would be hidden behind it and out
// of reach: while one is open, the toast region is drawn inside the innermost dialog instead.
let openDialogs: HTMLDialogElement[] = [];
const dialogListeners = new Set<() => void>();
function setDialogOpen(d: HTMLDialogElement, open: boolean): void {
  openDialogs = openDialogs.filter((x) => x !== d);
  if (open) openDialogs = [...openDialogs, d];
  for (const fn of dialogListeners) fn();
}
function useTopDialog(): HTMLDialogElement | null {
  return useSyncExternalStore(
    (fn) => (dialogListeners.add(fn), () => void dialogListeners.delete(fn)),
    () => openDialogs[openDialogs.length - 1] ?? null,
  );
}

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const push = useCallback((kind: Toast['kind'], text: string) => {
    const id = next.current++;
    setToasts((t) => [...t, { id, kind, text }]);
    window.setTimeout(
      () => setToasts((t) => t.filter((x) => x.id !== id)),
      kind === 'error' ? 8000 : 4000,
    );
  }, []);
  const dialog = useTopDialog();
  const region = (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`}>
          <span>{t.text}</span>
          <button
            className="toast-close"
            aria-label="Dismiss"
            onClick={() => setToasts((all) => all.filter((x) => x.id !== t.id))}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
  return (
    <ToastContext.Provider value={push}>
      {children}
      {dialog ? createPortal(region, dialog) : region}
    </ToastContext.Provider>
  );
}

export const useToast = () => useContext(ToastContext);

export function errorText(e: unknown): string {
  if (e instanceof ApiError && e.rateLimited) {
    const wait = /retry in/i.test(e.message)
      ? ''
      : e.retryAfter
        ? ` Try again in ${e.retryAfter} s.`
        : ' Wait a moment and try again.';
    return `Too many requests with this API key. ${e.message}${wait}`;
  }
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * Runs an action with progress state; reports its result as a toast.
 * Returns [run, busy]. `run` resolves to the action's value, or undefined when it failed.
 */
export function useAction<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
  opts: { success?: string | ((r: R) => string); onError?: (e: unknown) => boolean | void } = {},
): [(...args: A) => Promise<R | undefined>, boolean] {
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  const run = useCallback(
    async (...args: A) => {
      setBusy(true);
      try {
        const r = await fn(...args);
        if (opts.success)
          toast('success', typeof opts.success === 'function' ? opts.success(r) : opts.success);
        return r;
      } catch (e) {
        if (!opts.onError?.(e)) toast('error', errorText(e));
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [fn, toast],
  );
  return [run, busy];
}

// ---------- small building blocks ----------

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return <span className="spinner" role="progressbar" aria-label={label} />;
}

type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: 'primary' | 'secondary' | 'danger' | 'ghost';
  size?: 'sm' | 'md';
  busy?: boolean;
};

export function Button({
  variant = 'secondary',
  size = 'md',
  busy,
  disabled,
  children,
  className = '',
  type = 'button',
  ...rest
}: ButtonProps) {
  return (
    <button
      type={type}
      className={`btn btn-${variant} btn-${size} ${className}`}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      {...rest}
    >
      {busy && <Spinner label="Working" />}
      {children}
    </button>
  );
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="alert alert-error" role="alert">
      <div>
        <strong>
          {error instanceof ApiError && error.rateLimited
            ? 'Too many requests (429)'
            : error instanceof ApiError && error.status
              ? `${error.status} ${error.code}`
              : 'Error'}
        </strong>
        {/* A 429's title says what happened; the body is the server's limit and wait. */}
        <div>
          {error instanceof ApiError && error.rateLimited ? error.message : errorText(error)}
        </div>
      </div>
      {onRetry && (
        <Button size="sm" onClick={onRetry}>
          Try again
        </Button>
      )}
    </div>
  );
}

export function Empty({
  title,
  children,
  action,
}: {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div className="empty">
      <div className="empty-icon" aria-hidden>
        <svg
          viewBox="0 0 24 24"
          width="28"
          height="28"
          fill="none"
          stroke="currentColor"
          strokeWidth="1.6"
        >
          <path d="M4 7h16M4 12h10M4 17h7" strokeLinecap="round" />
        </svg>
      </div>
      <h3>{title}</h3>
      {children && <p>{children}</p>}
      {action}
    </div>
  );
}

export function Loading() {
  return (
    <div className="loading">
      <Spinner /> Loading…
    </div>
  );
}

const statusLabels: Record<string, string> = {
  succeeded: 'Succeeded',
  failed: 'Failed',
  pending: 'Pending',
  sending: 'Sending',
  retrying: 'Retrying',
  cancelled: 'Cancelled',
  skipped: 'Skipped',
};

/** docs/delivery-states.md, "States": a pending delivery that already had attempts is shown as retrying. */
export function displayStatus(d: { status: DeliveryStatus; attempts: number }): DeliveryStatus {
  return d.status === 'pending' && d.attempts > 0 ? 'retrying' : d.status;
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{statusLabels[status] ?? status}</span>;
}

export function Badge({
  tone = 'neutral',
  children,
}: {
  tone?: 'neutral' | 'green' | 'red' | 'amber' | 'blue' | 'purple';
  children: ReactNode;
}) {
  return <span className={`badge badge-tone-${tone}`}>{children}</span>;
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const toast = useToast();
  return (
    <Button
      size="sm"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setDone(true);
          window.setTimeout(() => setDone(false), 1500);
        } catch {
          toast('error', 'The browser did not allow copying; select the text and copy it by hand.');
        }
      }}
    >
      {done ? 'Copied' : label}
    </Button>
  );
}

export function Code({ children, className = '' }: { children: ReactNode; className?: string }) {
  return <pre className={`code ${className}`}>{children}</pre>;
}

export function prettyJson(v: unknown): string {
  if (typeof v === 'string') {
    try {
      return JSON.stringify(JSON.parse(v), null, 2);
    } catch {
      return v;
    }
  }
  return JSON.stringify(v, null, 2);
}

// ---------- time ----------

/**
 * A time as the UI shows it (month, day, time and zone) in the zone the viewer chose (prefs.ts);
 * `year` adds the year, for older dates.
 */
export function formatTime(iso: string | null | undefined, opts: { year?: boolean } = {}): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    ...zoneOption(),
    timeZoneName: 'short',
    ...(opts.year ? { year: 'numeric' } : {}),
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  const abs = Math.abs(s);
  const fmt = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  let text: string;
  if (abs < 10) return s >= 0 ? 'just now' : 'in a few seconds';
  if (abs < 60) text = fmt(abs, 'second');
  else if (abs < 3600) text = fmt(Math.round(abs / 60), 'minute');
  else if (abs < 86400) text = fmt(Math.round(abs / 3600), 'hour');
  else text = fmt(Math.round(abs / 86400), 'day');
  return s >= 0 ? `${text} ago` : `in ${text}`;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatTime(iso, { year: true })}>
      {relativeTime(iso)}
    </time>
  );
}

export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return '—';
  const v = rate <= 1 ? rate * 100 : rate;
  return `${v >= 99.95 || v === 0 ? v.toFixed(0) : v.toFixed(1)}%`;
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
}

// ---------- dialogs ----------

// The last element that had focus. When the button pressed was drawn again before its dialog
// opened (a list refreshing under it), focus has fallen to <body>: this one stands in.
let lastFocus: HTMLElement | null = null;
if (typeof document !== 'undefined')
  document.addEventListener('focusin', (e) => {
    if (e.target instanceof HTMLElement) lastFocus = e.target;
  });

/** A way to find `el` again once the page has drawn it anew: its id, or its accessible name. */
function selectorOf(el: HTMLElement): string | null {
  if (el.id) return `#${CSS.escape(el.id)}`;
  const label = el.getAttribute('aria-label');
  if (label) return `${el.tagName.toLowerCase()}[aria-label="${CSS.escape(label)}"]`;
  return null;
}

/**
 * What had focus when a dialog opened, as a function that gives focus back to it: a keyboard
 * user goes on where they were (WCAG 2.4.3) rather than at the top of the page. An opener the
 * page drew again meanwhile is found again by its id or its accessible name.
 */
function rememberOpener(): () => void {
  const active = document.activeElement;
  const el = active instanceof HTMLElement && active !== document.body ? active : lastFocus;
  if (!el) return () => {};
  const selector = selectorOf(el);
  const find = () =>
    el.isConnected ? el : selector ? document.querySelector<HTMLElement>(selector) : null;
  return () => {
    const now = find();
    if (now) now.focus();
    // The page may draw the opener again only after the state change that closed the dialog.
    else window.requestAnimationFrame(() => find()?.focus());
  };
}

/**
 * A modal on the native <dialog>: the browser traps focus, Escape closes it, the rest of the page
 * is inert while it is open, and focus goes back to its opener when it closes.
 */
export function Modal({
  open,
  onClose,
  title,
  children,
  footer,
  drawer,
  wide,
}: {
  open: boolean;
  onClose: () => void;
  title: ReactNode;
  children: ReactNode;
  footer?: ReactNode;
  drawer?: boolean;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  // The browser's `close` event follows every close(), ours included: only one the page did not
  // ask for (open still true) is reported. Reporting ours again made a drawer whose onClose
  // edits the URL navigate twice, and the second time reload the page, focus and all.
  const openRef = useRef(open);
  openRef.current = open;
  useEffect(() => {
    const d = ref.current;
    if (!d || !open) return;
    // Taken before showModal() moves focus into the dialog.
    const opener = rememberOpener();
    if (!d.open) d.showModal();
    setDialogOpen(d, true);
    // Closed by Escape, its close button, a click outside, or the dialog leaving the page.
    return () => {
      if (d.open) d.close();
      setDialogOpen(d, false);
      opener();
    };
  }, [open]);
  return (
    <dialog
      ref={ref}
      className={drawer ? 'drawer' : `modal${wide ? ' modal-wide' : ''}`}
      onClose={() => {
        if (openRef.current) onClose();
      }}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) onClose();
      }}
    >
      {open && (
        <div className="dialog-inner">
          <header className="dialog-head">
            <h2>{title}</h2>
            <button className="icon-btn" aria-label="Close" onClick={onClose}>
              ×
            </button>
          </header>
          <div className="dialog-body">{children}</div>
          {footer && <footer className="dialog-foot">{footer}</footer>}
        </div>
      )}
    </dialog>
  );
}

/** A yes/no question before a destructive or costly action. */
export function Confirm({
  open,
  title,
  children,
  confirmLabel,
  danger,
  busy,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Modal
      open={open}
      onClose={onClose}
      title={title}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant={danger ? 'danger' : 'primary'} busy={busy} onClick={onConfirm} autoFocus>
            {confirmLabel}
          </Button>
        </>
      }
    >
      {children}
    </Modal>
  );
}

// ---------- forms ----------

export function Field({
  label,
  htmlFor,
  hint,
  error,
  children,
}: {
  label: ReactNode;
  htmlFor?: string;
  hint?: ReactNode;
  error?: string;
  children: ReactNode;
}) {
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {error ? (
        <div className="field-error" id={htmlFor ? `${htmlFor}-error` : undefined} role="alert">
          {error}
        </div>
      ) : (
        hint && <div className="field-hint">{hint}</div>
      )}
    </div>
  );
}

/** A checkbox with its label, in the house look (`label.check`). */
export function Check({
  checked,
  onChange,
  children,
}: {
  checked: boolean;
  onChange: (checked: boolean) => void;
  children: ReactNode;
}) {
  return (
    <label className="check">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <span>{children}</span>
    </label>
  );
}

export function PageHeader({
  title,
  subtitle,
  actions,
  back,
}: {
  title: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
  back?: ReactNode;
}) {
  return (
    <div className="page-header">
      <div className="page-title">
        {back}
        <h1>{title}</h1>
        {subtitle && <p className="subtitle">{subtitle}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}

// ---------- tabs ----------

/** A row of tabs (ARIA tabs pattern: arrow keys move between them). Tabs are [id, label]. */
export function Tabs<T extends string>({
  label,
  tabs,
  value,
  onChange,
}: {
  label: string;
  tabs: [T, string][];
  value: T;
  onChange: (t: T) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const move = (by: number) => {
    const i = tabs.findIndex(([t]) => t === value);
    const next = tabs[(i + by + tabs.length) % tabs.length][0];
    onChange(next);
    window.requestAnimationFrame(() =>
      ref.current?.querySelector<HTMLElement>(`#tab-${next}`)?.focus(),
    );
  };
  return (
    <div
      className="tabs"
      role="tablist"
      aria-label={label}
      ref={ref}
      onKeyDown={(e) => {
        if (e.key === 'ArrowRight') move(1);
        else if (e.key === 'ArrowLeft') move(-1);
      }}
    >
      {tabs.map(([t, text]) => (
        <button
          key={t}
          id={`tab-${t}`}
          role="tab"
          type="button"
          aria-selected={t === value}
          aria-controls={`panel-${t}`}
          tabIndex={t === value ? 0 : -1}
          className={t === value ? 'tab on' : 'tab'}
          onClick={() => onChange(t)}
        >
          {text}
        </button>
      ))}
    </div>
  );
}

/** The content of the selected tab. */
export function TabPanel({ id, children }: { id: string; children: ReactNode }) {
  return (
    <div className="tab-panel" role="tabpanel" id={`panel-${id}`} aria-labelledby={`tab-${id}`}>
      {children}
    </div>
  );
}
