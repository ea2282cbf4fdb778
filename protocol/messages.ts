import { z } from 'zod';
import { END_REASONS, RESULT_CODES } from './result-codes.ts';

/**
 * The JSON control messages: one envelope, a discriminated union on `type`.
 * Evolve by adding only: never remove a message or change the meaning of a field.
 */

const permissionsSchema = z.object({
  view: z.boolean(),
  control: z.boolean(),
  chat: z.boolean(),
  files: z.boolean(),
  shell: z.boolean(),
});

const unit = z.number().min(0).max(1);

const inputEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('move'), x: unit, y: unit }),
  z.object({
    kind: z.literal('button'),
    button: z.enum(['left', 'middle', 'right']),
    down: z.boolean(),
    x: unit,
    y: unit,
  }),
  z.object({
    kind: z.literal('wheel'),
    dx: z.number().int().min(-50).max(50),
    dy: z.number().int().min(-50).max(50),
  }),
  z.object({ kind: z.literal('key'), code: z.string().min(1).max(32), down: z.boolean() }),
]);

const peerInfoSchema = z.object({
  name: z.string().max(200),
  version: z.string().max(50),
  hostname: z.string().max(255).optional(),
  os: z.string().max(100).optional(),
  user: z.string().max(255).optional(),
  screen: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }).optional(),
});

const operatorInfoSchema = z.object({ id: z.string().max(64), name: z.string().max(200) });

/** Every control message of protocol version 1. */
export const controlMessageSchema = z.discriminatedUnion('type', [
  // First message from every participant. The token says who it is and which session it may join.
  z.object({
    type: z.literal('hello'),
    protocol: z.number().int().positive(),
    role: z.enum(['agent', 'operator']),
    token: z.string().min(1).max(8192),
    client: peerInfoSchema,
  }),
  // The relay accepted the hello.
  z.object({
    type: z.literal('welcome'),
    protocol: z.number().int().positive(),
    sessionId: z.string().max(64),
    agent: peerInfoSchema.optional(),
    permissions: permissionsSchema.optional(),
  }),
  z.object({ type: z.literal('error'), code: z.enum(RESULT_CODES), message: z.string().max(1000) }),
  // Relay -> agent: an operator wants in.
  z.object({
    type: z.literal('operator-joined'),
    operator: operatorInfoSchema,
    requested: permissionsSchema,
  }),
  z.object({ type: z.literal('operator-left'), operatorId: z.string().max(64) }),
  // Agent -> relay -> operators: the end user's answer, and every later change to it.
  z.object({ type: z.literal('consent'), accepted: z.boolean(), permissions: permissionsSchema }),
  z.object({ type: z.literal('permissions'), permissions: permissionsSchema }),
  // Agent -> operators: what the following video frames contain.
  z.object({
    type: z.literal('video-config'),
    codec: z.string().max(64),
    width: z.number().int().positive().max(16384),
    height: z.number().int().positive().max(16384),
    framerate: z.number().positive().max(240),
  }),
  z.object({ type: z.literal('request-keyframe') }),
  // Relay -> operators: the agent's connection dropped and the relay waits for it to come back.
  z.object({ type: z.literal('agent-status'), state: z.enum(['reconnecting', 'connected']) }),
  z.object({ type: z.literal('input'), event: inputEventSchema }),
  z.object({ type: z.literal('end'), reason: z.enum(END_REASONS), message: z.string().max(1000).optional() }),
]);

export type ControlMessage = z.infer<typeof controlMessageSchema>;
export type ControlMessageType = ControlMessage['type'];
/** Narrows the envelope to one message type: `MessageOf<'hello'>`. */
export type MessageOf<T extends ControlMessageType> = Extract<ControlMessage, { type: T }>;
export type PeerInfo = z.infer<typeof peerInfoSchema>;
export type OperatorInfo = z.infer<typeof operatorInfoSchema>;

export { inputEventSchema, permissionsSchema };
