import {
  type VideoFrame as AccessUnit,
  CloseCode,
  type ControlMessage,
  guidanceColour,
  NO_PERMISSIONS,
  type Permissions,
  type RelayLink,
  type RelayLinkClosed,
  type VideoPreference,
} from '../../../protocol/index.ts';
import { isApiCallError } from '../api/client.ts';
import { endSession, joinSession } from '../api/sessions.ts';
import type { SessionGrant } from '../api/types.ts';
import { GuidanceCapture, type GuidanceTool } from '../guidance/guidance-capture.ts';
import { GuidanceEcho } from '../guidance/guidance-echo.ts';
import { InputCapture } from '../input/input-capture.ts';
import { PointerHold } from '../input/pointer-hold.ts';
import { QualityHistory } from '../media/quality-history.ts';
import { RemoteCursor } from '../media/remote-cursor.ts';
import { createStats, type LifelineStats } from '../media/stats.ts';
import { VideoReceipts } from '../media/video-receipts.ts';
import { VideoRenderer } from '../media/video-renderer.ts';
import { connectToRelay } from '../relay/relay-connection.ts';
import { pageSaver } from '../tools/saving/stream-saver.ts';
import { SessionTools } from '../tools/session-tools.ts';
import { relayErrorText } from './describe.ts';
import {
  holdsControl,
  initialSessionState,
  isFinalPhase,
  type SessionPhase,
  type SessionState,
} from './session-state.ts';

type Listener = (state: SessionState) => void;

/** How long the console rejoins by itself after a restart of the control plane, in milliseconds. */
const RESTART_REJOIN_MS = 60_000;
/** Pause before each rejoin attempt after a restart, in milliseconds. */
const REJOIN_PAUSE_MS = 2_000;
/** Failures that mean "not back yet" after a restart: the server, or the user's device, is on its way. */
const NOT_BACK_YET = new Set(['AGENT_OFFLINE', 'NETWORK', 'RELAY_UNREACHABLE']);

/**
 * One operator's view of one session: owns the relay socket, the video renderer and input
 * capture, and turns relay messages into a {@link SessionState} the views render.
 * @example
 * const session = new SessionController(grant);
 * session.attach(canvas);
 * session.connect();
 * session.subscribe((state) => render(state));
 */
export class SessionController {
  readonly stats: LifelineStats = createStats();
  /** Chat, terminals and files; they live as long as the view, across reconnects. */
  readonly tools = new SessionTools(pageSaver());
  /** Frames per second, kbit/s and round trips over the last minutes, for the quality plot. */
  readonly quality = new QualityHistory(this.stats, (message) => this.#relay?.send(message) ?? false);
  /** What video arrived, told to the relay so the agent paces its pictures to this link. */
  readonly #receipts = new VideoReceipts(
    (message) => this.#relay?.send(message),
    () => this.#renderer?.behind,
  );
  /** Holds the pointer while another monitor's stream replaces the picture. */
  readonly #pointerHold = new PointerHold();
  #state: SessionState;
  #grant: SessionGrant | undefined;
  #relay: RelayLink | undefined;
  #renderer: VideoRenderer | undefined;
  #cursor: RemoteCursor | undefined;
  #input: InputCapture | undefined;
  #guidance: GuidanceCapture | undefined;
  /** This operator's marks drawn on their own view at once. */
  #echo: GuidanceEcho | undefined;
  #listeners = new Set<Listener>();
  #noticeId = 0;
  #disposed = false;
  #rejoining = false;

  constructor(grant: SessionGrant) {
    this.#grant = grant;
    this.#state = initialSessionState(grant.session);
  }

  get state(): SessionState {
    return this.#state;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Gives the controller the canvas to draw on and to capture input from, the one over it that
   * shows the device's cursor (see `RemoteCursor`), and the one that shows this operator's guidance
   * marks at once (see `GuidanceEcho`).
   */
  attach(canvas: HTMLCanvasElement, cursor?: HTMLCanvasElement, echo?: HTMLCanvasElement): void {
    if (cursor) this.#cursor = new RemoteCursor(canvas, cursor);
    if (echo) this.#echo = new GuidanceEcho(canvas, echo);
    this.#renderer?.dispose();
    this.#renderer = new VideoRenderer(canvas, this.stats, {
      requestKeyframe: () => this.#relay?.send({ type: 'request-keyframe' }),
      onPicture: () => {
        this.#pointerHold.pictureShown();
        this.#set({ hasPicture: true });
      },
      onUnsupported: (message) => this.#fail('VIDEO_UNSUPPORTED', message),
    });
    this.#input = new InputCapture(canvas, (event) => {
      if (this.#pointerHold.passes(event, performance.now())) this.#relay?.send({ type: 'input', event });
      else this.stats.pointerEventsHeld = this.#pointerHold.dropped;
    });
    this.#guidance = new GuidanceCapture(canvas, (mark) => {
      if (this.#relay?.send({ type: 'guidance', mark })) this.#echo?.add(mark);
    });
  }

  /**
   * Chooses the guidance tool the canvas draws with (null: none), while the user allows guidance.
   * Drawing and controlling share the canvas, so choosing a tool gives up control first.
   */
  setGuidanceTool(tool: GuidanceTool | null): void {
    const state = this.#state;
    if (tool && (state.phase !== 'live' || !state.permissions.guidance)) return;
    if (tool && state.inControl) this.releaseControl();
    this.#guidance?.setTool(tool ?? undefined);
    if (state.guidanceTool !== tool) this.#set({ guidanceTool: tool });
  }

  /** Removes this operator's marks from the user's screen. */
  clearGuidance(): void {
    if (this.#state.permissions.guidance) this.#guidance?.clear();
  }

  /** Opens the relay socket with the current grant; a grant is used once. */
  connect(): void {
    const grant = this.#grant;
    this.#grant = undefined;
    if (!grant || this.#disposed) return;
    this.#set({ phase: 'connecting', session: grant.session, error: null, ended: null, hasPicture: false });
    this.quality.start();
    this.#receipts.reset();
    try {
      const link: RelayLink = connectToRelay(grant.relay, {
        onMessage: (message) => this.#onMessage(message),
        onVideo: (unit) => this.#onVideo(unit),
        onChannelFrame: (frame) => this.tools.receiveFrame(frame),
        // A socket closed by Reconnect may report its close after the new one is open: only the
        // current link's close concerns the view.
        onClose: (info) => {
          if (this.#relay === link) this.#onClose(info);
        },
      });
      this.#relay = link;
    } catch (error) {
      this.#fail(
        'RELAY_UNREACHABLE',
        error instanceof Error ? error.message : 'The relay cannot be reached.',
      );
    }
  }

  /** Asks the control plane for a new relay grant and connects again (after a drop or a refusal). */
  async reconnect(): Promise<void> {
    const old = this.#relay;
    this.#relay = undefined;
    this.tools.disconnect();
    old?.close();
    this.#set({ phase: 'connecting', error: null, notice: null });
    try {
      this.#grant = await joinSession(this.#state.session.id);
    } catch (error) {
      if (!isApiCallError(error)) {
        this.#fail('INTERNAL', error instanceof Error ? error.message : String(error));
        return;
      }
      if (
        error.kind === 'SESSION_ENDED' ||
        error.kind === 'NOT_FOUND' ||
        error.kind === 'SESSION_NOT_FOUND'
      ) {
        this.#finish('ended', {
          reason: this.#state.session.endReason ?? 'agent-disconnected',
          message: error.message,
        });
      } else {
        this.#fail(error.kind, error.message);
      }
      return;
    }
    this.connect();
  }

  /** Shows one of the device's monitors (its index), or all of them (null). */
  selectMonitor(index: number | null): void {
    if (this.#state.phase !== 'live' || !this.#state.permissions.view) return;
    if (this.#state.monitors?.selected === index) return;
    if (this.#relay?.send({ type: 'select-monitor', monitor: index }))
      this.#pointerHold.start(performance.now());
  }

  takeControl(): void {
    const state = this.#state;
    if (state.phase !== 'live' || !state.permissions.control || state.inControl || !holdsControl(state))
      return;
    this.setGuidanceTool(null);
    this.#input?.start();
    this.#set({ inControl: true });
  }

  releaseControl(): void {
    this.#input?.stop();
    if (this.#state.inControl) this.#set({ inControl: false });
  }

  /** Asks for control: the holder hands it over or declines (an administrator takes it at once). */
  requestControl(): void {
    if (this.#state.phase !== 'live' || holdsControl(this.#state) || this.#state.askedForControl) return;
    if (this.#relay?.send({ type: 'control-request' })) this.#set({ askedForControl: true });
  }

  /** Hands control to another operator, asked or unasked. */
  handOver(slot: number): void {
    if (!holdsControl(this.#state)) return;
    this.releaseControl();
    this.#relay?.send({ type: 'control-grant', slot });
  }

  /** Declines another operator's request for control. */
  declineControl(slot: number): void {
    this.#relay?.send({ type: 'control-decline', slot });
    this.#set({ controlAsks: this.#state.controlAsks.filter((ask) => ask.slot !== slot) });
  }

  /** Ends the session for everyone: tells the relay at once, then records it with the control plane. */
  async end(): Promise<void> {
    if (this.#state.ending || this.#state.phase === 'ended') return;
    this.releaseControl();
    this.#set({ ending: true });
    this.#relay?.send({ type: 'end', reason: 'operator-ended' });
    try {
      await endSession(this.#state.session.id);
    } catch (error) {
      // Already ended elsewhere is still ended; anything else the operator must know about.
      if (isApiCallError(error) && error.kind !== 'SESSION_ENDED' && error.kind !== 'CONFLICT') {
        this.#set({ ending: false });
        this.#notify(`The session could not be ended: ${error.message}`);
        return;
      }
    }
    this.#finish('ended', { reason: 'operator-ended', message: null });
  }

  /** Leaves the session view: closes the socket and frees the decoder. Does not end the session. */
  dispose(): void {
    this.#disposed = true;
    this.tools.dispose();
    this.quality.stop();
    this.#input?.stop();
    this.#guidance?.setTool(undefined);
    this.#relay?.close();
    this.#renderer?.dispose();
    this.#cursor?.dispose();
    this.#echo?.dispose();
    this.#listeners.clear();
  }

  #onMessage(message: ControlMessage): void {
    // Whatever trails an end, a refusal or an error (often a closing `end`) changes nothing.
    if (isFinalPhase(this.#state.phase)) return;
    if (this.tools.receive(message)) return;
    switch (message.type) {
      case 'welcome': {
        const relay = this.#relay;
        if (relay) {
          this.tools.connect({
            send: (next) => relay.send(next),
            sendFrame: (bytes) => relay.sendFrame(bytes),
            slot: message.slot,
          });
        }
        if (message.permissions) this.tools.setPermissions(message.permissions);
        this.#set({
          phase: 'waiting',
          mySlot: message.slot ?? null,
          agent: message.agent ?? this.#state.agent,
          permissions: message.permissions ?? this.#state.permissions,
        });
        return;
      }
      case 'consent':
        if (!message.accepted) {
          this.#finish('declined');
          return;
        }
        this.#set({ phase: 'live' });
        this.#applyPermissions(message.permissions, false);
        return;
      case 'permissions':
        this.#applyPermissions(message.permissions);
        return;
      case 'monitors':
        this.#set({
          monitors: {
            list: message.monitors,
            selected: message.selected,
            ...(message.window ? { window: message.window } : {}),
          },
        });
        return;
      case 'pong':
        this.quality.pong(message);
        return;
      case 'video-adaptation':
        this.quality.adapted(message);
        return;
      case 'cursor-shape':
        this.#cursor?.shape(message);
        return;
      case 'cursor-position':
        this.#cursor?.move(message);
        return;
      case 'video-config':
        this.#pointerHold.streamStarted();
        this.#renderer?.configure(message);
        this.#cursor?.configure(message.width, message.height);
        this.#set({
          // The agent only streams after consent, so video also means the user accepted.
          phase: this.#state.phase === 'waiting' ? 'live' : this.#state.phase,
          video: { width: message.width, height: message.height, framerate: message.framerate },
          hasPicture: false,
        });
        return;
      case 'end':
        if (message.reason === 'consent-refused') {
          this.#finish('declined');
          return;
        }
        this.#finish('ended', { reason: message.reason, message: message.message ?? null });
        return;
      case 'error':
        if (message.code === 'CAPABILITY_NOT_ALLOWED') {
          // Only chat and the clipboard are refused this way (channels get channel-error); the session goes on.
          this.tools.capabilityRefused(message.message);
          return;
        }
        if (message.code === 'SESSION_ENDED') {
          this.#finish('ended', {
            reason: this.#state.session.endReason ?? 'agent-disconnected',
            message: null,
          });
        } else {
          this.#fail(message.code, relayErrorText(message.code, message.message));
        }
        return;
      case 'participants':
        this.#onParticipants(message.operators, message.controlSlot);
        return;
      case 'control-request':
        if (message.slot !== undefined && message.operator && holdsControl(this.#state)) {
          const ask = { slot: message.slot, id: message.operator.id, name: message.operator.name };
          this.#set({ controlAsks: [...this.#state.controlAsks.filter((a) => a.slot !== ask.slot), ask] });
        }
        return;
      case 'control-decline':
        this.#set({ askedForControl: false });
        this.#notify('Your request for control was declined.');
        return;
      case 'agent-status':
        this.tools.agentStatus(message.state);
        this.#notify(
          message.state === 'reconnecting'
            ? "The user's connection dropped. Waiting for it to come back…"
            : "The user's connection is back.",
        );
        return;
      default:
        // hello, input, operator-joined/left and request-keyframe are not for the console.
        return;
    }
  }

  /** Who is connected and who holds control now: a console that lost control stops sending input. */
  #onParticipants(operators: SessionState['operators'], controlSlot: number | null): void {
    const before = this.#state;
    const next = { ...before, operators, controlSlot };
    const holder = operators.find((operator) => operator.slot === controlSlot);
    if (holdsControl(before) && !holdsControl(next)) {
      this.releaseControl();
      this.#notify(
        holder ? `${holder.name} has control now. You are viewing only.` : 'You no longer have control.',
      );
    } else if (!holdsControl(before) && holdsControl(next) && before.controlSlot !== null) {
      this.#notify('You have control now. Press Take control to use the mouse and keyboard.');
    }
    const mine = operators.find((operator) => operator.slot === before.mySlot);
    if (mine?.colour !== undefined) this.#echo?.setColour(guidanceColour(mine.colour));
    const present = new Set(operators.map((operator) => operator.slot));
    this.#set({
      operators,
      controlSlot,
      askedForControl: before.askedForControl && !holdsControl(next),
      controlAsks: holdsControl(next) ? before.controlAsks.filter((ask) => present.has(ask.slot)) : [],
    });
  }

  /** Takes the user's latest choice; `announce` tells the operator about changes to it. */
  #applyPermissions(permissions: Permissions, announce = true): void {
    const before = this.#state.permissions;
    if (!permissions.control && this.#state.inControl) {
      this.releaseControl();
      this.#notify('The user took back control. You are viewing only.');
    } else if (announce && permissions.control && !before.control) {
      this.#notify('The user allowed you to take control.');
    }
    if (!permissions.guidance && this.#state.guidanceTool) this.setGuidanceTool(null);
    // The agent drops every mark when guidance is turned off.
    if (!permissions.guidance) this.#echo?.clear();
    if (announce && !permissions.view && before.view) this.#notify('The user paused screen sharing.');
    // A resumed stream must start from a keyframe; ask rather than wait for the next interval.
    if (permissions.view && !before.view && this.#state.hasPicture)
      this.#relay?.send({ type: 'request-keyframe' });
    if (announce && !permissions.shell && before.shell) this.#notify('The user turned off shell access.');
    if (announce && !permissions.files && before.files) this.#notify('The user turned off file access.');
    if (announce && !permissions.clipboard && before.clipboard)
      this.#notify('The user turned off clipboard sharing.');
    this.tools.setPermissions(permissions);
    this.#set({ permissions: { ...permissions } });
  }

  /** What to give up first when the link cannot carry every picture; the agent chooses accordingly. */
  setVideoPreference(prefer: VideoPreference): void {
    this.#relay?.send({ type: 'video-preference', prefer });
  }

  #onVideo(unit: AccessUnit): void {
    this.#receipts.add(unit);
    this.#renderer?.push(unit);
  }

  #onClose(info: RelayLinkClosed): void {
    this.#relay = undefined;
    this.tools.disconnect();
    if (info.byUs || this.#disposed || isFinalPhase(this.#state.phase)) return;
    if (this.#state.ending) {
      // The relay closes right after our `end`; that is the end we asked for, not a drop.
      return;
    }
    this.releaseControl();
    this.#renderer?.close();
    this.#set({ phase: 'lost', hasPicture: false });
    if (info.code === CloseCode.serviceRestart) void this.#rejoinAfterRestart();
  }

  /**
   * The control plane restarted: the session lives on there, and the user's device comes back within
   * its grace period. Rejoin by itself until then rather than wait for the Reconnect button.
   */
  async #rejoinAfterRestart(): Promise<void> {
    if (this.#rejoining) return;
    this.#rejoining = true;
    this.#notify('The control plane is restarting. Reconnecting…');
    const deadline = Date.now() + RESTART_REJOIN_MS;
    try {
      while (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, REJOIN_PAUSE_MS));
        // Whatever the operator did meanwhile (reconnected, left, ended) is theirs to decide.
        if (this.#disposed || !this.#notBackYet()) return;
        await this.reconnect();
        await this.#settled();
        if (this.#disposed || !this.#notBackYet()) return;
      }
    } finally {
      this.#rejoining = false;
    }
  }

  /** Whether the session is dropped or refused only because the server or the device is not back yet. */
  #notBackYet(): boolean {
    const { phase, error } = this.#state;
    return phase === 'lost' || (phase === 'failed' && error !== null && NOT_BACK_YET.has(error.code));
  }

  /** Resolves once the connection attempt under way has an outcome. */
  #settled(): Promise<SessionPhase> {
    return new Promise((resolve) => {
      const check: Listener = (state) => {
        if (state.phase === 'connecting') return;
        this.#listeners.delete(check);
        resolve(state.phase);
      };
      this.#listeners.add(check);
      check(this.#state);
    });
  }

  #finish(phase: 'ended' | 'declined', ended?: SessionState['ended']): void {
    this.releaseControl();
    this.tools.disconnect('The session ended.', true);
    this.#renderer?.close();
    this.#set({
      phase,
      ended: ended ?? null,
      ending: false,
      hasPicture: false,
      permissions: { ...NO_PERMISSIONS },
    });
    this.#relay?.close();
  }

  #fail(code: string, message: string): void {
    this.releaseControl();
    this.tools.disconnect(message);
    this.#renderer?.close();
    this.#set({ phase: 'failed', error: { code, message }, hasPicture: false });
    this.#relay?.close();
  }

  #notify(text: string): void {
    this.#set({ notice: { id: ++this.#noticeId, text } });
  }

  #set(patch: Partial<SessionState>): void {
    if (this.#disposed) return;
    this.#state = { ...this.#state, ...patch };
    this.#cursor?.setControl(this.#state.inControl);
    // The cursor belongs to the picture: gone with it (view withdrawn, session over).
    if (!this.#state.permissions.view || isFinalPhase(this.#state.phase)) this.#cursor?.reset();
    for (const listener of this.#listeners) listener(this.#state);
  }
}
