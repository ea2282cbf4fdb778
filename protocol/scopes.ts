/**
 * What an API token may be limited to. Shared by the server (which checks them) and the console
 * (which offers them), so the two lists cannot drift apart.
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
  'devices:read',
  'devices:write',
  'admin',
] as const;

export type Scope = (typeof SCOPES)[number];
