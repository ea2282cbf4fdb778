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

/** `POST /api/agent/register`'s body (user-first flow); a registration key enrols into its group. */
export const agentRegisterSchema = agentInfoSchema.and(
  z.object({ registrationKey: z.string().max(200).optional() }),
);

/** `POST /api/agent/join`'s body (operator-first flow): the code the operator gave the end user. */
export const agentJoinSchema = agentInfoSchema.and(z.object({ code: z.string().min(1).max(64) }));

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
