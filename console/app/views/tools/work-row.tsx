import type { ComponentChildren, ComponentType } from 'preact';

export interface WorkRowBodyProps {
  icon: ComponentType<{ size: number; class: string }>;
  name: string;
  /** The name's tooltip (the whole path, the item under way). */
  nameTitle: string | undefined;
  /** The row's buttons. */
  actions: ComponentChildren;
  /** How far it got, 0 to 100. */
  percent: number;
  line: string;
  lineTestId: string;
  /** Announces the line (a failure). */
  alert?: boolean;
}

/** The inside of a row of file work (a transfer, a whole action): its name and buttons, its bar and its line. */
export function WorkRowBody({
  icon: Icon,
  name,
  nameTitle,
  actions,
  percent,
  line,
  lineTestId,
  alert,
}: WorkRowBodyProps) {
  return (
    <>
      <div class="transfer__head">
        <Icon size={14} class="transfer__icon" />
        <span class="transfer__name" title={nameTitle}>
          {name}
        </span>
        <span class="transfer__actions">{actions}</span>
      </div>
      <progress class="transfer__bar" max={100} value={percent} aria-label={`${name}: ${percent}%`} />
      <div class="transfer__line" data-testid={lineTestId} role={alert ? 'alert' : undefined}>
        {line}
      </div>
    </>
  );
}
