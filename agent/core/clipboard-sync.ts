import { type ControlMessage, MAX_CLIPBOARD_CHARS, type MessageOf } from '../../protocol/index.ts';
import type { ClipboardHost } from './ports.ts';

/** How often the device's clipboard is read while the user allows sharing it, in ms. */
export const CLIPBOARD_POLL_MS = 500;

/** What the clipboard needs from its session. */
export interface ClipboardLink {
  /** Whether the user allows the clipboard now (consent accepted, permission on, within the policy). */
  allows(): boolean;
  send(message: ControlMessage): boolean;
  status(text: string): void;
}

/**
 * Shares the clipboard's text both ways while the user allows `clipboard`: the operators' copies go
 * onto the device's clipboard, and what the user copies goes to the operators. Watching starts from
 * what the clipboard holds when the permission is given, so text copied before it is never sent.
 * Text longer than MAX_CLIPBOARD_CHARS is not sent; the operators are told how long it was.
 *
 * @example
 * const clipboard = new SessionClipboard(host, { allows, send, status });
 * clipboard.update(); // after every change of the permissions
 * clipboard.receive(message); // an operator's `clipboard`
 */
export class SessionClipboard {
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The last text seen on or put on the clipboard, so that nobody gets their own copy back. */
  private last: string | undefined;
  /** The first read after watching starts only learns what is there. */
  private baseline = true;
  private reading = false;
  /** Operators' copies that arrived while the clipboard was not allowed, and were not applied. */
  dropped = 0;

  constructor(
    private readonly host: ClipboardHost | undefined,
    private readonly link: ClipboardLink,
  ) {}

  /** Whether this device can share its clipboard at all (a feature the agent announces). */
  get offered(): boolean {
    return this.host !== undefined;
  }

  /** Follows the user's permission: watches the clipboard while it is allowed, and only then. */
  update(): void {
    if (!this.host) return;
    if (this.link.allows() && !this.timer) {
      this.baseline = true;
      this.timer = setInterval(() => void this.poll(), CLIPBOARD_POLL_MS);
      void this.poll();
    } else if (!this.link.allows() && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** An operator's copy: put on the device's clipboard, enforced here whatever the relay passed on. */
  receive(message: MessageOf<'clipboard'>): void {
    if (!this.host || !this.link.allows() || message.tooLong !== undefined) {
      this.dropped++;
      return;
    }
    this.last = message.text;
    this.host.write(message.text).then(
      () => this.link.status(`The help desk put text (${message.text.length} characters) on your clipboard.`),
      (error: unknown) =>
        this.link.status(
          `The help desk's text could not be put on your clipboard: ${error instanceof Error ? error.message : String(error)}`,
        ),
    );
  }

  /** The session is over: stop watching and serving. */
  async finish(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.host?.close();
  }

  private async poll(): Promise<void> {
    if (this.reading || !this.host) return;
    this.reading = true;
    try {
      const text = await this.host.read();
      // Stopped while reading, or unreadable: nothing to say.
      if (text === undefined || !this.timer || !this.link.allows()) return;
      if (this.baseline) {
        this.baseline = false;
        this.last = text;
        return;
      }
      if (text === this.last || text === '') return;
      this.last = text;
      if (text.length > MAX_CLIPBOARD_CHARS) {
        this.link.send({ type: 'clipboard', text: '', tooLong: text.length });
        this.link.status(
          `You copied ${text.length} characters; only ${MAX_CLIPBOARD_CHARS} can be shared, so nothing was sent.`,
        );
        return;
      }
      if (this.link.send({ type: 'clipboard', text })) {
        this.link.status(`Text you copied (${text.length} characters) was sent to the help desk.`);
      }
    } finally {
      this.reading = false;
    }
  }
}
