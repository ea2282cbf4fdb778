import type { ComponentChildren, TargetedSubmitEvent } from 'preact';

export interface FilterBarProps {
  /** `data-testid` of the form and of its Apply button. */
  testId: string;
  applyTestId: string;
  /** Whether a filter is in force: Clear is enabled only then. */
  filtered: boolean;
  onApply(): void;
  onClear(): void;
  /** The fields. */
  children: ComponentChildren;
}

/** The filter form above a paged list: its fields, then Apply and Clear. */
export function FilterBar({ testId, applyTestId, filtered, onApply, onClear, children }: FilterBarProps) {
  const submit = (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    onApply();
  };
  return (
    <form class="card filter-bar" onSubmit={submit} noValidate data-testid={testId}>
      {children}
      <div class="filter-bar__actions">
        <button type="submit" class="btn btn--primary" data-testid={applyTestId}>
          Apply
        </button>
        <button type="button" class="btn btn--secondary" onClick={onClear} disabled={!filtered}>
          Clear
        </button>
      </div>
    </form>
  );
}
