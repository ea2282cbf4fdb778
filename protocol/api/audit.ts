import { z } from 'zod';

/** One audit event: who did what, to which session, from where. */
export const auditEventSchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actorType: z.string(),
    actorId: z.string().nullable(),
    action: z.string(),
    sessionId: z.string().nullable(),
    organisationId: z.string().nullable(),
    address: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'AuditEvent' });

export type AuditEvent = z.infer<typeof auditEventSchema>;
