import type { Role } from '../db/schema.ts';
import type { Principal } from '../http/app-env.ts';

/** What an API token may be limited to. Tokens carry a subset; their owner's role still applies. */
export const SCOPES = ['sessions:read', 'sessions:write', 'exec', 'files', 'audit:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** The scopes each role holds. Auditors read; only administrators administer. */
const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  admin: SCOPES,
  manager: ['sessions:read', 'sessions:write', 'exec', 'files', 'audit:read'],
  technician: ['sessions:read', 'sessions:write', 'exec', 'files'],
  auditor: ['sessions:read', 'audit:read'],
};

/** True when the principal's role, and for tokens the token's scopes, include `scope`. */
export function hasScope(principal: Principal, scope: Scope): boolean {
  if (!ROLE_SCOPES[principal.operator.role].includes(scope)) return false;
  return principal.kind === 'operator' || principal.scopes.includes(scope);
}

export function scopesOfRole(role: Role): readonly Scope[] {
  return ROLE_SCOPES[role];
}
