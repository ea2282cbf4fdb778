import type { ComponentChildren } from 'preact';

export interface PageHeaderProps {
  title: string;
  lead?: ComponentChildren;
  actions?: ComponentChildren;
}

/** The title block on top of an administration page. */
export function PageHeader({ title, lead, actions }: PageHeaderProps) {
  return (
    <header class="page-header">
      <div>
        <h1 class="page-header__title">{title}</h1>
        {lead && <p class="page-header__lead">{lead}</p>}
      </div>
      {actions && <div class="page-header__actions">{actions}</div>}
    </header>
  );
}
