import { createInterface, type Interface } from 'node:readline';

/**
 * Asks the end user for lines of text before the session starts (server address, session code).
 * One readline interface for every question, so lines typed or piped ahead are kept, not lost
 * between questions. Close it before the terminal UI takes over the input.
 */
export class LinePrompt {
  private readonly rl: Interface;
  private readonly lines: AsyncIterator<string>;

  constructor(
    private readonly input: NodeJS.ReadStream = process.stdin,
    private readonly output: NodeJS.WriteStream = process.stdout,
  ) {
    this.rl = createInterface({ input, terminal: false });
    this.lines = this.rl[Symbol.asyncIterator]();
  }

  /** Shows `question` and resolves with the trimmed answer, or undefined when the input has ended. */
  async ask(question: string): Promise<string | undefined> {
    this.output.write(question);
    const next = await this.lines.next();
    return next.done ? undefined : String(next.value).trim();
  }

  /**
   * Like {@link ask}, without showing what is typed when the input is a terminal: the terminal's echo
   * is off (raw mode) until Enter, and backspace, Ctrl-U, Ctrl-C and Ctrl-D keep their meaning. Piped
   * input is read as it is. Resolves with undefined when the input ended or the user gave up.
   */
  async askSecret(question: string): Promise<string | undefined> {
    const terminal = this.input;
    if (!terminal.isTTY || typeof terminal.setRawMode !== 'function') return this.ask(question);
    terminal.setRawMode(true);
    let typed: string | undefined;
    try {
      typed = await this.ask(question);
    } finally {
      terminal.setRawMode(false);
      this.output.write('\n');
    }
    return typed === undefined ? undefined : editedLine(typed);
  }

  close(): void {
    this.rl.close();
  }
}

/**
 * What a raw-mode line means once its editing keys are applied: backspace removes a character, Ctrl-U
 * the whole line; Ctrl-C interrupts this process as it would in cooked mode; Ctrl-D gives up.
 */
export function editedLine(raw: string): string | undefined {
  let line = '';
  for (const char of raw) {
    if (char === '\x7f' || char === '\b') line = [...line].slice(0, -1).join('');
    else if (char === '\x15') line = '';
    else if (char === '\x03') {
      process.kill(process.pid, 'SIGINT');
      return undefined;
    } else if (char === '\x04') return undefined;
    else line += char;
  }
  return line.trim();
}
