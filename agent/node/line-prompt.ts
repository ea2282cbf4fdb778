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
    input: NodeJS.ReadStream = process.stdin,
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

  close(): void {
    this.rl.close();
  }
}
