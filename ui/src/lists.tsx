import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { Button, ErrorBox, errorText, Loading, useResource, type Resource } from './components';

/**
 * A list as the pages show it: usePaged gives one that loads page by page, listOf makes one of a
 * whole list loaded with useResource.
 */
export interface ListState<T> {
  items: T[];
  /** Why the last load failed; shown in place of the list only while nothing has loaded yet. */
  error: unknown;
  /** Nothing to show yet: the first load is under way. */
  loading: boolean;
  loaded: boolean;
  reload: () => void;
  /** Paged lists: the next page's cursor (null after the last page) and loading it. */
  cursor?: string | null;
  more?: () => void;
  moreBusy?: boolean;
  /** Why the last "Load more" failed (cleared when one succeeds). */
  moreError?: unknown;
}

/**
 * A paged list: the first page loads (and with `pollMs` refreshes while only it is shown);
 * `more()` appends the next page.
 */
export function usePaged<T>(
  fetchPage: (cursor?: string) => Promise<{ data: T[]; next_cursor: string | null }>,
  deps: unknown[],
  opts: { pollMs?: number; enabled?: boolean } = {},
) {
  const [extra, setExtra] = useState<{ items: T[]; cursor: string | null } | null>(null);
  const [moreBusy, setMoreBusy] = useState(false);
  const [moreError, setMoreError] = useState<unknown>();
  const first = useResource(() => fetchPage(undefined), deps, {
    pollMs: extra ? undefined : opts.pollMs,
    enabled: opts.enabled,
  });
  // A change of filters starts over from the first page.
  useEffect(() => setExtra(null), deps);
  const items = [...(first.data?.data ?? []), ...(extra?.items ?? [])];
  const cursor = extra ? extra.cursor : (first.data?.next_cursor ?? null);
  const more = async () => {
    if (!cursor) return;
    setMoreBusy(true);
    try {
      const page = await fetchPage(cursor);
      setExtra((e) => ({ items: [...(e?.items ?? []), ...page.data], cursor: page.next_cursor }));
      setMoreError(undefined);
    } catch (e) {
      setMoreError(e);
    } finally {
      setMoreBusy(false);
    }
  };
  const reload = () => {
    setExtra(null);
    first.reload();
  };
  return {
    items,
    cursor,
    more,
    moreBusy,
    moreError,
    loading: first.loading && !first.data,
    error: first.error,
    reload,
    loaded: first.data !== undefined,
  };
}

/** A whole list loaded with useResource, as a ListState; `items` when the page lists only part of it. */
export function listOf<T>(r: Resource<T[]>, items: T[] = r.data ?? []): ListState<T> {
  return {
    items,
    error: r.error,
    loading: r.data === undefined,
    loaded: r.data !== undefined,
    reload: r.reload,
  };
}

/**
 * What a list shows before its rows: the error of a first load that failed (with a retry), the
 * spinner, or `empty` when it has no items; `children` once there are items.
 */
export function ListStates<T>({
  list,
  empty,
  children,
}: {
  list: ListState<T>;
  empty: ReactNode;
  children?: ReactNode;
}) {
  if (list.error && !list.loaded) return <ErrorBox error={list.error} onRetry={list.reload} />;
  if (list.loading) return <Loading />;
  return (
    <>
      {list.error && <StaleNote error={list.error} onRetry={list.reload} />}
      {list.items.length === 0 ? empty : children}
    </>
  );
}

/**
 * A refresh of a list already shown failed (e.g. 429 rate limited): say so above the rows, which
 * stay as last loaded, instead of silently showing data that no longer updates. Goes once a later
 * load succeeds.
 */
function StaleNote({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  return (
    <div className="alert alert-warn" role="status">
      <span>
        <strong>Not up to date:</strong> refreshing failed. {errorText(error)}
      </span>
      <Button size="sm" onClick={onRetry}>
        Refresh
      </Button>
    </div>
  );
}

/**
 * Gives every body cell a `data-label`, the text of its column's header: on a phone the rows are
 * stacked, one cell a line, each after its column's name (styles.css, "stacked rows"). A cell
 * spanning columns takes the first one's name, one spanning all none, nor does an empty header.
 */
function labelCells(table: HTMLTableElement | null): void {
  const header = table?.tHead?.rows[0];
  if (!table || !header) return;
  const names: string[] = [];
  for (const th of Array.from(header.cells))
    for (let i = 0; i < th.colSpan; i++) names.push(th.textContent?.trim() ?? '');
  for (const body of Array.from(table.tBodies))
    for (const row of Array.from(body.rows)) {
      let column = 0;
      for (const cell of Array.from(row.cells)) {
        const name = cell.colSpan >= names.length ? '' : (names[column] ?? '');
        if (cell.dataset.label !== name) {
          if (name) cell.dataset.label = name;
          else delete cell.dataset.label;
        }
        column += cell.colSpan;
      }
    }
}

/** A table in its scrolling wrapper. `className` adds to `table` (table-click, table-fixed); `cols` are the classes of a colgroup. */
export function Table({
  head,
  cols,
  className,
  label,
  children,
}: {
  head?: ReactNode;
  cols?: string[];
  className?: string;
  label?: string;
  children: ReactNode;
}) {
  const ref = useRef<HTMLTableElement>(null);
  useLayoutEffect(() => labelCells(ref.current), [head]);
  useEffect(() => {
    const table = ref.current;
    if (!table) return;
    // Rows are drawn by their own components too (a refresh, a row's own state): label them as
    // they come.
    const watch = new MutationObserver(() => labelCells(table));
    watch.observe(table, { childList: true, subtree: true });
    return () => watch.disconnect();
  }, []);
  return (
    <div className="table-wrap">
      <table ref={ref} className={className ? `table ${className}` : 'table'} aria-label={label}>
        {cols && (
          <colgroup>
            {cols.map((c) => (
              <col key={c} className={c} />
            ))}
          </colgroup>
        )}
        {head && (
          <thead>
            <tr>{head}</tr>
          </thead>
        )}
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** "Load more" while there are further pages; a page that failed to load says why above it (the button tries again). */
export function LoadMore({
  cursor,
  busy,
  error,
  onMore,
}: {
  cursor: string | null | undefined;
  busy: boolean;
  error?: unknown;
  onMore: () => void;
}) {
  if (!cursor) return null;
  return (
    <div className="load-more">
      {error !== undefined && <ErrorBox error={error} />}
      <Button onClick={onMore} busy={busy}>
        Load more
      </Button>
    </div>
  );
}

/**
 * The scaffold of a list page: the list's states (ListStates), then its rows in a flush card,
 * with "Load more" while a paged list has further pages. `head` holds the header cells, `row`
 * makes one <tr> (with its key) of an item.
 */
export function ListTable<T>({
  list,
  empty,
  head,
  row,
  className,
  label,
}: {
  list: ListState<T>;
  empty: ReactNode;
  head: ReactNode;
  row: (item: T) => ReactNode;
  className?: string;
  label?: string;
}) {
  return (
    <ListStates list={list} empty={empty}>
      <div className="card card-flush">
        <Table head={head} className={className} label={label}>
          {list.items.map((item) => row(item))}
        </Table>
        {list.more && (
          <LoadMore
            cursor={list.cursor}
            busy={list.moreBusy ?? false}
            error={list.moreError}
            onMore={list.more}
          />
        )}
      </div>
    </ListStates>
  );
}
