import { SCOPES, type Scope } from '../../protocol/scopes.ts';
import type { Role } from '../db/schema.ts';
import type { Principal } from '../http/app-env.ts';

export { SCOPES, type Scope };

/**
 * The scopes each role holds. Administrators manage everything; managers hold every scope but `admin`
 * and switch features on for their organisation's groups; technicians (help desk) run sessions;
 * auditors read sessions and audit events and never reach a device.
 */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  admin: SCOPES,
  manager: SCOPES.filter((scope) => scope !== 'admin'),
  technician: ['sessions:read', 'sessions:write', 'exec', 'files', 'groups:read', 'devices:read'],
  auditor: ['sessions:read', 'audit:read', 'groups:read', 'devices:read'],
};

/** True when the principal's role, and for tokens the token's scopes, include `scope`. */
export function hasScope(principal: Principal, scope: Scope): boolean {
  if (!ROLE_SCOPES[principal.operator.role].includes(scope)) return false;
  return (
    principal.kind === 'operator' || principal.scopes.includes(scope) || principal.scopes.includes('admin')
  );
}

/**
 * The organisation whose records the principal may see, or `undefined` for all of them: administrators
 * see every organisation, everyone else only their own.
 */
export function organisationScope(principal: Principal): string | undefined {
  return principal.operator.role === 'admin' ? undefined : principal.operator.organisationId;
}

/** Whether a record of `organisationId` is visible to the principal. */
export function canSeeOrganisation(principal: Principal, organisationId: string | null): boolean {
  const scope = organisationScope(principal);
  return scope === undefined || scope === organisationId;
}
