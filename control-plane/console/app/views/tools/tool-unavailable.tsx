import { IconShield } from '../icons.tsx';

/** Why a tool cannot be used right now, in place of (or above) the tool (`[data-testid=<tool>-unavailable]`). */
export function ToolUnavailable({ reason, testId }: { reason: string; testId: string }) {
  return (
    <div class="tool-unavailable" role="status" data-testid={testId}>
      <IconShield size={18} class="tool-unavailable__icon" />
      <span>{reason}</span>
    </div>
  );
}

/** An error a tool reports (`role=alert`), with an optional way to dismiss it. */
export function ToolAlert({
  message,
  testId,
  onDismiss,
}: {
  message: string;
  testId: string;
  onDismiss?: () => void;
}) {
  return (
    <div class="tool-alert" role="alert">
      <span class="tool-alert__text" data-testid={testId}>
        {message}
      </span>
      {onDismiss && (
        <button type="button" class="tool-alert__dismiss" onClick={onDismiss} aria-label="Dismiss">
          ×
        </button>
      )}
    </div>
  );
}
