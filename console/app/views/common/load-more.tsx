export interface LoadMoreProps {
  loading: boolean;
  onLoad(): void;
  testId: string;
}

/** The button under a paged list that fetches its next page. */
export function LoadMore({ loading, onLoad, testId }: LoadMoreProps) {
  return (
    <div class="list-more">
      <button
        type="button"
        class="btn btn--secondary"
        data-testid={testId}
        disabled={loading}
        onClick={onLoad}
      >
        {loading ? 'Loading…' : 'Load more'}
      </button>
    </div>
  );
}
