import {
  CloseCode,
  DEFAULT_OFFER,
  decodeFrame,
  encodeControl,
  inertDeviceInfo,
  type MessageOf,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  type ResultCode,
} from '../../protocol/index.ts';
import type { Logger } from '../logger.ts';
import type { SessionStore } from '../sessions/session-store.ts';
import { isTokenError, type TokenService } from '../tokens/tokens.ts';
import type { LiveSession, OperatorSide } from './live-session.ts';
import { type JoinDeps, joinOperator } from './operator-join.ts';
import type { RelayCounters } from './relay-counters.ts';
import type { RelayPeer } from './relay-peer.ts';
import type { SessionLifecycle } from './session-lifecycle.ts';

/** A peer whose hello has not arrived by then is closed, in milliseconds. */
export const HELLO_TIMEOUT_MS = 10_000;

/** Where a socket stands: waiting for its hello, attached as the agent or an operator, or closed. */
export type PeerState =
  | { role: 'pending' }
  | { role: 'agent'; session: LiveSession }
  | { role: 'operator'; session: LiveSession; side: OperatorSide }
  | { role: 'closed' };

/** Tells a peer why it is turned away (an `error` message with a result code) and closes it. */
export function refuse(
  peer: RelayPeer,
  code: ResultCode,
  message: string,
  closeCode: number = CloseCode.policy,
): PeerState {
  peer.send(encodeControl({ type: 'error', code, message }));
  peer.close(closeCode, code);
  return { role: 'closed' };
}

export interface AdmissionOptions {
  tokens: TokenService;
  store: SessionStore;
  logger: Logger;
  /**
   * Whether an operator (and, for a console login, that login) may still open a socket: a join token
   * outlives a disable or a logout by up to a minute.
   */
  operatorMayConnect(operatorId: string, loginSessionId: string | undefined): Promise<boolean>;
  lifecycle: SessionLifecycle;
  counters: RelayCounters;
  joinDeps: JoinDeps;
}

/**
 * Who may join: reads a socket's first frame, which must be a `hello` in a protocol this relay
 * speaks with a valid token, and attaches the agent to its session (claiming an operator's
 * session once) or the operator to a live session (each join token once, the operator still
 * enabled and logged in). Everyone else is refused with a result code.
 */
export class Admission {
  private readonly usedJtis = new Map<string, number>();

  constructor(private readonly options: AdmissionOptions) {}

  /** The socket's first frame: what it becomes, or `closed` once refused. */
  async hello(peer: RelayPeer, data: Uint8Array): Promise<PeerState> {
    const decoded = decodeFrame(data);
    if (!decoded.ok || decoded.frame.kind !== 'control' || decoded.frame.message.type !== 'hello') {
      this.options.counters.malformedFrames++;
      return refuse(peer, 'MALFORMED', 'The first message must be a hello.');
    }
    const hello = decoded.frame.message;
    if (hello.protocol < MIN_PROTOCOL_VERSION || hello.protocol > PROTOCOL_VERSION) {
      return refuse(
        peer,
        'PROTOCOL_UNSUPPORTED',
        `Protocol ${hello.protocol} is not supported; this relay speaks ${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION}. Update the ${hello.role === 'agent' ? 'agent' : 'console'}.`,
      );
    }
    try {
      return hello.role === 'agent'
        ? // What a device says about itself reaches consoles and the database only made inert.
          await this.admitAgent(peer, { ...hello, client: inertDeviceInfo(hello.client) })
        : await this.admitOperator(peer, hello);
    } catch (error) {
      if (isTokenError(error)) {
        this.options.logger.warn(
          { address: peer.address, role: hello.role, reason: error.message },
          'relay hello refused',
        );
        return refuse(
          peer,
          'TOKEN_INVALID',
          `The ${hello.role} token is ${error.kind === 'expired' ? 'expired' : 'invalid'}.`,
        );
      }
      this.options.logger.error({ err: error }, 'relay hello failed');
      return refuse(peer, 'INTERNAL', 'The relay could not accept this connection.');
    }
  }

  private async admitAgent(peer: RelayPeer, hello: MessageOf<'hello'>): Promise<PeerState> {
    const { lifecycle, store } = this.options;
    const claims = await this.options.tokens.verify('relayAgent', hello.token);
    const sessionId = claims.sub;
    await lifecycle.agentReturning(sessionId);
    const row = await store.get(sessionId);
    if (!row || row.status === 'ended') return refuse(peer, 'SESSION_ENDED', 'This session has ended.');
    const live = lifecycle.get(sessionId);
    if (live) return { role: 'agent', session: lifecycle.agentResumed(live, peer, hello.client) };
    if (row.initiator === 'operator' && !row.codeRedeemedAt) {
      // An agent stamped with an operator's session (no code typed) claims it here, once.
      const claim = await store.claimForAgent(sessionId);
      if (claim !== 'claimed') {
        return refuse(
          peer,
          claim,
          claim === 'CODE_EXPIRED'
            ? 'This invitation has expired. Ask your help desk for a new link.'
            : 'Another agent already joined this session.',
        );
      }
    }
    const session = await lifecycle.agentArrived(row, peer, hello.client);
    return session ? { role: 'agent', session } : { role: 'closed' };
  }

  private async admitOperator(peer: RelayPeer, hello: MessageOf<'hello'>): Promise<PeerState> {
    const claims = await this.options.tokens.verify('relayOperator', hello.token);
    if (this.usedJtis.has(claims.jti))
      return refuse(peer, 'TOKEN_INVALID', 'This join token was already used.');
    this.rememberJti(claims.jti, claims.exp);
    const session = claims.sid ? this.options.lifecycle.get(claims.sid) : undefined;
    if (!session || session.ended) {
      return refuse(peer, 'AGENT_OFFLINE', 'The agent of this session is not connected.');
    }
    if (!(await this.options.operatorMayConnect(claims.sub, claims.lsid))) {
      return refuse(peer, 'TOKEN_INVALID', 'This operator was disabled or logged out.');
    }
    if (session.ended) return refuse(peer, 'AGENT_OFFLINE', 'The agent of this session is not connected.');
    // From here on nothing awaits: once the welcome is out, the operator's next frames (input right
    // away, on a session already consented) must find the socket attached, not still in its hello.
    const side = joinOperator(
      session,
      peer,
      {
        operatorId: claims.sub,
        name: claims.name ?? claims.sub,
        loginSessionId: claims.lsid,
        actor: { actorType: 'operator', actorId: claims.sub },
        requested: { ...DEFAULT_OFFER, control: true },
        video: true,
        mayTakeControl: claims.adm === true,
      },
      this.options.joinDeps,
    );
    if (!side) return refuse(peer, 'CONFLICT', 'This session has too many operator connections.');
    return { role: 'operator', session, side };
  }

  private rememberJti(jti: string, exp: number): void {
    const now = Date.now() / 1000;
    for (const [key, expiry] of this.usedJtis) if (expiry < now) this.usedJtis.delete(key);
    this.usedJtis.set(jti, exp);
  }
}
