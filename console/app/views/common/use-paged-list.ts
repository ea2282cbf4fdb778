import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from '../../api/client.ts';
import type { Page } from '../../api/types.ts';
import { useInterval } from '../hooks.ts';

export interface PagedListOptions<T, F> {
  initialFilter: F;
  /**
   * One page under `filter`: the first (`cursor` null) or the one after `cursor`. `shown` is how many
   * items the list holds now, so a refresh of the first page may ask for as many.
   */
  fetchPage(filter: F, cursor: string | null, shown: number): Promise<Page<T>>;
  /** What the error banner says when a page cannot be loaded. */
  failure: string;
  /** Reads the first page again this often, in ms, so the list stays true; never when absent. */
  refreshMs?: number;
}

/**
 * A list read from the API a page at a time under a filter: `load(null)` reads the first page again,
 * `load(nextCursor)` adds the next; `changeFilter` starts again from the first page (the old items are
 * dropped in the same render, so they never show under the new filter). Answers for an older filter
 * or an older first page are dropped.
 * @example
 * const list = usePagedList({ initialFilter: {}, fetchPage: listDevices, failure: 'It failed.' });
 */
export function usePagedList<T, F>({ initialFilter, fetchPage, failure, refreshMs }: PagedListOptions<T, F>) {
  const [filter, setFilter] = useState<F>(initialFilter);
  const [items, setItems] = useState<T[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const shown = useRef(0);

  /** The first page again, or the next page after `cursor`; a refresh keeps an error until it succeeds. */
  const load = async (cursor: string | null, refresh = false) => {
    const mine = cursor ? generation.current : ++generation.current;
    setLoading(true);
    if (!refresh) setError(null);
    try {
      const page = await fetchPage(filter, cursor, shown.current);
      if (mine !== generation.current) return;
      setItems((before) => {
        const next = cursor ? [...(before ?? []), ...page.items] : page.items;
        shown.current = next.length;
        return next;
      });
      setNextCursor(page.nextCursor);
      setError(null);
    } catch (caught) {
      if (mine === generation.current) setError(errorText(caught, failure));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };

  useEffect(() => {
    shown.current = 0;
    void load(null);
  }, [filter]);
  useInterval(() => void load(null, true), refreshMs ?? null);

  const changeFilter = (next: F) => {
    setFilter(next);
    setItems(null);
    setNextCursor(null);
  };

  return { filter, changeFilter, items, nextCursor, loading, error, setError, load };
}
