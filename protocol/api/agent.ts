import { z } from 'zod';
import { policySchema } from '../policy.ts';

/** What an agent reports about its device when it registers or joins. */
export const agentInfoSchema = z
  .object({
    name: z.string().min(1).max(200),
    version: z.string().min(1).max(50),
    hostname: z.string().max(255).optional(),
    os: z.string().max(100).optional(),
    user: z.string().max(255).optional(),
    screen: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }).optional(),
  })
  .meta({ id: 'AgentInfo' });

/**
 * What a one-shot agent on an enrolled device adds to register and join: the resident agent's
 * current presence proof (protocol/device.ts), which links the session to that device. A proof that
 * is unknown, spent, expired or another organisation's links nothing and refuses nothing.
 */
export const agentPresenceSchema = z.object({
  presence: z.string().max(64).optional().meta({
    description: "The resident agent's presence proof on this machine, read from its presence file",
  }),
});

export type AgentPresence = z.infer<typeof agentPresenceSchema>;

/** `POST /api/agent/register`'s body (user-first flow); a registration key enrols into its group. */
export const agentRegisterSchema = agentInfoSchema
  .and(z.object({ registrationKey: z.string().max(200).optional() }))
  .and(agentPresenceSchema);

/** `POST /api/agent/join`'s body (operator-first flow): the code the operator gave the end user. */
export const agentJoinSchema = agentInfoSchema
  .and(z.object({ code: z.string().min(1).max(64) }))
  .and(agentPresenceSchema);

/** Which session an agent attaches to, how it reaches the relay, and the session's policy. */
export const agentGrantSchema = z.object({
  sessionId: z.string(),
  relay: z.object({ url: z.string(), token: z.string() }),
  policy: policySchema,
  policyToken: z
    .string()
    .meta({ description: 'The effective policy, signed (EdDSA JWT, typ lifeline-agent-policy+jwt)' }),
});

export type AgentGrant = z.infer<typeof agentGrantSchema>;

/** `POST /api/agent/register`: the grant plus the code to read aloud. */
export const agentRegistrationSchema = agentGrantSchema.extend({
  code: z.string(),
  displayCode: z.string(),
  codeExpiresAt: z.string(),
});

export type AgentRegistration = z.infer<typeof agentRegistrationSchema>;
