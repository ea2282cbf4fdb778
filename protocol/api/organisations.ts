import { z } from 'zod';

export const organisationSchema = z
  .object({ id: z.string(), name: z.string(), createdAt: z.string() })
  .meta({ id: 'Organisation' });

export type Organisation = z.infer<typeof organisationSchema>;

/** `POST /api/organisations`'s body. */
export const createOrganisationSchema = z.object({ name: z.string().min(1).max(200) });
