import type { Operator } from '../api/types.ts';
import type { Page } from '../navigation.ts';
import { AppNav } from './app-nav.tsx';
import { IconLogOut, LogoMark } from './icons.tsx';

export interface AppHeaderProps {
  operator: Operator;
  scopes: readonly string[];
  /** The page to mark as current. */
  current: Page;
  onNavigate(page: Page): void;
  onSignOut(): void;
}

function initials(name: string): string {
  const letters = name
    .split(/\s+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() ?? '');
  return (letters.length > 1 ? `${letters[0]}${letters.at(-1)}` : (letters[0] ?? '?')).slice(0, 2);
}

/** The dark bar on top of every signed-in page: the product, the navigation and the operator. */
export function AppHeader({ operator, scopes, current, onNavigate, onSignOut }: AppHeaderProps) {
  return (
    <header class="app-header">
      <div class="app-header__brand">
        <LogoMark size={26} />
        <span class="app-header__product">Lifeline</span>
      </div>
      <AppNav scopes={scopes} current={current} onNavigate={onNavigate} />
      <div class="app-header__operator">
        <button
          type="button"
          class={`app-header__account${current === 'account' ? ' app-header__account--current' : ''}`}
          data-testid="nav-account"
          title="Your account and second factor"
          aria-current={current === 'account' ? 'page' : undefined}
          onClick={() => onNavigate('account')}
        >
          <span class="avatar" aria-hidden="true">
            {initials(operator.name || operator.username)}
          </span>
          <span class="app-header__who">
            <span class="app-header__name" data-testid="operator-name">
              {operator.name || operator.username}
            </span>
            <span class="app-header__role">{operator.role}</span>
          </span>
        </button>
        <button type="button" class="btn btn--dark btn--small" onClick={onSignOut} data-testid="sign-out">
          <IconLogOut size={15} /> Sign out
        </button>
      </div>
    </header>
  );
}
