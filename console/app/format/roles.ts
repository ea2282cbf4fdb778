import { ROLES, type Role } from '../../../protocol/index.ts';

export { ROLES };

const ROLE_LABELS: Record<Role, string> = {
  admin: 'Administrator',
  manager: 'Manager',
  technician: 'Technician',
  auditor: 'Auditor',
};

const ROLE_HINTS: Record<Role, string> = {
  admin: 'Everything: operators, organisations, groups, policies and API tokens',
  manager: "Switches features on for their organisation's groups; runs sessions",
  technician: 'Help desk: runs sessions',
  auditor: 'Reads sessions and the audit log; never reaches a device',
};

export function roleLabel(role: string): string {
  return ROLE_LABELS[role as Role] ?? role;
}

export function roleHint(role: string): string {
  return ROLE_HINTS[role as Role] ?? '';
}
