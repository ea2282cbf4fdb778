import { ErrorBanner } from '../error-banner.tsx';

export interface LoadStatusProps {
  /** Why the data could not be loaded; offers Try again. */
  error: string | null;
  /** Whether the data has arrived: until then (and without an error) the page says Loading…. */
  loaded: boolean;
  onRetry(): void;
}

/** Where a page's data stands: the failure with Try again, or Loading… until it first arrives. */
export function LoadStatus({ error, loaded, onRetry }: LoadStatusProps) {
  if (error) return <ErrorBanner message={error} onRetry={onRetry} />;
  return loaded ? null : <p class="empty">Loading…</p>;
}

/** `list` with `item` in place of the entry with its id, or added at the end when there is none. */
export function upsertById<T extends { id: string }>(list: readonly T[], item: T): T[] {
  return list.some((entry) => entry.id === item.id)
    ? list.map((entry) => (entry.id === item.id ? item : entry))
    : [...list, item];
}
