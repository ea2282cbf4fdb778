import type { DeviceGroup, Organisation } from '../api/types.ts';

/** An organisation's name, or a short id when the list does not have it. */
export function organisationName(
  id: string | null | undefined,
  organisations: readonly Organisation[],
): string {
  if (!id) return '—';
  return organisations.find((organisation) => organisation.id === id)?.name ?? id.slice(0, 8);
}

/** Whether the group's own name already says it is the default one. */
export function isNamedDefault(group: DeviceGroup): boolean {
  return group.name.trim().toLowerCase() === 'default';
}

/**
 * A device group as a choice in a list: `Default (default)`, prefixed with its organisation when
 * the operator sees more than one.
 */
export function groupLabel(group: DeviceGroup, organisations: readonly Organisation[]): string {
  const name = group.isDefault && !isNamedDefault(group) ? `${group.name} (default)` : group.name;
  return organisations.length > 1
    ? `${organisationName(group.organisationId, organisations)} · ${name}`
    : name;
}

const PLATFORM_LABELS: Record<string, string> = {
  'linux-x64': 'Linux (64-bit)',
  'win-x64': 'Windows (64-bit)',
  'darwin-arm64': 'macOS (Apple silicon)',
  'darwin-x64': 'macOS (Intel)',
};

/** A download platform in words. */
export function platformLabel(platform: string): string {
  return PLATFORM_LABELS[platform] ?? platform;
}
