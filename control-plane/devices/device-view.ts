import { z } from '../http/openapi.ts';
import { DEVICE_STATUSES, type DeviceRow, deviceStatus } from './device-store.ts';

export const deviceSchema = z
  .object({
    id: z.string(),
    organisationId: z.string(),
    groupId: z.string(),
    status: z.enum(DEVICE_STATUSES),
    lastSeenAt: z.string().nullable().openapi({ description: 'When the device was last heard from' }),
    enrolledAt: z.string(),
    removedAt: z.string().nullable(),
    removal: z.enum(['uninstalled', 'forgotten']).nullable(),
    reported: z
      .object({
        hostname: z.string(),
        os: z.string().nullable(),
        consoleUser: z.string().nullable(),
        agentVersion: z.string().nullable(),
      })
      .openapi({
        description:
          'What the device says about itself, unverified; control and bidirectional characters are replaced with U+FFFD',
      }),
  })
  .openapi('Device');

/** A device as the API shows it; `lastHeard` is the hub's word for a device online here. */
export function deviceView(row: DeviceRow, lastHeard: Date | undefined) {
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
