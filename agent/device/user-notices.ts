import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { printableLine } from '../node/printable.ts';
import { agentCommandLine } from './agent-command.ts';
import { notifyWindowsUser } from './windows/user-session.ts';

/** How long the same notice (same operator, same tool) is not repeated, in milliseconds. */
export const NOTICE_REPEAT_MS = 10 * 60_000;
/** How long a notice stays open when nobody closes it, in milliseconds. */
export const NOTICE_OPEN_MS = 10 * 60_000;

/**
 * Tells the user at the console what an operator did with the device's elevated tools: each
 * notice opens the notice terminal (notice-terminal.ts) running `lifeline-agent notice`, which shows
 * the text until the user presses Enter. The same notice (by `key`) is shown at most once per
 * {@link NOTICE_REPEAT_MS}, so an operator refreshing a list does not flood the desktop.
 *
 * @example
 * const told = notices.tell('processes:op-1', 'Ann of your help desk opened the task manager.');
 */
export class UserNotices {
  private readonly shown = new Map<string, number>();

  constructor(
    private readonly terminal: () => readonly string[] | undefined,
    private readonly log: (fields: Record<string, unknown>, message: string) => void,
  ) {}

  /**
   * Shows `text` unless the notice `key` was shown within {@link NOTICE_REPEAT_MS} (without a key:
   * always); answers whether
   * the user is (or was just) told, false when nobody sits at a display this device can reach.
   */
  tell(key: string | undefined, text: string): boolean {
    const now = Date.now();
    for (const [shown, at] of this.shown) if (now - at >= NOTICE_REPEAT_MS) this.shown.delete(shown);
    if (key !== undefined && this.shown.has(key)) return true;
    // Windows: a message on the user's desktop (WTSSendMessageW), told only when it was shown.
    if (process.platform === 'win32') return this.remember(key, now, notifyWindowsUser(text));
    const terminal = this.terminal();
    if (!terminal) return false;
    if (key !== undefined) this.shown.set(key, now);
    const self = agentCommandLine();
    // The text travels as one base64url word: inert for a terminal command that runs a shell.
    const words = [
      ...terminal,
      self.command,
      ...self.args,
      'notice',
      Buffer.from(text).toString('base64url'),
    ];
    const child = spawn(words[0]!, words.slice(1), { stdio: 'ignore', detached: true });
    child.once('error', (error) =>
      this.log({ event: 'notice-failed', error: error.message }, 'notice failed'),
    );
    child.unref();
    this.log({ event: 'notice', key }, 'user told');
    return true;
  }

  private remember(key: string | undefined, now: number, shown: boolean): boolean {
    if (shown && key !== undefined) this.shown.set(key, now);
    this.log({ event: shown ? 'notice' : 'notice-failed', key }, shown ? 'user told' : 'notice failed');
    return shown;
  }
}

/**
 * `lifeline-agent notice TEXT` (TEXT base64url): what a notice terminal runs. Shows the text, made
 * printable, until the user presses Enter or {@link NOTICE_OPEN_MS} pass.
 */
export async function runNotice(encoded: string | undefined): Promise<number> {
  const text = printableLine(Buffer.from(encoded ?? '', 'base64url').toString('utf8'));
  process.stdout.write(`\n  Lifeline: ${text}\n\n  Press Enter to close this notice.\n`);
  const lines = createInterface({ input: process.stdin });
  await Promise.race([new Promise((resolve) => lines.once('line', resolve)), sleep(NOTICE_OPEN_MS)]);
  lines.close();
  return 0;
}
