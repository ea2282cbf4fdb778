import {
  type ControlMessage,
  type MessageOf,
  NO_PERMISSIONS,
  type Permissions,
} from '../../../protocol/index.ts';
import { AccessRequests } from './access-requests.ts';
import { ActionList } from './actions/action-list.ts';
import { ChatController } from './chat-controller.ts';
import { ClipboardController } from './clipboard-controller.ts';
import { FileBrowser } from './file-browser.ts';
import { type ChannelFrame, isChannelMessage, OperatorChannels } from './operator-channels.ts';
import type { FileSaver } from './saving/file-saver.ts';
import { TerminalController } from './terminal-controller.ts';
import { TransferList } from './transfers/transfer-list.ts';

/** The tools an agent may offer in `hello.client.features` that the console has a panel for. */
export type ToolFeature = 'chat' | 'shell' | 'files' | 'clipboard';

/** How the tools reach the relay on the current connection. */
export interface ToolConnection {
  send(message: ControlMessage): boolean;
  sendFrame(bytes: Uint8Array): boolean;
  /** `welcome.slot`; without one the relay cannot route channels and only chat works. */
  slot: number | undefined;
}

/**
 * Chat, terminals and the file manager of one session view. The session controller feeds it the
 * relay's messages and tells it when the connection, the agent or the user's permissions change;
 * the tools outlive reconnects, so chat history and transfers stay on screen and resume.
 * @example
 * tools.connect({ send, sendFrame, slot: welcome.slot });
 * tools.receive(message);
 */
export class SessionTools {
  readonly router = new OperatorChannels();
  readonly chat: ChatController;
  readonly clipboard: ClipboardController;
  readonly terminals: TerminalController;
  readonly files: FileBrowser;
  readonly transfers: TransferList;
  /** Zips, uploads of folders, and changes of several items at once, each with one progress. */
  readonly actions: ActionList;
  /** The operator asking the user for what they have not allowed. */
  readonly access: AccessRequests;
  #connection: ToolConnection | undefined;
  #permissions: Permissions = { ...NO_PERMISSIONS };

  constructor(saver: FileSaver) {
    this.chat = new ChatController((message) => this.#connection?.send(message) ?? false);
    this.clipboard = new ClipboardController((message) => this.#connection?.send(message) ?? false);
    this.access = new AccessRequests((message) => this.#connection?.send(message) ?? false);
    this.terminals = new TerminalController(this.router);
    this.files = new FileBrowser(this.router);
    const changed = (folder: string) => {
      if (folder === this.files.state.path && this.files.state.loaded) this.files.refresh();
    };
    this.transfers = new TransferList(this.router, saver, changed);
    this.actions = new ActionList(this.router, saver, changed);
  }

  /** The relay welcomed this connection; paused transfers continue on it. */
  connect(connection: ToolConnection): void {
    this.#connection = connection;
    if (connection.slot === undefined) {
      this.router.detach();
      return;
    }
    this.router.attach({ slot: connection.slot, send: connection.send, sendFrame: connection.sendFrame });
    this.transfers.resumeAll();
    this.actions.resumeAll();
    if (this.files.state.loaded) this.files.refresh();
  }

  /**
   * The relay connection is gone (dropped, refused, ended): nothing open on it survives.
   * Transfers pause for a reconnect unless the session is over (`final`).
   */
  disconnect(reason = 'The connection to the relay was lost.', final = false): void {
    if (final) {
      this.transfers.abortAll(reason);
      this.actions.abortAll(reason);
    }
    if (!this.#connection) return;
    this.#connection = undefined;
    this.access.reset();
    this.chat.disconnected();
    this.transfers.interruptAll();
    this.actions.interruptAll();
    this.terminals.cutOffAll(reason);
    this.files.disconnected();
    this.router.detach();
  }

  /** The agent's connection dropped (`reconnecting`) or came back (`connected`). */
  agentStatus(state: MessageOf<'agent-status'>['state']): void {
    if (state === 'reconnecting') {
      this.transfers.interruptAll();
      this.actions.interruptAll();
      this.terminals.cutOffAll("The user's device lost its connection; the shell was closed.", true);
      this.files.disconnected();
      return;
    }
    this.router.closeAbandoned();
    this.transfers.resumeAll();
    this.actions.resumeAll();
    if (this.files.state.loaded) this.files.refresh();
  }

  /** The user's current permissions; shells and transfers stop when theirs are taken back. */
  setPermissions(permissions: Permissions): void {
    const before = this.#permissions;
    this.#permissions = { ...permissions };
    this.access.answered(permissions);
    if (before.shell && !permissions.shell) this.terminals.cutOffAll('The user turned off shell access.');
    if (before.files && !permissions.files) {
      this.transfers.abortAll('The user turned off file access.');
      this.actions.abortAll('The user turned off file access.');
    }
    if (!before.files && permissions.files && this.files.state.loaded) this.files.refresh();
  }

  /** Takes the relay's chat and channel messages; returns false for anything else. */
  receive(message: ControlMessage): boolean {
    if (message.type === 'chat') {
      this.chat.receive(message);
      return true;
    }
    if (message.type === 'clipboard') {
      this.clipboard.receive(message);
      return true;
    }
    if (isChannelMessage(message)) {
      this.router.route(message);
      return true;
    }
    return false;
  }

  receiveFrame(frame: ChannelFrame): void {
    this.router.routeFrame(frame);
  }

  /**
   * The relay refused a chat message or clipboard text (`error` CAPABILITY_NOT_ALLOWED); its text
   * names the capability ("Clipboard"), which tells the two apart.
   */
  capabilityRefused(message: string): void {
    if (message.includes('"Clipboard"')) {
      this.clipboard.refused(message);
      return;
    }
    this.chat.refused(message.trim() || 'The user has not allowed chat; the message was not delivered.');
  }

  /** Leaves the session view: closes every shell and stops every transfer. */
  dispose(): void {
    this.terminals.cutOffAll('Closed.');
    this.transfers.abortAll('Closed.');
    this.actions.abortAll('Closed.');
    this.router.detach();
  }
}

/** Whether the agent said it offers `feature` (`hello.client.features`; absent means none). */
export function offers(
  agent: { features?: string[] | undefined } | null | undefined,
  feature: ToolFeature,
): boolean {
  return agent?.features?.includes(feature) ?? false;
}
