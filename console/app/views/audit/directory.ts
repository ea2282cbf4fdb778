import type { DeviceGroup, Operator, Organisation } from '../../api/types.ts';

/** What the audit log can name instead of showing ids; each list may be empty (not readable). */
export interface Directory {
  operators: Operator[];
  groups: DeviceGroup[];
  organisations: Organisation[];
}

export const EMPTY_DIRECTORY: Directory = { operators: [], groups: [], organisations: [] };

/** The name behind an id in an event's details (`groupId` → the group's name), or undefined. */
export function nameFor(key: string, value: unknown, directory: Directory): string | undefined {
  if (typeof value !== 'string') return undefined;
  switch (key) {
    case 'operatorId':
      return directory.operators.find((operator) => operator.id === value)?.username;
    case 'groupId':
    case 'deviceGroupId':
      return directory.groups.find((group) => group.id === value)?.name;
    case 'organisationId':
      return directory.organisations.find((organisation) => organisation.id === value)?.name;
    default:
      return undefined;
  }
}
