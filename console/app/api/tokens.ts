import { apiRequest } from './client.ts';
import { ROUTES } from './routes.ts';
import type { Scope } from './scopes.ts';
import type { ApiToken, NewApiToken, Page } from './types.ts';

export async function listTokens(): Promise<ApiToken[]> {
  return (await apiRequest<Page<ApiToken>>(ROUTES.listTokens)).items;
}

/** Creates a token for a script; the answer carries the secret, which is never shown again. */
export function createToken(name: string, scopes: Scope[], expiresInDays: number): Promise<NewApiToken> {
  return apiRequest(ROUTES.createToken, { body: { name, scopes, expiresInDays }, idempotent: true });
}

export async function revokeToken(id: string): Promise<void> {
  await apiRequest<void>(ROUTES.revokeToken, { params: { id } });
}
