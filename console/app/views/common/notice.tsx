import type { ComponentChildren } from 'preact';
import { IconCheck } from '../icons.tsx';

/** A quiet confirmation that something worked (`role=status`). */
export function Notice({ children, testId }: { children: ComponentChildren; testId?: string }) {
  return (
    <div class="notice" role="status" data-testid={testId}>
      <IconCheck size={16} class="notice__icon" />
      <span>{children}</span>
    </div>
  );
}
