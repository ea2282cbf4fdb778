import { hashOf, mayOpen, PAGE_INFO, type Page } from '../navigation.ts';

export interface AppNavProps {
  scopes: readonly string[];
  current: Page;
  onNavigate(page: Page): void;
}

/** The pages this operator's role may open (`nav-<page>`); Account is the operator's name. */
export function AppNav({ scopes, current, onNavigate }: AppNavProps) {
  const pages = PAGE_INFO.filter((info) => info.page !== 'account' && mayOpen(info.page, scopes));
  return (
    <nav class="app-nav" aria-label="Console">
      {pages.map(({ page, label }) => (
        <a
          key={page}
          href={hashOf({ page, params: {} }) || '#/'}
          class={`app-nav__item${page === current ? ' app-nav__item--current' : ''}`}
          aria-current={page === current ? 'page' : undefined}
          data-testid={`nav-${page}`}
          onClick={(event) => {
            event.preventDefault();
            onNavigate(page);
          }}
        >
          {label}
        </a>
      ))}
    </nav>
  );
}
