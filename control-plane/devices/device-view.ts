import type { Device } from '../../protocol/api/devices.ts';
import { type DeviceRow, deviceStatus } from './device-store.ts';

export { deviceSchema } from '../../protocol/api/devices.ts';

/** A device as the API shows it; `lastHeard` is the hub's word for a device online here. */
export function deviceView(row: DeviceRow, lastHeard: Date | undefined): Device {
  const status = deviceStatus(row);
  const lastSeen = status === 'online' && lastHeard ? lastHeard : row.lastSeenAt;
  return {
    id: row.id,
    organisationId: row.organisationId,
    groupId: row.deviceGroupId,
    status,
    lastSeenAt: lastSeen?.toISOString() ?? null,
    enrolledAt: row.createdAt.toISOString(),
    removedAt: row.removedAt?.toISOString() ?? null,
    removal: row.removal,
    reported: {
      hostname: row.hostname,
      os: row.os,
      consoleUser: row.consoleUser,
      agentVersion: row.agentVersion,
    },
  };
}
