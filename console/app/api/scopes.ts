import { SCOPES, type Scope } from '../../../protocol/scopes.ts';

/** The token scopes `POST /api/tokens` accepts (a test compares them with the OpenAPI document). */
export { SCOPES, type Scope };

/** What each scope lets a script do, for the token form. */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'sessions:read': 'List and watch sessions',
  'sessions:write': 'Create, join and end sessions',
  exec: 'Run commands on devices',
  files: 'Upload and download files',
  'audit:read': 'Read the audit log',
  'groups:read': 'Read device groups and policies',
  'groups:write': 'Change device groups and policies',
  'operators:read': 'List operators',
  'devices:read': 'List enrolled devices and whether they are online',
  'devices:write': 'Forget enrolled devices',
  admin: 'Everything, including operators and tokens',
};

/** Whether the signed-in operator holds a scope. */
export function can(scopes: readonly string[], scope: Scope): boolean {
  return scopes.includes(scope);
}
