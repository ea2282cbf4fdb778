import type { AskOffer } from '../../tools/tool-availability.ts';
import { IconShield } from '../icons.tsx';
import { AskAccess } from './ask-access.tsx';

/**
 * Why a tool cannot be used right now, in place of (or above) the tool (`[data-testid=<tool>-unavailable]`),
 * with a button to ask the user for it when only their permission is missing.
 */
export function ToolUnavailable({
  reason,
  testId,
  ask,
}: {
  reason: string;
  testId: string;
  ask?: AskOffer | null;
}) {
  return (
    <div class="tool-unavailable" role="status" data-testid={testId}>
      <IconShield size={18} class="tool-unavailable__icon" />
      <span>{reason}</span>
      {ask && <AskAccess ask={ask} />}
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
