import { useState } from 'preact/hooks';
import { listOperators } from '../../api/operators.ts';
import { listTokens } from '../../api/tokens.ts';
import type { ApiToken, Identity, NewApiToken, Operator } from '../../api/types.ts';
import { LoadStatus } from '../common/load-status.tsx';
import { PageHeader } from '../common/page-header.tsx';
import { SecretOnce } from '../common/secret-once.tsx';
import { useResource } from '../hooks.ts';
import { CreateTokenForm } from './create-token-form.tsx';
import { TokensTable } from './tokens-table.tsx';

export interface TokensPageProps {
  identity: Identity;
}

/** API tokens for scripts: create one (shown once), see which exist, revoke. Administrators only. */
export function TokensPage({ identity }: TokensPageProps) {
  const resource = useResource(async (): Promise<{ tokens: ApiToken[]; operators: Operator[] }> => {
    const [tokens, operators] = await Promise.all([listTokens(), listOperators().catch(() => [])]);
    return { tokens, operators };
  });
  const [created, setCreated] = useState<NewApiToken | null>(null);

  return (
    <main class="page">
      <PageHeader
        title="API tokens"
        lead={
          <>
            Scripts use the same API as this console, with <code>Authorization: Bearer &lt;token&gt;</code>. A
            token acts for the operator who created it, limited to its scopes; every use is in the audit log.
            See the <a href="/docs">API reference</a>.
          </>
        }
      />
      {created && (
        <SecretOnce
          title={`Token “${created.name}”`}
          value={created.token}
          testId="new-token"
          hint="Store it where the script reads its secrets."
          onDone={() => setCreated(null)}
        />
      )}
      <div class="split split--wide-first">
        <div class="stack">
          <LoadStatus
            error={resource.error}
            loaded={resource.data !== null}
            onRetry={() => void resource.reload()}
          />
          {resource.data && (
            <TokensTable
              tokens={resource.data.tokens}
              operators={resource.data.operators}
              onRevoked={(id) =>
                resource.setData((data) =>
                  data ? { ...data, tokens: data.tokens.filter((token) => token.id !== id) } : data,
                )
              }
            />
          )}
        </div>
        <CreateTokenForm
          onCreated={(token) => {
            setCreated(token);
            const { token: _secret, ...listed } = token;
            resource.setData((data) => (data ? { ...data, tokens: [...data.tokens, listed] } : data));
          }}
        />
      </div>
      <p class="page-footnote">Signed in as {identity.operator.username}; new tokens act for you.</p>
    </main>
  );
}
