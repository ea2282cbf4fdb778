import type { ComponentChildren } from 'preact';
import { ErrorBanner } from '../error-banner.tsx';
import { IconPlus } from '../icons.tsx';
import { BusyButton } from './fields.tsx';

export interface CreateFormProps {
  title: string;
  /** The title's id, which names the card. */
  titleId: string;
  testId: string;
  /** The submit button: its text, its text while the request runs, and its `data-testid`. */
  submit: { label: string; busyLabel: string; testId: string };
  busy: boolean;
  error: string | null;
  /** Called on submit (Enter or the button), never while `busy`. */
  onSubmit(): void;
  /** The fields. */
  children: ComponentChildren;
}

/**
 * A card with a form that creates something (an operator, a token): its fields, the error, and the
 * submit button that says so while the request runs.
 */
export function CreateForm({
  title,
  titleId,
  testId,
  submit,
  busy,
  error,
  onSubmit,
  children,
}: CreateFormProps) {
  return (
    <section class="card" aria-labelledby={titleId}>
      <h2 id={titleId} class="section-title">
        {title}
      </h2>
      <form
        class="form"
        onSubmit={(event) => {
          event.preventDefault();
          if (!busy) onSubmit();
        }}
        noValidate
        data-testid={testId}
      >
        {children}
        {error && <ErrorBanner message={error} />}
        <div class="form-actions">
          <BusyButton
            type="submit"
            busy={busy}
            busyLabel={submit.busyLabel}
            icon={<IconPlus size={15} />}
            testId={submit.testId}
          >
            {submit.label}
          </BusyButton>
        </div>
      </form>
    </section>
  );
}
