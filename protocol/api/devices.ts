import { z } from 'zod';

/** Where a device stands: connected to the hub now, enrolled but silent, or uninstalled/forgotten. */
export const DEVICE_STATUSES = ['online', 'offline', 'removed'] as const;

export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/** An enrolled device running the resident agent; `reported` is what the device says, unverified. */
export const deviceSchema = z
  .object({
    id: z.string(),
    organisationId: z.string(),
    groupId: z.string(),
    status: z.enum(DEVICE_STATUSES),
    lastSeenAt: z.string().nullable().meta({ description: 'When the device was last heard from' }),
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
      .meta({
        description:
          'What the device says about itself, unverified; control and bidirectional characters are replaced with U+FFFD',
      }),
  })
  .meta({ id: 'Device' });

export type Device = z.infer<typeof deviceSchema>;

/**
 * Whether a device says it runs Windows (its reported `os`, `win32 10.0.…`): which services names
 * the API accepts for it and whether the console offers the registry editor. The device checks
 * every order against its own platform again: a device that lies gains nothing.
 */
export function deviceIsWindows(os: string | null | undefined): boolean {
  return /^win32\b|^windows\b/i.test(os ?? '');
}

/**
 * Whose shells, files and screen a session on a device has, as the device said when its session
 * host started: the user logged in at its console, or the service's own user (root) where the
 * group's policy grants the operator elevation. Reported by the device, unverified.
 */
export const runsAsSchema = z
  .object({
    user: z.string(),
    elevated: z.boolean().meta({ description: "Whether it is the resident service's own user (root)" }),
  })
  .meta({ id: 'RunsAs' });

export type RunsAs = z.infer<typeof runsAsSchema>;
