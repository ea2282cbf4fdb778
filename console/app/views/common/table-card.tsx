import type { ComponentChildren } from 'preact';

export interface TableCardProps {
  /** Names the card for assistive technology. */
  label?: string;
  testId: string;
  /** The column heads; a `false` one is left out (a column shown only sometimes). */
  heads: ReadonlyArray<string | false>;
  /** Adds the Actions column at the end. */
  actions?: boolean;
  /** Rows aligned to their top, for cells of several lines. */
  top?: boolean;
  /** A line above the table (a note, an error). */
  banner?: ComponentChildren;
  /** The rows. */
  children: ComponentChildren;
}

/** A table of records in a card: its heads, an optional Actions column, and its rows. */
export function TableCard({ label, testId, heads, actions, top, banner, children }: TableCardProps) {
  return (
    <section class="card table-card" aria-label={label}>
      {banner}
      <table class={top ? 'table table--top' : 'table'} data-testid={testId}>
        <thead>
          <tr>
            {heads.map((head) => head !== false && <th key={head}>{head}</th>)}
            {actions && <th class="table__actions-head">Actions</th>}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </section>
  );
}

/** API scopes in a row, each set as code. */
export function ScopeList({ scopes }: { scopes: readonly string[] }) {
  return (
    <span class="scope-list">
      {scopes.map((scope) => (
        <code key={scope} class="scope">
          {scope}
        </code>
      ))}
    </span>
  );
}
