import { useRef, useState } from 'react';
import { Button } from './components';
import type { ListState } from './lists';

/** A page as the list endpoints answer (docs/api.md, "Pagination"). */
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Where the reader's view of a list starts: rows with a larger id arrived after it. */
interface Mark {
  key: string;
  /** Newest id shown; null while the list was empty (its first rows are shown as they come). */
  id: string | null;
}

/**
 * Keeps a refreshing list still while it is read: rows that arrive after the reader's view was
 * taken are held back and counted, and shown only when asked (`show`), so what is under the
 * cursor does not move down. Ids start with their time (src/ids.ts), so "newer" is "larger id".
 *
 * `track` wraps the list's page loader; the mark is taken there, with the page that came back,
 * so a new filter (`key`) never judges its rows by the mark of the old one.
 */
export function useHeldNew<T extends { id: string }>(key: string) {
  const mark = useRef<Mark | null>(null);
  const shown = useRef<{ key: string; items: T[] } | null>(null);
  const [, rerender] = useState(0);
  const track = async (page: Promise<Page<T>>, cursor?: string): Promise<Page<T>> => {
    const p = await page;
    // Later pages are older rows: only the first page can bring new ones.
    if (cursor) return p;
    const newest = p.data[0]?.id ?? null;
    if (mark.current?.key !== key || mark.current.id === null) mark.current = { key, id: newest };
    return p;
  };
  const held = (items: T[]): T[] => {
    const m = mark.current;
    if (!m || m.key !== key || m.id === null) return [];
    return items.filter((i) => i.id > m.id!);
  };
  /**
   * The list without the rows held back, the number held back, and showing them. When more new
   * rows arrive than a page holds, the rows the reader had fall off the first page: they stay
   * shown (as last loaded) until "Show", rather than the list emptying under the reader.
   */
  const view = (list: ListState<T>) => {
    const hidden = held(list.items);
    const ids = new Set(hidden.map((i) => i.id));
    let items = hidden.length ? list.items.filter((i) => !ids.has(i.id)) : list.items;
    const before = shown.current?.key === key ? shown.current.items : [];
    if (hidden.length && list.cursor) {
      const oldest = list.items[list.items.length - 1]?.id ?? '';
      items = [...items, ...before.filter((i) => i.id < oldest)];
    }
    shown.current = { key, items };
    return {
      list: items === list.items ? list : { ...list, items },
      count: hidden.length,
      // Every row of a full first page is new: there are more behind it than it shows.
      atLeast: Boolean(list.cursor) && hidden.length === list.items.length,
      show: () => {
        if (mark.current && hidden.length) mark.current = { key, id: hidden[0].id };
        rerender((n) => n + 1);
      },
    };
  };
  /** Shows every row from the next load on, e.g. after the reader published one themselves. */
  const showAll = () => {
    mark.current = null;
    rerender((n) => n + 1);
  };
  return { track, view, showAll };
}

/** "N new · Show" above a list whose new rows are held back (useHeldNew); nothing when none. */
export function NewRowsBanner({
  count,
  atLeast = false,
  what,
  onShow,
}: {
  count: number;
  /** More arrived than `count` (a full page of them): shown as "50+ new". */
  atLeast?: boolean;
  what: [string, string];
  onShow: () => void;
}) {
  // A live region that is always there: screen readers announce the count as it changes.
  return (
    <div className="new-rows" role="status" aria-live="polite">
      {count > 0 && (
        <>
          <span>
            <strong>
              {count}
              {atLeast ? '+' : ''} new
            </strong>{' '}
            {count === 1 && !atLeast ? what[0] : what[1]}
          </span>
          <span aria-hidden> · </span>
          <Button size="sm" onClick={onShow}>
            Show
          </Button>
        </>
      )}
    </div>
  );
}

/**
 * Counts the loads of a paged list's first page (each refresh): what is fetched beside the rows
 * (a webhook's 24 h stats) passes it as a dependency, to refresh with them.
 */
export function useFirstPageLoads<T>() {
  const [loads, setLoads] = useState(0);
  const track = async (page: Promise<Page<T>>, cursor?: string): Promise<Page<T>> => {
    const p = await page;
    if (!cursor) setLoads((n) => n + 1);
    return p;
  };
  return { loads, track };
}
