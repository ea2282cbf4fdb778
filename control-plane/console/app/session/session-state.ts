import { type Monitor, NO_PERMISSIONS, type Permissions } from '../../../../protocol/index.ts';
import type { AgentView, SessionView } from '../api/types.ts';

/**
 * Where a session stands for the operator:
 * connecting → waiting (for the user's consent) → live, and from anywhere to
 * declined / ended (final), lost (socket dropped; can reconnect) or failed (refused; can retry).
 */
export type SessionPhase = 'connecting' | 'waiting' | 'live' | 'declined' | 'ended' | 'lost' | 'failed';

export interface SessionNotice {
  /** Grows with every notice so the view can tell two equal texts apart. */
  id: number;
  text: string;
}

export interface SessionState {
  phase: SessionPhase;
  session: SessionView;
  agent: AgentView | null;
  /** What the user allows right now; all off until consent. */
  permissions: Permissions;
  inControl: boolean;
  /** A picture has been drawn since the last video configuration. */
  hasPicture: boolean;
  video: { width: number; height: number; framerate: number } | null;
  /** The device's monitors and the one shown (null: all); null when the agent reports none. */
  monitors: { list: Monitor[]; selected: number | null } | null;
  /** Something the operator should notice, shown for a few seconds. */
  notice: SessionNotice | null;
  ended: { reason: string; message: string | null } | null;
  error: { code: string; message: string } | null;
  /** The operator asked to end the session and the answer is pending. */
  ending: boolean;
}

export function initialSessionState(session: SessionView): SessionState {
  return {
    phase: 'connecting',
    session,
    agent: session.agent,
    permissions: { ...NO_PERMISSIONS },
    inControl: false,
    hasPicture: false,
    video: null,
    monitors: null,
    notice: null,
    ended: null,
    error: null,
    ending: false,
  };
}

/** Phases after which nothing arrives from the relay any more. */
export function isFinalPhase(phase: SessionPhase): boolean {
  return phase === 'declined' || phase === 'ended' || phase === 'failed' || phase === 'lost';
}
