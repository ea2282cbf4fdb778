import { emitKeypressEvents } from 'node:readline';
import {
  CAPABILITIES,
  type Capability,
  DEFAULT_OFFER,
  formatConnectionCode,
  grantedCapabilities,
  type OperatorInfo,
  type Permissions,
} from '../../protocol/index.ts';
import type { UserInterface } from '../core/ports.ts';

const LABELS: Record<Capability, string> = {
  view: 'see your screen',
  control: 'control your mouse and keyboard',
  chat: 'chat with you',
  files: 'transfer files',
  shell: 'open a command shell',
};

/** Key that toggles each capability in the terminal. */
const KEYS: Record<Capability, string> = { view: 'v', control: 'c', chat: 'h', files: 'f', shell: 's' };

interface Key {
  name?: string;
  ctrl?: boolean;
  sequence?: string;
}

export interface TerminalUiOptions {
  /** Accept every request without asking, up to `allowed`: for automation and tests only. */
  autoAccept: boolean;
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}

/**
 * The end user's terminal: shows the code, asks for consent capability by capability, and while the
 * session runs lets the user toggle each permission or end the session with a key.
 */
export class TerminalUi implements UserInterface {
  private keyHandler: ((key: Key) => void) | undefined;
  /** Set by the host: called when the user presses a key during the session. */
  onToggle: ((capability: Capability) => void) | undefined;
  onEnd: (() => void) | undefined;

  constructor(private readonly options: TerminalUiOptions) {
    const { input } = options;
    if (input.isTTY) {
      emitKeypressEvents(input);
      input.setRawMode(true);
      input.on('keypress', (_text: string, key: Key | undefined) => this.dispatch(key ?? {}));
    } else {
      input.setEncoding('utf8');
      input.on('data', (chunk: string) => {
        for (const ch of chunk.replace(/\r?\n/g, '\r'))
          this.dispatch({ name: ch === '\r' ? 'return' : ch, sequence: ch });
      });
    }
  }

  private write(text: string): void {
    this.options.output.write(text);
  }

  private dispatch(key: Key): void {
    if (key.ctrl && key.name === 'c') {
      this.onEnd?.();
      return;
    }
    if (this.keyHandler) {
      this.keyHandler(key);
      return;
    }
    if (key.name === 'q') this.onEnd?.();
    const capability = CAPABILITIES.find((c) => KEYS[c] === key.name);
    if (capability) this.onToggle?.(capability);
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
        '',
      ].join('\n'),
    );
  }

  askConsent(
    operator: OperatorInfo,
    requested: Permissions,
  ): Promise<{ accepted: boolean; permissions: Permissions }> {
    if (this.options.autoAccept) {
      this.write(
        `\n  ${operator.name} connected. Accepted automatically (--accept): ${grantedCapabilities(requested).join(', ') || 'nothing'}.\n`,
      );
      return Promise.resolve({ accepted: true, permissions: requested });
    }
    // Input, files and shell start unticked even when asked for: the user turns them on (DESIGN.md).
    const choice = Object.fromEntries(
      CAPABILITIES.map((c) => [c, requested[c] && DEFAULT_OFFER[c]]),
    ) as Permissions;
    const render = () => {
      this.write(`\n  ${operator.name} wants to connect to this computer.\n  They ask to:\n`);
      for (const capability of CAPABILITIES) {
        if (!requested[capability]) continue;
        this.write(`    [${KEYS[capability]}] ${choice[capability] ? '[x]' : '[ ]'} ${LABELS[capability]}\n`);
      }
      this.write('  Press a letter to switch an item, Enter to accept, n to refuse.\n');
    };
    render();
    return new Promise((resolve) => {
      this.keyHandler = (key) => {
        if (key.name === 'return' || key.name === 'enter' || key.name === 'y') {
          this.keyHandler = undefined;
          resolve({ accepted: true, permissions: choice });
        } else if (key.name === 'n' || key.name === 'escape') {
          this.keyHandler = undefined;
          resolve({ accepted: false, permissions: choice });
        } else {
          const capability = CAPABILITIES.find((c) => KEYS[c] === key.name && requested[c]);
          if (capability) {
            choice[capability] = !choice[capability];
            render();
          }
        }
      };
    });
  }

  status(text: string): void {
    this.write(`  ${text}\n`);
  }

  permissionsChanged(permissions: Permissions): void {
    const line = CAPABILITIES.map((c) => `[${KEYS[c]}] ${c} ${permissions[c] ? 'ON' : 'off'}`).join('  ');
    this.write(`\n  Session active. ${line}\n  Press a letter to switch, q to end the session.\n`);
  }

  ended(reason: string): void {
    this.write(`\n  Session ended: ${reason}.\n`);
  }

  /** Gives the terminal back as it was. */
  close(): void {
    if (this.options.input.isTTY) this.options.input.setRawMode(false);
    this.options.input.pause();
  }
}
