import {
  type Capability,
  CloseCode,
  encodeControl,
  isKeyframe,
  MAX_SLOT,
  type MessageOf,
  NO_PERMISSIONS,
  type PeerInfo,
  type Permissions,
  type Policy,
  type SessionAccess,
} from '../../protocol/index.ts';
import type { ActorType } from '../audit/audit-log.ts';
import type { SessionRecorder } from '../recordings/session-recorder.ts';
import { ChatHistory } from './chat-history.ts';
import type { RelayPeer } from './relay-peer.ts';
import { type Backlog, VideoBacklog } from './video-backlog.ts';

/** Past this many bytes queued for an operator, video is dropped until the next keyframe. */
export const MAX_BUFFERED_VIDEO_BYTES = 2 * 1024 * 1024;
/** Past this many bytes queued for a peer, it is disconnected: it cannot keep up even with control messages. */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** At most one keyframe request per this interval, in milliseconds, so slow readers cannot flood the agent. */
export const KEYFRAME_REQUEST_INTERVAL_MS = 500;
/** At most one `video-backlog` to the agent per this interval, in milliseconds. */
export const BACKLOG_REPORT_INTERVAL_MS = 200;

export interface OperatorSide {
  connectionId: string;
  peer: RelayPeer;
  operatorId: string;
  name: string;
  loginSessionId: string | undefined;
  /** The high 16 bits of every channel id this connection opens, unique among the session's operators. */
  slot: number;
  /** Who this connection's actions are audited as: the operator, or the API token a script used. */
  actor: { actorType: ActorType; actorId: string };
  /** False for connections that never show the screen (the HTTP API's): video is not sent to them. */
  video: boolean;
  /**
   * Whether the end user let this connection in. Until then it hears nothing of the session (video,
   * chat, permissions) and what it sends is dropped; see {@link LiveSession.asksForEachOperator}.
   */
  admitted: boolean;
  /** An administrator's connection: its request for control takes it at once. */
  mayTakeControl: boolean;
  /** Commands this connection started and that have not exited, by channel, for the audit of their exit. */
  commands: Map<number, string>;
  /** True until this operator has been sent a keyframe, and again after video was dropped. */
  needsKeyframe: boolean;
  droppedFrames: number;
}

export interface AgentSide {
  peer: RelayPeer;
  info: PeerInfo;
}

export type ConsentState = 'pending' | 'accepted' | 'refused';

/** A session live on this relay node: its agent, its operators, and what the end user allowed. */
export class LiveSession {
  readonly operators = new Map<string, OperatorSide>();
  consent: ConsentState = 'pending';
  permissions: Permissions = { ...NO_PERMISSIONS };
  videoConfig: MessageOf<'video-config'> | undefined;
  /** The agent's last `monitors`, for operators who join later. */
  monitors: MessageOf<'monitors'> | undefined;
  /** The agent's last `video-adaptation`, for operators who join later. */
  videoAdaptation: MessageOf<'video-adaptation'> | undefined;
  /** The agent's last cursor image and position, for operators who join later. */
  cursorShape: MessageOf<'cursor-shape'> | undefined;
  cursorPosition: MessageOf<'cursor-position'> | undefined;
  codeTimer: ReturnType<typeof setTimeout> | undefined;
  ended = false;
  /** The slot of the one operator connection whose input reaches the device; undefined: nobody. */
  controlSlot: number | undefined;
  /** Slots that asked for control and wait for the holder's answer. */
  readonly controlRequests = new Set<number>();
  private lastKeyframeRequestAt = 0;
  private keyframeRequestTimer: ReturnType<typeof setTimeout> | undefined;
  /** Video on the way to each operator connection whose console reports receipts, by connection id. */
  private readonly backlogs = new Map<string, VideoBacklog>();
  private lastBacklogReportAt = 0;
  /** A report held back by the interval, sent when it ends: the last receipt must reach the agent. */
  private backlogTimer: ReturnType<typeof setTimeout> | undefined;
  droppedFrames = 0;
  /** When the session became active, for the policy's maximum length. */
  activatedAt: number | undefined;
  /** Last input or control from an operator, for the policy's idle timeout. */
  lastActivityAt = Date.now();
  /** Running while the agent's connection is lost: the session ends if it does not come back. */
  agentGraceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Recent chat, replayed to operators who join. */
  readonly chat = new ChatHistory();
  private lastSlot = 0;
  /** Set when the policy makes recording mandatory; records from consent to end. */
  recorder: SessionRecorder | undefined;
  /** How a session opened on a resident device by order reaches it (`background`: no screen). */
  access: SessionAccess | undefined;

  constructor(
    readonly id: string,
    public agent: AgentSide,
    /** The effective policy fixed at creation; undefined only for sessions made before policies. */
    readonly policy: Policy | undefined,
  ) {}

  /**
   * Picks up a session the end user already consented to, when its agent comes back after a restart
   * of the control plane: what they allowed and when it began are as recorded.
   */
  resumeConsented(permissions: Permissions, activatedAt: Date | null): void {
    this.consent = 'accepted';
    this.permissions = { ...permissions };
    this.activatedAt = activatedAt?.getTime() ?? Date.now();
    this.lastActivityAt = Date.now();
  }

  /** Each operator's guidance colour index, by operator id, in the order they first joined. */
  private readonly colours = new Map<string, number>();

  /** The guidance colour index of an operator: theirs for the whole session, rejoins included. */
  colourOf(operatorId: string): number {
    let colour = this.colours.get(operatorId);
    if (colour === undefined) {
      colour = this.colours.size;
      this.colours.set(operatorId, colour);
    }
    return colour;
  }

  /**
   * A slot no live operator connection of this session holds. Slots rotate rather than restart at 1,
   * so the agent's last frames for a connection that just left never reach the next one.
   */
  allocateSlot(): number | undefined {
    const used = new Set([...this.operators.values()].map((operator) => operator.slot));
    for (let tries = 0; tries < MAX_SLOT; tries++) {
      this.lastSlot = (this.lastSlot % MAX_SLOT) + 1;
      if (!used.has(this.lastSlot)) return this.lastSlot;
    }
    return undefined;
  }

  /** The operator connection that holds a slot. */
  operatorOfSlot(slot: number): OperatorSide | undefined {
    for (const operator of this.operators.values()) if (operator.slot === slot) return operator;
    return undefined;
  }

  /**
   * Whether the end user allowed a capability and the session's policy permits it. The agent enforces
   * this itself; the relay checks it again so nothing it was not allowed even reaches the device.
   */
  allows(capability: Capability): boolean {
    return (
      this.consent === 'accepted' && this.permissions[capability] && this.policy?.modes[capability] !== false
    );
  }

  /**
   * Whether the agent asks the end user before each additional operator connection (it says
   * `operators` in its features). Agents older than that were asked once, for everyone.
   */
  get asksForEachOperator(): boolean {
    return this.agent.info.features?.includes('operators') ?? false;
  }

  /** The operator connections the end user let in, oldest first. */
  admitted(): OperatorSide[] {
    return [...this.operators.values()].filter((operator) => operator.admitted);
  }

  /** Whether a command an operator started is still running: a long command is not idleness. */
  runsCommands(): boolean {
    for (const operator of this.operators.values()) if (operator.commands.size > 0) return true;
    return false;
  }

  /**
   * Whether an operator connection takes part in the session: the end user let it in, or nobody has
   * been let in yet because the session waits for its first consent (everyone hears that answer).
   */
  takesPart(operator: OperatorSide): boolean {
    return operator.admitted || this.consent !== 'accepted';
  }

  /** Sends a control message to every operator connection that takes part. */
  toOperators(message: Parameters<typeof encodeControl>[0]): void {
    const bytes = encodeControl(message);
    for (const operator of this.operators.values()) {
      if (this.takesPart(operator)) sendBounded(operator.peer, bytes);
    }
  }

  toAgent(message: Parameters<typeof encodeControl>[0]): void {
    sendBounded(this.agent.peer, encodeControl(message));
  }

  /**
   * Fans one video access unit out to the operators allowed to see it. A slow operator never makes
   * the relay buffer without bound: once its queue passes the limit, its video is dropped until the
   * next keyframe, and the agent is asked for one.
   */
  forwardVideo(frame: Uint8Array): void {
    if (this.consent !== 'accepted' || !this.permissions.view) return;
    const keyframe = isKeyframe(frame);
    const now = Date.now();
    let wantKeyframe = this.recorder?.video(frame) ?? false;
    for (const operator of this.operators.values()) {
      if (!operator.video || !operator.admitted) continue;
      if (operator.needsKeyframe && !keyframe) {
        operator.droppedFrames++;
        this.droppedFrames++;
        wantKeyframe = true;
        continue;
      }
      if (operator.peer.bufferedAmount() > MAX_BUFFERED_VIDEO_BYTES) {
        operator.needsKeyframe = true;
        operator.droppedFrames++;
        this.droppedFrames++;
        wantKeyframe = true;
        continue;
      }
      operator.peer.send(frame);
      this.backlogOf(operator).sent(frame.byteLength, now);
      if (keyframe) operator.needsKeyframe = false;
    }
    if (wantKeyframe) this.requestKeyframe();
    this.reportBacklog(now);
  }

  /** An operator's console reports how much video it has received, and whether it keeps up (`video-received`). */
  videoReceived(operator: OperatorSide, bytes: number, behind?: boolean): void {
    const now = Date.now();
    if (this.backlogOf(operator).received(bytes, now, behind)) this.reportBacklog(now);
  }

  private backlogOf(operator: OperatorSide): VideoBacklog {
    let backlog = this.backlogs.get(operator.connectionId);
    if (!backlog) {
      backlog = new VideoBacklog();
      this.backlogs.set(operator.connectionId, backlog);
    }
    return backlog;
  }

  /**
   * Tells the agent, at most every BACKLOG_REPORT_INTERVAL_MS, how much video is on the way to the
   * slowest operator who reports receipts, so it paces its pictures to the link (`video-backlog`).
   */
  private reportBacklog(now: number): void {
    const wait = this.lastBacklogReportAt + BACKLOG_REPORT_INTERVAL_MS - now;
    if (wait > 0) {
      this.backlogTimer ??= setTimeout(() => {
        this.backlogTimer = undefined;
        if (!this.ended) this.reportBacklog(Date.now());
      }, wait);
      return;
    }
    let worst: Backlog | undefined;
    for (const [connectionId, backlog] of this.backlogs) {
      const operator = this.operators.get(connectionId);
      if (!operator) {
        this.backlogs.delete(connectionId);
        continue;
      }
      const state = operator.admitted && operator.video ? backlog.state(now) : undefined;
      if (state && (!worst || state.ms > worst.ms)) worst = state;
    }
    if (!worst) return;
    this.lastBacklogReportAt = now;
    const { bytes, ms, behind } = worst;
    this.toAgent({
      type: 'video-backlog',
      bytes,
      ms: Math.round(ms),
      ...(behind !== undefined ? { behind } : {}),
    });
  }

  /**
   * Sends the cursor's shape or position where video goes: to the operators let in who watch the
   * screen, only while the end user allows viewing. Also kept for operators who join later and,
   * when the session is recorded, recorded beside the video (the picture leaves the cursor out).
   */
  forwardCursor(message: MessageOf<'cursor-shape'> | MessageOf<'cursor-position'>): void {
    if (message.type === 'cursor-shape') this.cursorShape = message;
    else this.cursorPosition = message;
    if (this.consent !== 'accepted' || !this.permissions.view) return;
    this.recorder?.json('cursor', message);
    const bytes = encodeControl(message);
    for (const operator of this.operators.values()) {
      if (operator.video && operator.admitted) sendBounded(operator.peer, bytes);
    }
  }

  /**
   * Asks the agent for a keyframe, at most once per KEYFRAME_REQUEST_INTERVAL_MS. A request within the
   * interval is not lost but sent once at its end: keyframes come only when asked, so on a still screen
   * a viewer whose request was swallowed would wait for the next change.
   */
  requestKeyframe(): void {
    if (this.keyframeRequestTimer) return;
    const wait = this.lastKeyframeRequestAt + KEYFRAME_REQUEST_INTERVAL_MS - Date.now();
    if (wait > 0) {
      this.keyframeRequestTimer = setTimeout(() => {
        this.keyframeRequestTimer = undefined;
        if (!this.ended) this.requestKeyframe();
      }, wait);
      return;
    }
    this.lastKeyframeRequestAt = Date.now();
    this.toAgent({ type: 'request-keyframe' });
  }
}

/** Sends unless the peer is hopelessly behind, in which case it is closed instead of buffered for. */
export function sendBounded(peer: RelayPeer, bytes: Uint8Array): void {
  if (peer.bufferedAmount() + bytes.byteLength > MAX_BUFFERED_BYTES) {
    peer.close(CloseCode.tooSlow, 'too slow');
    return;
  }
  peer.send(bytes);
}
