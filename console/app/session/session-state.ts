import {
  type Monitor,
  NO_PERMISSIONS,
  type Participant,
  type Permissions,
  type SharedWindow,
} from '../../../protocol/index.ts';
import type { AgentView, SessionView } from '../api/types.ts';
import type { GuidanceTool } from '../guidance/guidance-capture.ts';

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
  /** This console sends its mouse and keyboard (it holds control and the operator took it). */
  inControl: boolean;
  /** This connection's slot in the session; null until welcomed. */
  mySlot: number | null;
  /** The operators the user let in, this one included (README "Several operators"). */
  operators: readonly Participant[];
  /** The slot of the one operator whose input reaches the device; null: nobody. */
  controlSlot: number | null;
  /** Operators who asked this one, while it holds control, to hand it over. */
  controlAsks: readonly Participant[];
  /** This operator asked for control and waits for the holder's answer. */
  askedForControl: boolean;
  /** The guidance tool the canvas draws with (README "Guidance"); null: none chosen. */
  guidanceTool: GuidanceTool | null;
  /** A picture has been drawn since the last video configuration. */
  hasPicture: boolean;
  video: { width: number; height: number; framerate: number } | null;
  /**
   * The device's monitors and the one shown (null: all); null when the agent reports none. `window`:
   * the end user shares that one application window instead (README "Sharing one window").
   */
  monitors: { list: Monitor[]; selected: number | null; window?: SharedWindow } | null;
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
    mySlot: null,
    operators: [],
    controlSlot: null,
    controlAsks: [],
    askedForControl: false,
    guidanceTool: null,
    hasPicture: false,
    video: null,
    monitors: null,
    notice: null,
    ended: null,
    error: null,
    ending: false,
  };
}

/** Whether this connection holds control of the device's input (it may then take it). */
export function holdsControl(state: SessionState): boolean {
  return state.mySlot !== null && state.controlSlot === state.mySlot;
}

/** The operator who holds control, when it is another one. */
export function otherInControl(state: SessionState): Participant | undefined {
  if (state.controlSlot === null || holdsControl(state)) return undefined;
  return state.operators.find((operator) => operator.slot === state.controlSlot);
}

/** Phases after which nothing arrives from the relay any more. */
export function isFinalPhase(phase: SessionPhase): boolean {
  return phase === 'declined' || phase === 'ended' || phase === 'failed' || phase === 'lost';
}
