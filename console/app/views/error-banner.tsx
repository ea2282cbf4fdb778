import { IconAlert } from './icons.tsx';

export interface ErrorBannerProps {
  message: string;
  /** Offers "Try again" when set. */
  onRetry?: () => void;
  retryLabel?: string;
  retryDisabled?: boolean;
}

/** A visible, announced error with an optional retry (`[data-testid=error]`). */
export function ErrorBanner({ message, onRetry, retryLabel = 'Try again', retryDisabled }: ErrorBannerProps) {
  return (
    <div class="error-banner" role="alert">
      <IconAlert size={18} class="error-banner__icon" />
      <span class="error-banner__text" data-testid="error">
        {message}
      </span>
      {onRetry && (
        <button
          type="button"
          class="btn btn--small btn--ghost-danger"
          onClick={onRetry}
          disabled={retryDisabled}
        >
          {retryLabel}
        </button>
      )}
    </div>
  );
}
