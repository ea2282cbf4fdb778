/**
 * What an API token may be limited to, as `POST /api/tokens` accepts them (a test compares this list
 * with the OpenAPI document). A signed-in operator's scopes come from their role.
 */
export const SCOPES = [
  'sessions:read',
  'sessions:write',
  'exec',
  'files',
  'audit:read',
  'groups:read',
  'groups:write',
  'operators:read',
  'admin',
] as const;

export type Scope = (typeof SCOPES)[number];

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
  admin: 'Everything, including operators and tokens',
};

/** Whether the signed-in operator holds a scope. */
export function can(scopes: readonly string[], scope: Scope): boolean {
  return scopes.includes(scope);
}
