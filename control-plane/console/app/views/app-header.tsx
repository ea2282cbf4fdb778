import type { Operator } from '../api/types.ts';
import { IconLogOut, LogoMark } from './icons.tsx';

export interface AppHeaderProps {
  operator: Operator;
  onSignOut(): void;
}

function initials(name: string): string {
  const letters = name
    .split(/\s+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() ?? '');
  return (letters.length > 1 ? `${letters[0]}${letters.at(-1)}` : (letters[0] ?? '?')).slice(0, 2);
}

/** The dark bar on top of every signed-in page. */
export function AppHeader({ operator, onSignOut }: AppHeaderProps) {
  return (
    <header class="app-header">
      <div class="app-header__brand">
        <LogoMark size={26} />
        <span class="app-header__product">Lifeline</span>
        <span class="app-header__divider" aria-hidden="true" />
        <span class="app-header__section">Operator console</span>
      </div>
      <div class="app-header__operator">
        <span class="avatar" aria-hidden="true">
          {initials(operator.name || operator.username)}
        </span>
        <div class="app-header__who">
          <div class="app-header__name" data-testid="operator-name">
            {operator.name || operator.username}
          </div>
          <div class="app-header__role">{operator.role}</div>
        </div>
        <button type="button" class="btn btn--dark btn--small" onClick={onSignOut} data-testid="sign-out">
          <IconLogOut size={15} /> Sign out
        </button>
      </div>
    </header>
  );
}
