import { randomUUID } from 'node:crypto';
import { encodeControl, type Permissions, PROTOCOL_VERSION } from '../../protocol/index.ts';
import type { ActorType, AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../logger.ts';
import type { ChatRouter } from './chat-router.ts';
import type { LiveSession, OperatorSide } from './live-session.ts';
import type { RelayPeer } from './relay-peer.ts';

/** Who joins a session as an operator connection: a console socket or the HTTP API's participant. */
export interface OperatorIdentity {
  operatorId: string;
  /** Shown to the end user and stamped on chat. */
  name: string;
  /** The console login the socket was granted under; undefined for API tokens and the API. */
  loginSessionId: string | undefined;
  /** Who its actions are audited as. */
  actor: { actorType: ActorType; actorId: string };
  /** What the end user is asked to allow, if they have not answered yet. */
  requested: Permissions;
  /** Whether video is sent to this connection. */
  video: boolean;
}

/** What joining needs from the relay. */
export interface JoinDeps {
  chat: ChatRouter;
  audit: AuditLog;
  logger: Logger;
  /** How often the console should send a heartbeat, in seconds (in its welcome). */
  heartbeatSeconds: number;
}

/**
 * Adds an operator connection to a live session: it gets a slot and its welcome, the agent hears who
 * joined (which asks the end user for consent if they have not answered), and a session already
 * under way is brought up to date (consent, video, chat history). The arrival is logged and audited.
 * Returns undefined when every slot is taken. Nothing here awaits: the connection's next frames must
 * find it attached.
 */
export function joinOperator(
  session: LiveSession,
  peer: RelayPeer,
  identity: OperatorIdentity,
  { chat, audit, logger, heartbeatSeconds }: JoinDeps,
): OperatorSide | undefined {
  const slot = session.allocateSlot();
  if (slot === undefined) return undefined;
  const side: OperatorSide = {
    connectionId: randomUUID(),
    peer,
    operatorId: identity.operatorId,
    name: identity.name,
    loginSessionId: identity.loginSessionId,
    slot,
    actor: identity.actor,
    video: identity.video,
    commands: new Map(),
    needsKeyframe: true,
    droppedFrames: 0,
  };
  session.operators.set(side.connectionId, side);
  peer.send(
    encodeControl({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      sessionId: session.id,
      agent: session.agent.info,
      ...(session.consent === 'accepted' ? { permissions: session.permissions } : {}),
      slot,
      heartbeatSeconds,
    }),
  );
  session.toAgent({
    type: 'operator-joined',
    operator: { id: side.operatorId, name: side.name.slice(0, 200) },
    requested: identity.requested,
    slot,
  });
  if (session.consent === 'accepted') {
    peer.send(encodeControl({ type: 'consent', accepted: true, permissions: session.permissions }));
    if (identity.video) {
      if (session.monitors) peer.send(encodeControl(session.monitors));
      if (session.videoConfig) peer.send(encodeControl(session.videoConfig));
      session.requestKeyframe();
    }
  }
  chat.replay(session, side);
  session.recorder?.event('session.join', { operatorId: side.operatorId, name: side.name, slot });
  logger.info(
    {
      event: 'pair',
      role: 'operator',
      sessionId: session.id,
      operatorId: side.operatorId,
      slot,
      address: peer.address,
    },
    'operator joined',
  );
  audit
    .record({ ...side.actor, action: 'session.join', sessionId: session.id, address: peer.address })
    .catch((error: unknown) => logger.error({ err: error, sessionId: session.id }, 'could not audit a join'));
  return side;
}
