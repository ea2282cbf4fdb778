import { useState } from 'preact/hooks';
import { updateOperator } from '../../api/operators.ts';
import type { Operator, Role } from '../../api/types.ts';
import { ROLES, roleLabel } from '../../format/roles.ts';
import { ConfirmButton } from '../common/confirm-button.tsx';
import { ErrorBanner } from '../error-banner.tsx';
import { useAction } from '../hooks.ts';
import { PasswordReset } from './password-reset.tsx';

export interface OperatorRowProps {
  operator: Operator;
  organisation: string;
  isSelf: boolean;
  canManage: boolean;
  onChanged(operator: Operator, message: string): void;
}

/** One operator: role (a choice for administrators), status, and Reset password / Disable. */
export function OperatorRow({ operator, organisation, isSelf, canManage, onChanged }: OperatorRowProps) {
  const { busy, error, setError, run } = useAction();
  const [resetting, setResetting] = useState(false);

  const change = async (patch: { role?: Role; disabled?: boolean }, message: string) => {
    await run(async () => {
      onChanged(await updateOperator(operator.id, patch), message);
    }, 'The change was refused.');
  };

  const editable = canManage && !isSelf;
  const columns = canManage ? 6 : 5;
  return (
    <>
      <tr
        class={operator.disabled ? 'table__row--muted' : undefined}
        data-testid="operator-row"
        data-username={operator.username}
      >
        <td>
          <div class="cell-title">
            {operator.name}
            {isSelf && <span class="tag">You</span>}
          </div>
          <div class="cell-sub">{operator.username}</div>
        </td>
        <td>
          {editable ? (
            <select
              class="input select input--compact"
              aria-label={`Role of ${operator.name}`}
              data-testid="operator-role"
              value={operator.role}
              disabled={busy}
              onChange={(event) => {
                const role = event.currentTarget.value as Role;
                void change(
                  { role },
                  `${operator.name} is now ${roleLabel(role).toLowerCase()} and was signed out.`,
                );
              }}
            >
              {ROLES.map((role) => (
                <option key={role} value={role}>
                  {roleLabel(role)}
                </option>
              ))}
            </select>
          ) : (
            <span data-testid="operator-role-text">{roleLabel(operator.role)}</span>
          )}
        </td>
        <td>{organisation}</td>
        <td>
          <span class={`status-pill ${operator.totpEnabled ? 'status-pill--active' : 'status-pill--ended'}`}>
            {operator.totpEnabled ? 'On' : 'Off'}
          </span>
        </td>
        <td>
          <span
            class={`status-pill ${operator.disabled ? 'status-pill--ended' : 'status-pill--active'}`}
            data-testid="operator-status"
          >
            {operator.disabled ? 'Disabled' : 'Active'}
          </span>
        </td>
        {canManage && (
          <td class="table__actions">
            {editable && (
              <>
                <button
                  type="button"
                  class="btn btn--ghost btn--small"
                  data-testid="operator-reset-password"
                  aria-expanded={resetting}
                  disabled={busy}
                  onClick={() => setResetting(!resetting)}
                >
                  Reset password
                </button>
                {operator.disabled ? (
                  <button
                    type="button"
                    class="btn btn--secondary btn--small"
                    data-testid="operator-toggle-disabled"
                    disabled={busy}
                    onClick={() => void change({ disabled: false }, `${operator.name} can sign in again.`)}
                  >
                    Enable
                  </button>
                ) : (
                  <ConfirmButton
                    testId="operator-toggle-disabled"
                    confirmLabel="Disable and sign out?"
                    disabled={busy}
                    onConfirm={() =>
                      void change(
                        { disabled: true },
                        `${operator.name} is disabled and was signed out everywhere.`,
                      )
                    }
                  >
                    Disable
                  </ConfirmButton>
                )}
              </>
            )}
          </td>
        )}
      </tr>
      {(resetting || error) && (
        <tr class="table__subrow">
          <td colSpan={columns}>
            {resetting && (
              <PasswordReset
                operator={operator}
                onDone={(updated) => {
                  setResetting(false);
                  onChanged(updated, `${operator.name}'s password was changed and they were signed out.`);
                }}
                onCancel={() => setResetting(false)}
              />
            )}
            {error && <ErrorBanner message={error} onRetry={() => setError(null)} retryLabel="Dismiss" />}
          </td>
        </tr>
      )}
    </>
  );
}
