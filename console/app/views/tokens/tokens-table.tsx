import { useState } from 'preact/hooks';
import { errorText } from '../../api/client.ts';
import { revokeToken } from '../../api/tokens.ts';
import type { ApiToken, Operator } from '../../api/types.ts';
import { formatDate, formatDateTime } from '../../format/time.ts';
import { ConfirmButton } from '../common/confirm-button.tsx';
import { ScopeList, TableCard } from '../common/table-card.tsx';
import { ErrorBanner } from '../error-banner.tsx';
import { IconKey } from '../icons.tsx';

export interface TokensTableProps {
  tokens: ApiToken[];
  operators: Operator[];
  onRevoked(id: string): void;
}

function ownerName(id: string, operators: Operator[]): string {
  return operators.find((operator) => operator.id === id)?.username ?? id.slice(0, 8);
}

/** Tokens that still work, newest first, each with Revoke. */
export function TokensTable({ tokens, operators, onRevoked }: TokensTableProps) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const sorted = [...tokens].sort((a, b) => b.createdAt.localeCompare(a.createdAt));

  const revoke = async (id: string) => {
    setBusy(id);
    setError(null);
    try {
      await revokeToken(id);
      onRevoked(id);
    } catch (caught) {
      setError(errorText(caught, 'The token could not be revoked.'));
    } finally {
      setBusy(null);
    }
  };

  if (sorted.length === 0) {
    return (
      <section class="card">
        <div class="empty">
          <IconKey size={28} class="empty__icon" />
          <p>No API tokens.</p>
          <p class="empty__hint">Create one for each script, with only the scopes it needs.</p>
        </div>
      </section>
    );
  }
  return (
    <TableCard
      label="API tokens"
      testId="tokens"
      heads={['Name', 'Scopes', 'Owner', 'Expires', 'Last used']}
      actions
      banner={
        error && (
          <div class="table-card__banner">
            <ErrorBanner message={error} />
          </div>
        )
      }
    >
      {sorted.map((token) => (
        <tr key={token.id} data-testid="token-row" data-name={token.name}>
          <td>
            <div class="cell-title">{token.name}</div>
            <div class="cell-sub cell-nowrap">created {formatDate(token.createdAt)}</div>
          </td>
          <td>
            <ScopeList scopes={token.scopes} />
          </td>
          <td>{ownerName(token.operatorId, operators)}</td>
          <td class="cell-nowrap">{token.expiresAt ? formatDate(token.expiresAt) : 'never'}</td>
          <td class="cell-nowrap">{token.lastUsedAt ? formatDateTime(token.lastUsedAt) : 'never'}</td>
          <td class="table__actions">
            <ConfirmButton
              testId="revoke-token"
              confirmLabel="Revoke now?"
              disabled={busy !== null}
              onConfirm={() => void revoke(token.id)}
            >
              {busy === token.id ? 'Revoking…' : 'Revoke'}
            </ConfirmButton>
          </td>
        </tr>
      ))}
    </TableCard>
  );
}
