import type { ComponentChildren } from 'preact';

export interface IconButtonProps {
  /** What the button does: its tooltip and its name for assistive technology. */
  label: string;
  /** The icon. */
  children: ComponentChildren;
  testId?: string;
  disabled?: boolean;
  onClick(): void;
}

/** A button drawn as its icon alone (`icon-btn`), named by `label`. */
export function IconButton({ label, children, testId, disabled, onClick }: IconButtonProps) {
  return (
    <button
      type="button"
      class="icon-btn"
      data-testid={testId}
      title={label}
      aria-label={label}
      disabled={disabled}
      onClick={onClick}
    >
      {children}
    </button>
  );
}
