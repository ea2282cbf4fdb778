import { emitKeypressEvents } from 'node:readline';
import {
  CAPABILITIES,
  type Capability,
  DEFAULT_OFFER,
  formatConnectionCode,
  grantedCapabilities,
  MODE_CAPABILITIES,
  type ModeOffer,
  type OperatorInfo,
  type Permissions,
  type SessionMode,
} from '../../protocol/index.ts';
import { formatBytes } from '../core/channels.ts';
import type {
  ChatLine,
  ConnectedOperator,
  IncomingFile,
  IncomingFileAnswer,
  UserInterface,
} from '../core/ports.ts';
import { displayPath, renamedPath } from '../core/wire-path.ts';
import { ChatComposer, type Key } from './chat-composer.ts';
import { printableLine, printableLines } from './printable.ts';

/** Key that toggles each capability in the terminal. */
const KEYS: Record<Capability, string> = {
  view: 'v',
  control: 'c',
  chat: 'h',
  files: 'f',
  shell: 's',
  clipboard: 'b',
  guidance: 'g',
};
const MODE_NAMES: Record<SessionMode, string> = {
  control: 'control',
  guidance: 'guidance (their pointer and marks on your screen, no control)',
  view: 'view only',
  chat: 'chat',
  files: 'file transfer',
};

/** Which mode was asked for and which the session starts in, when the device does not allow the first. */
function modeLine(modes: ModeOffer | undefined): string {
  if (!modes?.asked || modes.starts === modes.asked) return '';
  const starts = modes.starts
    ? `the session starts in ${MODE_NAMES[modes.starts]}`
    : 'no other mode is allowed';
  return (
    `  They asked for ${MODE_NAMES[modes.asked]}, which this device's policy does not allow: ${starts}.\n` +
    '  You may choose another allowed one below.\n'
  );
}

/** Key that starts a chat message during the session. */
const CHAT_KEY = 'm';
/** Key that removes one operator from the session (README "Several operators"). */
const REMOVE_KEY = 'r';
/** Key that shares one application window, or the whole screen again (README "Sharing one window"). */
const WINDOW_KEY = 'w';
/** Key on the consent screen that opens files to every drive or mount, where the policy allows it. */
const ALL_ROOTS_KEY = 'd';
/** Most operators the remove prompt numbers, one key each (1-9). */
const MAX_NUMBERED = 9;
/** Shown with the consent prompt and the session status when the policy makes recording mandatory. */
export const RECORDED_NOTICE = 'This session is recorded by your help desk.';

export interface TerminalUiOptions {
  /** Accept every request without asking, up to `allowed`: for automation and tests only. */
  autoAccept: boolean;
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  /** The folder shared for file transfers and where shells start, named when consent is asked. */
  filesRoot?: string;
}

/** Whether a key answers a question: Enter or y says yes, n or Escape says no. */
function answerOf(key: Key): 'yes' | 'no' | undefined {
  if (key.name === 'return' || key.name === 'enter' || key.name === 'y') return 'yes';
  if (key.name === 'n' || key.name === 'escape') return 'no';
  return undefined;
}

/** Hours and minutes, as the end user's clock shows them. */
function clock(time: number): string {
  const date = new Date(time);
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/**
 * The end user's terminal: shows the code, asks for consent capability by capability, and while the
 * session runs lets the user toggle each permission, chat with the help desk (m, then Enter) or end
 * the session with a key. Every shell, command and file action of the operator is a status line.
 */
export class TerminalUi implements UserInterface {
  private keyHandler: ((key: Key) => void) | undefined;
  /**
   * Set by the host when the signed policy allows every drive or mount (`filesAllRoots`): the consent
   * screen then offers it on its own key, off until the user switches it on.
   */
  offerAllRoots = false;
  /** Whether the user granted every drive or mount on the consent screen (with files). */
  allRootsGranted = false;
  private permissions: Permissions | undefined;
  /** Whether the session's policy makes recording mandatory (the user is told so). */
  private recorded = false;
  /** Incoming files are asked about one after another. */
  private fileQuestions: Promise<unknown> = Promise.resolve();
  /** The chat message being written, shown on the last line until it is sent. */
  private composer: ChatComposer | undefined;
  /** Who is connected, as the relay last said. */
  private operators: readonly ConnectedOperator[] = [];
  /** Set by the host: called when the user presses a key during the session. */
  onToggle: ((capability: Capability) => void) | undefined;
  onEnd: (() => void) | undefined;
  /** Set by the host: sends the user's chat message; false when it could not go. */
  onChat: ((text: string) => boolean) | undefined;
  /** Set by the host: removes one operator (by their connection's slot) from the session. */
  onRemove: ((slot: number) => void) | undefined;
  /**
   * Set by the host where one window can be shared alone: the titles of the windows to choose from,
   * and sharing one of them (an index of the titles) or the whole screen again (null).
   */
  windows: { titles(): Promise<string[]>; share(index: number | null): Promise<boolean> } | undefined;
  /** The title of the one window shared, or null while the whole screen is. */
  private sharedWindow: string | null = null;

  constructor(private readonly options: TerminalUiOptions) {
    const { input } = options;
    if (input.isTTY) {
      emitKeypressEvents(input);
      input.setRawMode(true);
      input.on('keypress', (_text: string, key: Key | undefined) => this.dispatch(key ?? {}));
    } else {
      input.setEncoding('utf8');
      input.on('data', (chunk: string) => {
        for (const ch of chunk.replace(/\r?\n/g, '\r')) this.dispatch(TerminalUi.keyOf(ch));
      });
    }
  }

  /** A character read from a pipe, named as readline names keys. */
  private static keyOf(ch: string): Key {
    const names: Record<string, string> = {
      '\r': 'return',
      '\x1b': 'escape',
      '\x7f': 'backspace',
      '\b': 'backspace',
    };
    return { name: names[ch] ?? ch, sequence: ch };
  }

  private labels(): Record<Capability, string> {
    const root = this.options.filesRoot ? printableLine(this.options.filesRoot) : undefined;
    return {
      view: 'see your screen',
      control: 'control your mouse and keyboard',
      chat: 'chat with you',
      files: root ? `transfer files in ${root}` : 'transfer files',
      shell: root ? `run commands as you, starting in ${root}` : 'open a command shell',
      clipboard: 'copy and paste text through your clipboard',
      guidance: 'show their pointer and marks on your screen (no control)',
    };
  }

  /** Writes whole lines; a chat message being written stays on the last line. */
  private write(text: string): void {
    if (this.composer) this.options.output.write('\r\x1b[K');
    this.options.output.write(text);
    if (this.composer) this.drawDraft();
  }

  private drawDraft(): void {
    this.options.output.write(`\r\x1b[K  Message (Enter sends, Esc cancels): ${this.composer?.draft ?? ''}`);
  }

  private dispatch(key: Key): void {
    if (this.composer) {
      this.compose(key);
      return;
    }
    if (key.ctrl && key.name === 'c') {
      this.onEnd?.();
      return;
    }
    if (this.keyHandler) {
      this.keyHandler(key);
      return;
    }
    if (key.name === 'q') this.onEnd?.();
    if (key.name === CHAT_KEY) this.startMessage();
    if (key.name === REMOVE_KEY) this.chooseRemoval();
    if (key.name === WINDOW_KEY) void this.chooseWindow();
    const capability = CAPABILITIES.find((c) => KEYS[c] === key.name);
    if (capability) this.onToggle?.(capability);
  }

  private startMessage(): void {
    if (!this.permissions) return;
    if (!this.permissions.chat) {
      this.write(`  Chat is off. Press ${KEYS.chat} to allow chat, then ${CHAT_KEY} to write a message.\n`);
      return;
    }
    this.composer = new ChatComposer();
    this.drawDraft();
  }

  private compose(key: Key): void {
    const composer = this.composer!;
    const result = composer.key(key);
    if (result === 'typing') {
      this.drawDraft();
      return;
    }
    this.composer = undefined;
    this.options.output.write('\r\x1b[K');
    const text = composer.draft.trim();
    if (result === 'cancel' || !text) {
      this.write('  Message not sent.\n');
      return;
    }
    if (this.onChat?.(text)) this.printChat('You', Date.now(), text);
    else this.write('  The message could not be sent: chat is off or the connection is down.\n');
  }

  private printChat(from: string, sentAt: number, text: string): void {
    const [first = '', ...rest] = printableLines(text);
    const head = `  [chat] ${printableLine(from)}, ${clock(sentAt)}: `;
    const indent = ' '.repeat(head.length);
    this.write(`${head}${first}\n${rest.map((line) => `${indent}${line}\n`).join('')}`);
  }

  showCode(code: string, expiresAt: Date): void {
    const minutes = Math.max(1, Math.round((expiresAt.getTime() - Date.now()) / 60_000));
    this.write(
      [
        '',
        '  Lifeline remote assistance',
        '',
        '  Read this code to your help-desk operator:',
        '',
        `      ${formatConnectionCode(code)}`,
        '',
        `  The code works once and expires in ${minutes} minutes.`,
        '  Nobody can see or control anything until you accept. Press q to quit.',
        ...(this.windows ? [`  Press ${WINDOW_KEY} to share one window instead of the whole screen.`] : []),
        '',
      ].join('\n'),
    );
  }

  /**
   * The invitation the user created: the link to send, how long it stays open, and the reminder to
   * tell the password another way. The password itself is never shown again.
   */
  showInvitation(link: string, expiresAt: Date, file?: string): void {
    const minutes = Math.max(1, Math.round((expiresAt.getTime() - Date.now()) / 60_000));
    this.write(
      [
        '',
        '  Lifeline remote assistance: invitation',
        '',
        '  Send this link to the person who will help you:',
        '',
        `      ${printableLine(link)}`,
        '',
        ...(file ? [`  The invitation is also in the file ${printableLine(file)}.`] : []),
        '  Tell them the password yourself (by phone, in person), not in the message with the link.',
        `  The invitation works once and expires at ${clock(expiresAt.getTime())} (in ${minutes} minutes).`,
        '  Nobody can see or control anything until you accept. Press q to quit.',
        '',
      ].join('\n'),
    );
  }

  askConsent(
    operator: OperatorInfo,
    requested: Permissions,
    modes?: ModeOffer,
  ): Promise<{ accepted: boolean; permissions: Permissions }> {
    const name = printableLine(operator.name);
    if (this.options.autoAccept) {
      this.write(
        `\n  ${name} connected. Accepted automatically (--accept): ${grantedCapabilities(requested).join(', ') || 'nothing'}.\n${this.recordedLine()}`,
      );
      return Promise.resolve({ accepted: true, permissions: requested });
    }
    // Input, files and shell start unticked even when asked for: the user turns them on (DESIGN.md).
    const choice = Object.fromEntries(
      CAPABILITIES.map((c) => [c, requested[c] && DEFAULT_OFFER[c]]),
    ) as Permissions;
    const labels = this.labels();
    // The user may pick another allowed mode instead of the one the session starts in.
    const choosable = { ...requested };
    for (const mode of modes?.allowed ?? []) for (const c of MODE_CAPABILITIES[mode]) choosable[c] = true;
    let allRoots = false;
    const render = () => {
      this.write(`\n  ${name} wants to connect to this computer.\n${modeLine(modes)}  They ask to:\n`);
      for (const capability of CAPABILITIES) {
        if (!choosable[capability]) continue;
        this.write(`    [${KEYS[capability]}] ${choice[capability] ? '[x]' : '[ ]'} ${labels[capability]}\n`);
      }
      if (this.offerAllRoots && choosable.files) {
        const mark = allRoots ? '[x]' : '[ ]';
        this.write(
          `    [${ALL_ROOTS_KEY}] ${mark} files on every drive and mount of this computer, not only the shared folder\n`,
        );
      }
      if (requested.view && this.windows) {
        const shared =
          this.sharedWindow === null ? 'the whole screen' : `only "${printableLine(this.sharedWindow)}"`;
        this.write(`    [${WINDOW_KEY}] They see: ${shared}\n`);
      }
      this.write(this.recordedLine());
      this.write('  Press a letter to switch an item, Enter to accept, n to refuse.\n');
    };
    render();
    return new Promise((resolve) => {
      const answer = (key: Key) => {
        if (key.name === WINDOW_KEY && requested.view && this.windows) {
          void this.chooseWindow(() => {
            this.keyHandler = answer;
            render();
          });
        } else if (key.name === ALL_ROOTS_KEY && this.offerAllRoots && choosable.files) {
          allRoots = !allRoots;
          render();
        } else if (answerOf(key) === 'yes') {
          this.keyHandler = undefined;
          this.allRootsGranted ||= allRoots && choice.files;
          resolve({ accepted: true, permissions: choice });
        } else if (answerOf(key) === 'no') {
          this.keyHandler = undefined;
          resolve({ accepted: false, permissions: choice });
        } else {
          const capability = CAPABILITIES.find((c) => KEYS[c] === key.name && choosable[c]);
          if (capability) {
            choice[capability] = !choice[capability];
            render();
          }
        }
      };
      this.keyHandler = answer;
    });
  }

  /**
   * An operator asks for more during the session: every capability asked starts ticked (it was asked
   * for by name), the user unticks what they refuse. With --accept, everything asked is allowed.
   */
  askMore(operator: OperatorInfo, missing: Permissions): Promise<Permissions> {
    const name = printableLine(operator.name);
    const asked = CAPABILITIES.filter((c) => missing[c]);
    const labels = this.labels();
    if (this.options.autoAccept) {
      this.write(
        `\n  ${name} asked to also: ${asked.map((c) => labels[c]).join(', ')}. Allowed automatically (--accept).\n`,
      );
      return Promise.resolve({ ...missing });
    }
    const choice = { ...missing };
    const render = () => {
      const items = asked.map((c) => `[${KEYS[c]}] ${choice[c] ? '[x]' : '[ ]'} ${labels[c]}`).join('  ');
      this.write(`\n  ${name} asks to also: ${items}\n`);
      this.write('  Press a letter to switch an item, Enter allows the ticked ones, n refuses.\n');
    };
    render();
    return new Promise((resolve) => {
      this.keyHandler = (key) => {
        if (answerOf(key) === 'yes') {
          this.keyHandler = undefined;
          resolve(choice);
        } else if (answerOf(key) === 'no') {
          this.keyHandler = undefined;
          resolve(Object.fromEntries(CAPABILITIES.map((c) => [c, false])) as Permissions);
        } else {
          const capability = asked.find((c) => KEYS[c] === key.name);
          if (capability) {
            choice[capability] = !choice[capability];
            render();
          }
        }
      };
    });
  }

  /** An additional operator asks to join: Enter (or y) lets them in, n refuses. */
  askJoin(operator: OperatorInfo): Promise<boolean> {
    const name = printableLine(operator.name);
    if (this.options.autoAccept) {
      this.write(`\n  ${name} joined the session. Let in automatically (--accept).\n`);
      return Promise.resolve(true);
    }
    this.write(
      `\n  ${name} also wants to join this session: they would see and do what you allow the others.\n` +
        '  Press Enter to let them in, n to refuse.\n',
    );
    return new Promise((resolve) => {
      this.keyHandler = (key) => {
        const answer = answerOf(key);
        if (!answer) return;
        this.keyHandler = undefined;
        resolve(answer === 'yes');
      };
    });
  }

  /**
   * An operator sends a file: the user accepts it (y or Enter), chooses another name inside the
   * shared folder (r), or refuses it (n). One file is asked about at a time; a file withdrawn by the
   * operator meanwhile is dropped from the screen. With --accept, every file is taken as sent.
   */
  offerFile(offer: IncomingFile, signal: AbortSignal): Promise<IncomingFileAnswer> {
    const name = printableLine(offer.operator);
    if (this.options.autoAccept) {
      const where = printableLine(displayPath(offer.root, offer.path));
      this.write(
        `  ${name} sends you ${where} (${formatBytes(offer.size)}). Accepted automatically (--accept).\n`,
      );
      return Promise.resolve({ accepted: true, path: offer.path });
    }
    const turn = this.fileQuestions.then(() => this.askAboutFile(offer, signal));
    this.fileQuestions = turn.catch(() => {});
    return turn;
  }

  private async askAboutFile(offer: IncomingFile, signal: AbortSignal): Promise<IncomingFileAnswer> {
    // Another question (consent, more access) has the keys: this one waits its turn.
    while (this.keyHandler && !signal.aborted) await new Promise((resolve) => setTimeout(resolve, 100));
    if (signal.aborted) return { accepted: false };
    const name = printableLine(offer.operator);
    let path = offer.path;
    let renaming: ChatComposer | undefined;
    const where = () => printableLine(displayPath(offer.root, path));
    const render = () => {
      this.write(
        `\n  ${name} sends you a file (${formatBytes(offer.size)}), to be saved as ${where()}\n` +
          '  Press y to accept, r to choose another name, n to refuse.\n',
      );
    };
    const drawName = () =>
      this.options.output.write(
        `\r\x1b[K  New name (Enter to use it, Esc to keep ${printableLine(path)}): ${renaming?.draft ?? ''}`,
      );
    render();
    return new Promise((resolve) => {
      const settle = (answer: IncomingFileAnswer, line: string) => {
        signal.removeEventListener('abort', withdraw);
        this.keyHandler = undefined;
        if (renaming) this.options.output.write('\r\x1b[K');
        this.write(`  ${line}\n`);
        resolve(answer);
      };
      const withdraw = () => settle({ accepted: false }, `${name} withdrew the file ${where()}.`);
      signal.addEventListener('abort', withdraw, { once: true });
      this.keyHandler = (key) => {
        if (renaming) {
          const result = renaming.key(key);
          if (result === 'typing') {
            drawName();
            return;
          }
          const typed = renaming.draft;
          renaming = undefined;
          this.options.output.write('\r\x1b[K');
          if (result === 'send' && typed.trim()) {
            const chosen = renamedPath(offer.path, typed);
            if (chosen) path = chosen;
            else this.write('  That name would leave the shared folder; type a name inside it.\n');
          }
          render();
          return;
        }
        if (key.name === 'y' || key.name === 'return' || key.name === 'enter') {
          settle({ accepted: true, path }, `You accepted the file: ${where()}`);
        } else if (key.name === 'n' || key.name === 'escape') {
          settle({ accepted: false }, `You refused the file from ${name}.`);
        } else if (key.name === 'r') {
          renaming = new ChatComposer();
          drawName();
        }
      };
    });
  }

  /** Lists who is connected and who is in control. */
  operatorsChanged(operators: readonly ConnectedOperator[]): void {
    this.operators = operators;
    if (operators.length === 0) return;
    const names = operators
      .map((operator) => `${printableLine(operator.name)}${operator.inControl ? ' (in control)' : ''}`)
      .join(', ');
    const remove = operators.length > 1 ? ` Press ${REMOVE_KEY} to remove one of them.` : '';
    this.write(`  Connected: ${names}.${remove}\n`);
  }

  /** Numbers the connected operators; a number removes that one, any other key cancels. */
  private chooseRemoval(): void {
    const listed = this.operators.slice(0, MAX_NUMBERED);
    if (listed.length === 0) return;
    const items = listed
      .map((operator, index) => `[${index + 1}] ${printableLine(operator.name)}`)
      .join('  ');
    this.write(`  Remove which operator? ${items}  (any other key cancels)\n`);
    this.keyHandler = (key) => {
      this.keyHandler = undefined;
      const chosen = listed[Number(key.name) - 1];
      if (chosen && /^[1-9]$/.test(key.name ?? '')) {
        this.write(`  Removing ${printableLine(chosen.name)} from the session.\n`);
        this.onRemove?.(chosen.slot);
      } else {
        this.write('  Nobody removed.\n');
      }
    };
  }

  /**
   * Numbers the windows with a title; a number shares that one alone, 0 the whole screen again.
   * `then` runs once the user answered (the consent question takes the keys back).
   */
  private async chooseWindow(then?: () => void): Promise<void> {
    const windows = this.windows;
    if (!windows) {
      this.write('  Sharing one window is not available on this system.\n');
      return;
    }
    const titles = (await windows.titles().catch(() => [])).slice(0, MAX_NUMBERED);
    if (this.keyHandler && !then) return;
    const items = titles.map((title, index) => `    [${index + 1}] ${printableLine(title)}\n`).join('');
    this.write(`  Share which window? [0] the whole screen  (any other key cancels)\n${items}`);
    this.keyHandler = (key) => {
      this.keyHandler = undefined;
      const index = /^[0-9]$/.test(key.name ?? '') ? Number(key.name) - 1 : undefined;
      const title = index === undefined ? undefined : index === -1 ? null : titles[index];
      if (title === undefined) {
        this.write('  Nothing changed.\n');
        then?.();
        return;
      }
      void windows.share(title === null ? null : (index as number)).then((shared) => {
        if (shared) this.sharedWindow = title;
        then?.();
      });
    };
  }

  sessionRecorded(): void {
    this.recorded = true;
  }

  /** The recorded notice as a line, or nothing when the session is not recorded. */
  private recordedLine(): string {
    return this.recorded ? `  ${RECORDED_NOTICE}\n` : '';
  }

  /**
   * The device reached a session the help desk prepared and nobody has joined it yet: the operators
   * see it in their session list as waiting for them.
   */
  helpDeskCalled(host: string): void {
    this.write(
      [
        '',
        `  Connected. Calling your help desk at ${printableLine(host)}: an operator will join in a moment.`,
        '  Nobody can see or control anything until you accept. Press q to quit.',
        '',
      ].join('\n'),
    );
  }

  status(text: string): void {
    this.write(`  ${printableLine(text)}\n`);
  }

  chatReceived(message: ChatLine): void {
    this.printChat(message.from, message.sentAt, message.text);
    this.write(`  (press ${CHAT_KEY} to answer)\n`);
  }

  permissionsChanged(permissions: Permissions): void {
    this.permissions = { ...permissions };
    const line = CAPABILITIES.map((c) => `[${KEYS[c]}] ${c} ${permissions[c] ? 'ON' : 'off'}`).join('  ');
    const chat = permissions.chat ? `${CHAT_KEY} to write a message, ` : '';
    const window = this.windows ? `${WINDOW_KEY} to share one window or the whole screen, ` : '';
    this.write(
      `\n  Session active. ${line}\n${this.recordedLine()}  Press a letter to switch, ${chat}${window}q to end the session.\n`,
    );
  }

  ended(reason: string): void {
    this.composer = undefined;
    this.write(`\n  Session ended: ${reason}.\n`);
  }

  /** Gives the terminal back as it was. */
  close(): void {
    if (this.options.input.isTTY) this.options.input.setRawMode(false);
    this.options.input.pause();
  }
}
