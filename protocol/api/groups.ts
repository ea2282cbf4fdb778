import { z } from 'zod';
import { policySchema } from '../policy.ts';

/** A device group and the policy its sessions get. */
export const deviceGroupSchema = z
  .object({
    id: z.string(),
    organisationId: z.string(),
    name: z.string(),
    isDefault: z.boolean(),
    hasRegistrationKey: z.boolean(),
    policy: policySchema,
    createdAt: z.string(),
  })
  .meta({ id: 'DeviceGroup' });

export type DeviceGroup = z.infer<typeof deviceGroupSchema>;

/** `POST /api/groups`'s body; the policy starts from the defaults without one. */
export const createGroupSchema = z.object({
  name: z.string().min(1).max(200),
  organisationId: z.string().max(64).optional(),
  policy: policySchema.optional(),
});

/** `PATCH /api/groups/{id}`'s body. */
export const renameGroupSchema = z.object({ name: z.string().min(1).max(200) });

/** `POST /api/groups/{id}/registration-key`: the new key, shown once. */
export const registrationKeySchema = z.object({ registrationKey: z.string() });
