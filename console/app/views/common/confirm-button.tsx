import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** How long the button waits for the confirming click, in ms. */
export const CONFIRM_WINDOW_MS = 5000;

export interface ConfirmButtonProps {
  children: ComponentChildren;
  /** What the button says while it waits for the second click. */
  confirmLabel: string;
  onConfirm(): void;
  testId?: string;
  class?: string;
  disabled?: boolean;
}

/** A button for something that cannot be undone: the first click arms it, the second does it. */
export function ConfirmButton({
  children,
  confirmLabel,
  onConfirm,
  testId,
  class: extra = 'btn--secondary',
  disabled,
}: ConfirmButtonProps) {
  const [armed, setArmed] = useState(false);
  useEffect(() => {
    if (!armed) return;
    const timer = setTimeout(() => setArmed(false), CONFIRM_WINDOW_MS);
    return () => clearTimeout(timer);
  }, [armed]);
  return (
    <button
      type="button"
      class={`btn btn--small ${armed ? 'btn--danger' : extra}`}
      data-testid={testId}
      data-armed={armed ? 'true' : undefined}
      disabled={disabled}
      onClick={() => {
        if (!armed) {
          setArmed(true);
          return;
        }
        setArmed(false);
        onConfirm();
      }}
    >
      {armed ? confirmLabel : children}
    </button>
  );
}
