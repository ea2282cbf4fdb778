import { BusyButton } from './fields.tsx';

export interface LoadMoreProps {
  loading: boolean;
  onLoad(): void;
  testId: string;
  /** The small button, under a list inside a card. */
  small?: boolean;
}

/** The button under a paged list that fetches its next page. */
export function LoadMore({ loading, onLoad, testId, small }: LoadMoreProps) {
  return (
    <div class="list-more">
      <BusyButton
        class={small ? 'btn--secondary btn--small' : 'btn--secondary'}
        busy={loading}
        busyLabel="Loading…"
        testId={testId}
        onClick={onLoad}
      >
        Load more
      </BusyButton>
    </div>
  );
}
