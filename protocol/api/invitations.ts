import { z } from 'zod';
import { invitationOfHash } from '../console-link.ts';
import { agentGrantSchema, agentInfoSchema } from './agent.ts';

/** Fewest characters of an invitation's password; the user tells it to the helper separately. */
export const INVITATION_PASSWORD_MIN_CHARS = 8;
/** Most characters of an invitation's password (scrypt hashes it; a bound keeps that cheap). */
export const INVITATION_PASSWORD_MAX_CHARS = 200;

const invitationPassword = z.string().min(INVITATION_PASSWORD_MIN_CHARS).max(INVITATION_PASSWORD_MAX_CHARS);

/**
 * `POST /api/agent/invitations`'s body: the device, the expiry the end user chose (within the policy's
 * `invitationMaxMinutes`) and the password they set. The password travels only in this body over the
 * agent's connection and is stored as a slow hash.
 */
export const agentInvitationRequestSchema = agentInfoSchema.and(
  z.object({
    registrationKey: z.string().max(200).optional(),
    expiresInMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60),
    password: invitationPassword,
  }),
);

export type AgentInvitationRequest = z.infer<typeof agentInvitationRequestSchema>;

/** The answer: the session's grant, the link for the helper, and when it stops working. */
export const agentInvitationSchema = agentGrantSchema.extend({
  invitationId: z.string(),
  /** Opens the invitation in the console; it carries no secret (the password does not travel in it). */
  link: z.string(),
  expiresAt: z.string(),
});

export type AgentInvitation = z.infer<typeof agentInvitationSchema>;

/** `POST /api/invitations/{id}/open`'s body: the password the end user told the helper. */
export const openInvitationSchema = z.object({
  password: z.string().min(1).max(INVITATION_PASSWORD_MAX_CHARS),
});

/** `GET /api/invitations/{id}`: what a helper sees before they type the password. */
export const invitationStatusSchema = z
  .object({
    id: z.string(),
    status: z.enum(['open', 'expired', 'used']),
    expiresAt: z.string(),
  })
  .meta({ id: 'InvitationStatus' });

export type InvitationStatus = z.infer<typeof invitationStatusSchema>;

/** The small file an end user may send instead of the link (`--invitation-file`). */
export const invitationFileSchema = z.object({
  lifeline: z.literal('invitation'),
  version: z.literal(1),
  link: z.string(),
  expiresAt: z.string(),
});

export type InvitationFile = z.infer<typeof invitationFileSchema>;

/** The most bytes an invitation file may have; the agent writes about 200. */
export const INVITATION_FILE_MAX_BYTES = 4096;

/** What an invitation file names: the console it is for and the invitation; or why it is not one. */
export type ReadInvitationFile =
  | { ok: true; origin: string; invitationId: string; expiresAt: Date }
  | { ok: false; problem: string };

/**
 * Reads an invitation file (`--invitation-file`) as the helper's console receives it. Its link must be
 * a console link (`<origin>/#/sessions?invitation=<id>`, protocol/console-link.ts); the caller checks
 * the origin is its own.
 */
export function readInvitationFile(text: string): ReadInvitationFile {
  const notOne = { ok: false, problem: 'This file is not a Lifeline invitation.' } as const;
  if (text.length > INVITATION_FILE_MAX_BYTES) return notOne;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return notOne;
  }
  const file = invitationFileSchema.safeParse(json);
  if (!file.success || !URL.canParse(file.data.link)) return notOne;
  const link = new URL(file.data.link);
  const invitationId = invitationOfHash(link.hash);
  const expiresAt = new Date(file.data.expiresAt);
  if (!invitationId || Number.isNaN(expiresAt.getTime())) return notOne;
  return { ok: true, origin: link.origin, invitationId, expiresAt };
}
