import { CAPABILITIES, NO_PERMISSIONS, type Permissions } from '../../protocol/index.ts';

/**
 * What an operator's permission request asks for that the user has not allowed yet, within what the
 * flags and the policy allow (`allowed`, the capped request): only this is put to the user.
 */
export function missingPermissions(allowed: Permissions, current: Permissions): Permissions {
  const missing = { ...NO_PERMISSIONS };
  for (const capability of CAPABILITIES) missing[capability] = allowed[capability] && !current[capability];
  return missing;
}

/** Whether any capability is set. */
export function anyPermission(permissions: Permissions): boolean {
  return CAPABILITIES.some((capability) => permissions[capability]);
}

/** `current` with what the user granted of `missing` added; nothing else changes. */
export function withGranted(current: Permissions, missing: Permissions, granted: Permissions): Permissions {
  const next = { ...current };
  for (const capability of CAPABILITIES) {
    if (missing[capability] && granted[capability]) next[capability] = true;
  }
  return next;
}
