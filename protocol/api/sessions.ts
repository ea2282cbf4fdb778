import { z } from 'zod';
import { SESSION_ACCESS } from '../device-orders.ts';
import { policySchema } from '../policy.ts';

/** A session waits for its peers, is active once operator and agent met, and ends once. */
export const SESSION_STATUSES = ['waiting', 'active', 'ended'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** What the device reported about itself when it registered or joined. */
export const sessionAgentSchema = z.object({
  name: z.string(),
  version: z.string(),
  hostname: z.string().optional(),
  os: z.string().optional(),
  user: z.string().optional(),
  screen: z.object({ width: z.number(), height: z.number() }).optional(),
});

export type SessionAgent = z.infer<typeof sessionAgentSchema>;

/** A session as the HTTP API shows it. */
export const sessionSchema = z
  .object({
    id: z.string(),
    status: z.enum(SESSION_STATUSES),
    createdAt: z.string(),
    activatedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    endReason: z.string().nullable(),
    /** When the session's unused code stops working; null once it was used. */
    codeExpiresAt: z.string().nullable(),
    agent: sessionAgentSchema.nullable(),
    /** The agent reached the control plane and its socket is there now. */
    agentConnected: z.boolean(),
    operatorId: z.string().nullable(),
    organisationId: z.string().nullable(),
    deviceGroupId: z.string().nullable(),
    /** Who started it: the end user's agent (user-first) or an operator (operator-first). */
    initiator: z.enum(['agent', 'operator']),
    policy: policySchema.nullable(),
    /** The resident device the session was opened on by an order, if it was. */
    deviceId: z.string().nullable().optional(),
    /** `background`: shell and files without screen sharing (README, "Background access"). */
    access: z.enum(SESSION_ACCESS).nullable().optional(),
  })
  .meta({ id: 'Session' });

export type Session = z.infer<typeof sessionSchema>;

/** Where and how to reach the relay for one session. The token only ever travels in `hello`. */
export const relayGrantSchema = z.object({
  url: z.string().meta({ description: 'WebSocket URL of the relay' }),
  token: z.string().meta({ description: 'Single-use join token, valid one minute; send it in the hello' }),
});

export type RelayGrant = z.infer<typeof relayGrantSchema>;

/** The answer to redeeming a code or (re)joining a session: the session and a relay grant. */
export const sessionJoinSchema = z
  .object({ session: sessionSchema, relay: relayGrantSchema })
  .meta({ id: 'SessionJoin' });

export type SessionJoin = z.infer<typeof sessionJoinSchema>;

/** A new code for an operator-first session (`POST /api/sessions`, `POST /api/sessions/{id}/code`). */
export const sessionCodeSchema = z
  .object({
    session: sessionSchema,
    /** Bare digits. */
    code: z.string(),
    /** Grouped for reading aloud: `123 456 789`. */
    displayCode: z.string(),
    codeExpiresAt: z.string(),
    downloads: z.record(z.string(), z.string()).meta({ description: 'Agent download link per platform' }),
  })
  .meta({ id: 'SessionCode' });

export type SessionCode = z.infer<typeof sessionCodeSchema>;

/** `GET /api/sessions/{id}/wait`: the session, and whether it reached the state waited for. */
export const sessionWaitSchema = sessionSchema.and(z.object({ reached: z.boolean() }));

export type SessionWait = z.infer<typeof sessionWaitSchema>;

/** `POST /api/sessions`'s body: the device group (the organisation's default without one). */
export const createSessionSchema = z.object({ deviceGroupId: z.string().max(64).optional() });

/** `POST /api/sessions/redeem`'s body: the code the end user reads out. */
export const redeemCodeSchema = z.object({ code: z.string().min(1).max(64) });
