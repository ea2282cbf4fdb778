import { NO_PERMISSIONS, type Permissions } from '../../protocol/index.ts';

/**
 * Permissions with only the named capabilities on and every other one off, so a test names what it
 * allows and a new capability does not make every test spell out all of them again.
 * @example
 * const VIEW_ONLY = permissionsWith({ view: true, chat: true });
 */
export function permissionsWith(allowed: Partial<Permissions>): Permissions {
  return { ...NO_PERMISSIONS, ...allowed };
}
