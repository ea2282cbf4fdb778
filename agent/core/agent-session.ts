import {
  ALL_PERMISSIONS,
  CAPABILITIES,
  type Capability,
  CloseCode,
  type ControlMessage,
  DEFAULT_OFFER,
  type EndReason,
  isRelayLinkError,
  MAX_MONITORS,
  type MessageOf,
  NO_PERMISSIONS,
  offerModes,
  type PeerInfo,
  type Permissions,
  type Policy,
  PROTOCOL_VERSION,
  RelayLink,
  WELCOME_TIMEOUT_MS,
} from '../../protocol/index.ts';
import { type GuidanceHost, SessionGuidance } from '../guidance/session-guidance.ts';
import { Backoff } from './backoff.ts';
import type { ChannelCapability } from './channel-scope.ts';
import { type ChannelHosts, DeviceChannels } from './channels.ts';
import { SessionChat } from './chat.ts';
import { SessionClipboard } from './clipboard-sync.ts';
import { AgentError } from './errors.ts';
import { anyPermission, missingPermissions, withGranted } from './permission-request.ts';
import type { ClipboardHost, InputSink, MonitorLayout, ScreenSource, UserInterface } from './ports.ts';
import { ScreenSender } from './screen-sender.ts';
import { MAX_AGENT_BUFFERED_BYTES, socketUplink } from './uplink.ts';

export { MAX_AGENT_BUFFERED_BYTES, WELCOME_TIMEOUT_MS };
/** How long a dropped connection is retried before the session ends, in milliseconds. */
export const RECONNECT_GRACE_MS = 30_000;
const RECONNECT_FIRST_PAUSE_MS = 250;
const RECONNECT_MAX_PAUSE_MS = 4_000;

export interface AgentSessionOptions extends ChannelHosts {
  relayUrl: string;
  token: string;
  client: PeerInfo;
  ui: UserInterface;
  screen: ScreenSource;
  input: InputSink;
  /** The device's monitors; without it the whole desktop is shared and nothing can be chosen. */
  monitors?: MonitorLayout;
  /** The device's clipboard; without it the agent does not offer clipboard sharing. */
  clipboard?: ClipboardHost;
  /** Where guidance marks are painted; without it the agent does not offer guidance. */
  guidance?: GuidanceHost;
  /** Caps what the user may be asked for, from command-line flags. */
  allowed?: Permissions;
  /**
   * The session's verified policy: its modes cap every permission, `consentRequired: false` starts
   * without asking, and `maxSessionMinutes` ends the session on the device.
   */
  policy?: Policy;
  /**
   * Offer the operator everything `allowed` and the policy permit on arrival, whatever they asked
   * for first: a session host started by a signed order, whose order is the grant (device/session-host.ts).
   */
  grantAllowed?: boolean;
  /** How long a dropped connection is retried, in milliseconds (default RECONNECT_GRACE_MS). */
  reconnectGraceMs?: number;
  /** Test hook and Deno seam: how to open a WebSocket. */
  openSocket?: (url: string) => WebSocket;
}

export interface SessionOutcome {
  reason: EndReason | 'connection-lost';
  message?: string;
}

/**
 * The agent's side of one session, runtime-neutral (web-standard WebSocket only): joins the relay,
 * asks the end user for consent when an operator arrives, streams the screen while viewing is
 * allowed, applies input only while control is allowed, and stops everything when the session ends.
 */
export class AgentSession {
  private socket: WebSocket | undefined;
  /** The current socket's link to the relay: hello and welcome, decoding, the heartbeat. */
  private link: RelayLink | undefined;
  /** Malformed frames counted by links that were replaced (reconnects). */
  private earlierMalformed = 0;
  private permissions: Permissions = { ...NO_PERMISSIONS };
  private consent: 'pending' | 'asking' | 'accepted' = 'pending';
  /** Whether the user is being asked for more by an operator (one question at a time). */
  private askingMore = false;
  private readonly screen: ScreenSender;
  /** Capture restarts on a new shared area, one after the other. */
  private restarts: Promise<void> = Promise.resolve();
  private finished = false;
  private maxTimer: ReturnType<typeof setTimeout> | undefined;
  /** The result code of the relay's last refusal, if any. */
  private refusal: string | undefined;
  /** Operators' display names by the slot of their connection, for the user's status lines. */
  private readonly operators = new Map<number, string>();
  /** The operators (by id) the end user let in: one who comes back is not asked about again. */
  private readonly letIn = new Set<string>();
  /** Operators' ids by the slot of their connection. */
  private readonly operatorIds = new Map<number, string>();
  /** Operators who asked to join while the user was answering the first one, asked about next. */
  private readonly waitingJoins: MessageOf<'operator-joined'>[] = [];
  /** Join questions are put to the user one at a time. */
  private joinQuestions: Promise<void> = Promise.resolve();
  private readonly channels: DeviceChannels;
  private readonly chat: SessionChat;
  private readonly clipboard: SessionClipboard;
  private readonly guidance: SessionGuidance;
  private resolveDone!: (outcome: SessionOutcome) => void;
  readonly done: Promise<SessionOutcome> = new Promise((resolve) => {
    this.resolveDone = resolve;
  });
  /** Messages not meant for an agent. */
  private unexpectedMessages = 0;
  /** Input that arrived while control was not allowed, and was not applied. */
  droppedInputEvents = 0;

  constructor(private readonly options: AgentSessionOptions) {
    this.channels = new DeviceChannels(options, {
      uplink: socketUplink(
        () => this.socket,
        () => this.finished,
      ),
      allows: (capability) => this.allows(capability),
      report: (text) => this.options.ui.status(text),
      operatorName: (slot) => this.operators.get(slot) ?? 'The operator',
      ...(this.asksForFiles() ? { offerFile: options.ui.offerFile!.bind(options.ui) } : {}),
    });
    this.screen = new ScreenSender(options.screen, {
      socket: () => this.socket,
      viewing: () => this.permissions.view,
      send: (message) => this.send(message),
      status: (text) => this.options.ui.status(text),
    });
    if (options.policy?.recordingMandatory) options.ui.sessionRecorded?.();
    this.chat = new SessionChat(
      options.ui,
      () => this.allows('chat'),
      (message) => this.send(message),
    );
    this.guidance = new SessionGuidance(
      options.guidance,
      () => this.allows('guidance'),
      (text) => this.options.ui.status(text),
    );
    this.clipboard = new SessionClipboard(options.clipboard, {
      allows: () => this.allows('clipboard'),
      send: (message) => this.send(message),
      status: (text) => this.options.ui.status(text),
    });
  }

  /**
   * Whether incoming files are put to the end user: their interface can ask, the policy asks for it,
   * and the session is attended (a policy without consent has nobody to ask).
   */
  private asksForFiles(): boolean {
    const policy = this.options.policy;
    return (
      this.options.ui.offerFile !== undefined &&
      policy?.confirmIncomingFiles !== false &&
      policy?.consentRequired !== false
    );
  }

  /** What this agent offers beyond the screen, for the relay and the console. */
  get features(): string[] {
    // `operators`: this agent asks the user before each additional operator and lists them.
    return [
      ...(this.chat.offered ? ['chat'] : []),
      ...this.channels.features(),
      ...(this.clipboard.offered ? ['clipboard'] : []),
      ...(this.guidance.offered ? ['guidance'] : []),
      ...(this.options.monitors ? ['monitors'] : []),
      'operators',
    ];
  }

  /** Guidance marks that arrived while guidance was not allowed, and were not drawn. */
  get droppedGuidanceMarks(): number {
    return this.guidance.dropped;
  }

  /** Frames refused by the decoder or not meant for an agent. */
  get malformedFrames(): number {
    return this.earlierMalformed + (this.link?.malformedFrames ?? 0) + this.unexpectedMessages;
  }

  /** Video access units not sent (before a keyframe, or skipped while the socket was full). */
  get droppedVideoFrames(): number {
    return this.screen.dropped;
  }

  /** Chat from operators that arrived while chat was not allowed, and was not shown. */
  get droppedChatMessages(): number {
    return this.chat.dropped;
  }

  /** Connects and waits for the relay's welcome. */
  async connect(): Promise<void> {
    await this.open();
  }

  /**
   * Opens a socket to the relay, says hello and resolves on the welcome. A socket that closes after
   * the welcome (or whose relay went silent) is reconnected within the grace period; one that never
   * got welcomed rejects.
   */
  private async open(): Promise<void> {
    const socket = (this.options.openSocket ?? ((url) => new WebSocket(url)))(this.options.relayUrl);
    let refusal: MessageOf<'error'> | undefined;
    if (this.link) this.earlierMalformed += this.link.malformedFrames;
    const link = new RelayLink(socket, {
      hello: {
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        role: 'agent',
        token: this.options.token,
        client: { ...this.options.client, features: this.features },
      },
      onMessage: (message) => {
        if (message.type === 'welcome') return;
        if (message.type === 'error') {
          if (!link.welcome) refusal = message;
          return;
        }
        void this.handle(message);
      },
      onChannelFrame: (frame) => this.channels.frame(frame),
      onClose: (closed) => {
        if (link !== this.link) return;
        this.socket = undefined;
        if (closed.welcomed) void this.reconnect();
      },
    });
    this.socket = socket;
    this.link = link;
    try {
      await link.welcomed;
    } catch (error) {
      if (refusal) {
        this.refusal = refusal.code;
        throw new AgentError('refused', `The relay refused this agent: ${refusal.message}`);
      }
      if (isRelayLinkError(error, 'no-welcome')) {
        throw new AgentError('unreachable', 'The relay did not answer in time.');
      }
      throw new AgentError('unreachable', 'The connection to the relay closed.');
    }
  }

  /**
   * The connection dropped: try again with growing pauses until the grace period is over. The relay
   * keeps the session (and the user's consent) for as long; video resumes at the next keyframe.
   */
  private async reconnect(): Promise<void> {
    if (this.finished) return;
    const deadline = Date.now() + (this.options.reconnectGraceMs ?? RECONNECT_GRACE_MS);
    this.options.ui.status('Connection to the help desk lost. Reconnecting…');
    // Whatever was in flight is lost, so shells, commands and transfers cannot go on where they were.
    const lost = await this.channels.closeAll();
    const backoff = new Backoff(RECONNECT_FIRST_PAUSE_MS, RECONNECT_MAX_PAUSE_MS);
    while (!this.finished && Date.now() < deadline) {
      const pause = backoff.next();
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(pause, Math.max(0, deadline - Date.now()))),
      );
      if (this.finished) return;
      this.refusal = undefined;
      try {
        await this.open();
        this.screen.resume();
        for (const channel of lost) {
          const message = 'The connection to the device dropped; this channel was closed.';
          this.send({ type: 'channel-error', channel, code: 'AGENT_OFFLINE', message });
        }
        this.options.ui.status('Reconnected.');
        return;
      } catch {
        // A refusal (the session ended meanwhile) is final; anything else is tried again.
        if (this.refusal) break;
      }
    }
    await this.finish({ reason: 'connection-lost' });
  }

  /** Ends the session from the end user's side. */
  async end(reason: EndReason = 'user-ended'): Promise<void> {
    this.send({ type: 'end', reason });
    await this.finish({ reason });
  }

  /** The end user changed what they allow; takes effect on the device at once. */
  async setPermissions(next: Permissions): Promise<void> {
    const capped = this.cap(next);
    const before = this.permissions;
    this.permissions = capped;
    if (before.control && !capped.control) this.options.input.releaseAll();
    if (this.consent === 'accepted') {
      this.send({ type: 'permissions', permissions: capped });
      if (capped.view && !before.view) await this.startScreen();
      if (!capped.view && before.view) await this.screen.stop();
    }
    this.clipboard.update();
    if (!capped.guidance) this.guidance.clear();
    if (!capped.shell) await this.channels.revoke('shell');
    if (!capped.files) await this.channels.revoke('files');
    this.options.ui.permissionsChanged(capped);
  }

  /**
   * The end user removes one operator (by the slot of their connection); the session goes on for
   * the others. False when there is no open connection to say it on.
   */
  removeOperator(slot: number): boolean {
    if (!this.operators.has(slot)) return false;
    // Removed means asked again before coming back.
    const id = this.operatorIds.get(slot);
    if (id !== undefined) this.letIn.delete(id);
    return this.send({ type: 'operator-remove', slot });
  }

  /**
   * Sends the end user's chat message to the help desk. False when it cannot go: chat is not
   * allowed (or not yet accepted), the text is empty or too long, or the connection is down.
   */
  sendChat(text: string): boolean {
    return this.chat.write(text);
  }

  /** Whether the user allows a capability right now: consent accepted and the (capped) permission on. */
  private allows(capability: ChannelCapability | Capability): boolean {
    return this.consent === 'accepted' && this.cap(this.permissions)[capability];
  }

  /** An operator came (and the user was asked, or is being asked) since the session started. */
  get operatorArrived(): boolean {
    return this.consent !== 'pending';
  }

  get currentPermissions(): Permissions {
    return { ...this.permissions };
  }

  /**
   * What the flags, the signed policy and the device allow, whatever the user or the operator asks
   * for (guidance only where the platform can draw it).
   */
  private cap(permissions: Permissions): Permissions {
    const allowed = this.options.allowed ?? ALL_PERMISSIONS;
    const modes = this.options.policy?.modes ?? ALL_PERMISSIONS;
    const capped = { ...NO_PERMISSIONS };
    for (const capability of CAPABILITIES) {
      capped[capability] = permissions[capability] && allowed[capability] && modes[capability];
    }
    capped.guidance &&= this.guidance.offered;
    return capped;
  }

  private async handle(message: ControlMessage): Promise<void> {
    try {
      if (this.channels.handle(message)) return;
      switch (message.type) {
        case 'operator-joined':
          if (message.slot !== undefined) {
            this.operators.set(message.slot, message.operator.name);
            this.operatorIds.set(message.slot, message.operator.id);
          }
          await this.onOperatorJoined(message);
          return;
        case 'operator-left': {
          const name = message.slot === undefined ? undefined : this.operators.get(message.slot);
          if (message.slot !== undefined) {
            this.operators.delete(message.slot);
            this.operatorIds.delete(message.slot);
            await this.channels.closeSlot(message.slot);
            this.guidance.clear(message.slot);
          }
          this.options.ui.status(
            this.operators.size > 0
              ? `${name ?? 'An operator'} left the session; the others are still connected.`
              : `${name ?? 'The operator'} left. Waiting for them to come back; press q to end.`,
          );
          return;
        }
        case 'participants':
          this.options.ui.operatorsChanged?.(
            message.operators.map((operator) => ({
              slot: operator.slot,
              name: operator.name,
              inControl: operator.slot === message.controlSlot,
            })),
          );
          return;
        case 'chat':
          this.chat.receive(message);
          return;
        case 'clipboard':
          this.clipboard.receive(message);
          return;
        case 'select-monitor':
          await this.selectMonitor(message.monitor);
          return;
        case 'guidance':
          // Enforced here, on the device: drawn only while the user allows guidance.
          this.guidance.receive(message.slot ?? 0, message.mark, message.colour ?? 0);
          return;
        case 'ping':
          // The operator measures the whole path's round trip; the relay routes the answer by slot.
          this.send({
            type: 'pong',
            id: message.id,
            ...(message.slot === undefined ? {} : { slot: message.slot }),
          });
          return;
        case 'permission-request':
          await this.onPermissionRequest(message);
          return;
        case 'input':
          // Enforced here, on the device: whatever the relay or a modified console sends.
          if (this.consent === 'accepted' && this.permissions.control)
            this.options.input.apply(message.event);
          else this.droppedInputEvents++;
          return;
        case 'request-keyframe':
          this.screen.requestKeyframe();
          return;
        case 'video-backlog':
          this.screen.backlog(message.ms, message.bytes, message.behind);
          return;
        case 'video-preference':
          // Enforced here too: how the picture adapts is the viewers' choice only while they may see it.
          if (this.consent === 'accepted' && this.permissions.view) this.screen.prefer(message.prefer);
          return;
        case 'end':
          await this.finish({
            reason: message.reason,
            ...(message.message ? { message: message.message } : {}),
          });
          return;
        default:
          this.unexpectedMessages++;
      }
    } catch (error) {
      this.options.ui.status(`Error: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async onOperatorJoined(message: MessageOf<'operator-joined'>): Promise<void> {
    if (this.consent === 'accepted') {
      await this.askJoin(message);
      return;
    }
    if (this.consent === 'asking') {
      this.waitingJoins.push(message);
      return;
    }
    this.consent = 'asking';
    // The one place the operator's request meets the flags and the policy: a forbidden mode gives
    // way to the next allowed one (control → guidance → view → chat → file transfer).
    const modes = offerModes(
      this.options.grantAllowed ? ALL_PERMISSIONS : { ...DEFAULT_OFFER, ...message.requested },
      this.cap(ALL_PERMISSIONS),
    );
    const requested = modes.offer;
    const answer =
      this.options.policy?.consentRequired === false
        ? { accepted: true, permissions: requested }
        : await this.options.ui.askConsent(message.operator, requested, modes);
    if (this.options.policy?.consentRequired === false) {
      this.options.ui.status(
        `${message.operator.name} connected; this device's policy does not ask for consent.`,
      );
    }
    if (this.finished) return;
    const permissions = this.cap(answer.permissions);
    const slot = message.slot === undefined ? {} : { slot: message.slot };
    if (!answer.accepted) {
      this.send({ type: 'consent', accepted: false, permissions: { ...NO_PERMISSIONS }, ...slot });
      await this.finish({ reason: 'consent-refused' });
      return;
    }
    this.consent = 'accepted';
    this.permissions = permissions;
    this.letIn.add(message.operator.id);
    this.send({ type: 'consent', accepted: true, permissions, ...slot });
    const maxMinutes = this.options.policy?.maxSessionMinutes ?? 0;
    if (maxMinutes > 0) {
      this.maxTimer = setTimeout(() => void this.end('max-duration'), maxMinutes * 60_000);
    }
    this.options.ui.permissionsChanged(permissions);
    for (const waiting of this.waitingJoins.splice(0)) void this.askJoin(waiting);
    this.clipboard.update();
    if (permissions.view) await this.startScreen();
  }

  /**
   * Starts the screen, telling the operators first which monitors there are and which is shown. A
   * shared window that is hidden starts nothing: the operators see no picture rather than what lies
   * behind it.
   */
  private async startScreen(): Promise<void> {
    this.sendMonitors();
    if (this.options.monitors?.window?.hidden) return;
    await this.screen.start();
  }

  private sendMonitors(): void {
    const layout = this.options.monitors;
    if (!layout) return;
    const window = layout.window;
    this.send({
      type: 'monitors',
      monitors: layout.list().slice(0, MAX_MONITORS),
      selected: layout.selected,
      ...(window ? { window } : {}),
    });
  }

  /**
   * What the monitor layout shares changed on the device: the end user chose one window or the whole
   * screen again, or the shared window moved, changed size, was covered, hidden or shown. The
   * capture restarts on it and the operators hear what is shown now.
   */
  sharedAreaChanged(): Promise<void> {
    const restart = async () => {
      if (this.finished || !this.allows('view')) return;
      await this.screen.stop();
      if (this.allows('view')) await this.startScreen();
    };
    // A window dragged across the screen changes many times: one restart at a time, in order.
    this.restarts = this.restarts.then(restart, restart);
    return this.restarts;
  }

  /**
   * An operator chose a monitor (or all): the capture restarts on it, and the operators hear what is
   * shown now, whether the choice was taken or not (a monitor that went away is not).
   */
  private async selectMonitor(index: number | null): Promise<void> {
    const layout = this.options.monitors;
    if (!layout || !this.allows('view')) return;
    // The end user shares one window: only they can widen that.
    if (layout.window || index === layout.selected || !layout.select(index)) {
      this.sendMonitors();
      return;
    }
    await this.screen.stop();
    if (this.allows('view')) await this.startScreen();
  }

  /**
   * An additional operator wants in after the user accepted: the user is asked (one question at a
   * time), unless they already let this operator in or the policy asks no consent.
   */
  private askJoin(message: MessageOf<'operator-joined'>): Promise<void> {
    const { operator, slot } = message;
    const ask = async () => {
      // Gone before the user was asked: nothing to answer.
      if (slot === undefined || this.finished || !this.operators.has(slot)) return;
      const ui = this.options.ui;
      let accepted = true;
      if (this.letIn.has(operator.id)) {
        ui.status(`${operator.name} joined the session again.`);
      } else if (this.options.policy?.consentRequired === false) {
        ui.status(`${operator.name} joined; this device's policy does not ask for consent.`);
      } else {
        accepted = ui.askJoin
          ? await ui.askJoin(operator)
          : (await ui.askConsent(operator, this.permissions)).accepted;
      }
      if (this.finished) return;
      if (accepted) this.letIn.add(operator.id);
      this.send({ type: 'join-answer', slot, accepted });
      if (!accepted) ui.status(`${operator.name} was not let in.`);
    };
    this.joinQuestions = this.joinQuestions.then(ask, ask);
    return this.joinQuestions;
  }

  /**
   * An operator asks for more after consent. Only what is not allowed yet and what the flags and the
   * policy permit is put to the user (granted at once when the policy asks no consent); whatever the
   * outcome, a `permissions` message answers, so the operator knows the answer came.
   */
  private async onPermissionRequest(message: MessageOf<'permission-request'>): Promise<void> {
    if (this.consent !== 'accepted') return;
    const missing = missingPermissions(this.cap(message.requested), this.permissions);
    const ask = this.options.ui.askMore;
    if (!anyPermission(missing) || this.askingMore) {
      this.send({ type: 'permissions', permissions: this.permissions });
      return;
    }
    const operator = message.operator ?? { id: '', name: 'The operator' };
    let granted: Permissions = { ...NO_PERMISSIONS };
    if (this.options.policy?.consentRequired === false) {
      granted = missing;
      this.options.ui.status(`${operator.name} was given more access; this device's policy does not ask.`);
    } else if (ask) {
      this.askingMore = true;
      try {
        granted = await ask.call(this.options.ui, operator, missing);
      } finally {
        this.askingMore = false;
      }
    }
    if (this.finished) return;
    // setPermissions sends the `permissions` message, changed or not.
    await this.setPermissions(withGranted(this.permissions, missing, granted));
  }

  /** Sends a control message; false when there is no open connection to send it on. */
  private send(message: ControlMessage): boolean {
    return this.link?.send(message) ?? false;
  }

  private async finish(outcome: SessionOutcome): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.maxTimer);
    this.options.input.releaseAll();
    await this.screen.stop();
    await this.guidance.finish();
    await this.clipboard.finish();
    const left = await this.channels.finish();
    if (left.length > 0) this.options.ui.status(`Could not delete partial uploads: ${left.join(', ')}`);
    this.link?.close(CloseCode.normal, outcome.reason);
    this.resolveDone(outcome);
  }
}
