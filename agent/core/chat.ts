import { type ControlMessage, MAX_CHAT_CHARS, type MessageOf } from '../../protocol/index.ts';
import type { UserInterface } from './ports.ts';

/**
 * Chat between the end user and the help desk, on the device's side: operators' messages are shown
 * only while the user allows chat (the relay checks too), and the user's own go out with a fresh id
 * for the relay to stamp with author and time.
 */
export class SessionChat {
  /** Messages from operators that came while chat was not allowed, and were not shown. */
  dropped = 0;

  constructor(
    private readonly ui: UserInterface,
    /** Whether the user allows chat now (consent accepted, permission on, within policy). */
    private readonly allowed: () => boolean,
    /** Sends a message; false when the connection is down. */
    private readonly send: (message: ControlMessage) => boolean,
  ) {}

  /** Whether this user interface can show chat at all (then hello offers 'chat'). */
  get offered(): boolean {
    return this.ui.chatReceived !== undefined;
  }

  receive(message: MessageOf<'chat'>): void {
    if (message.from?.kind === 'user') return;
    if (!this.allowed() || !this.ui.chatReceived) {
      this.dropped++;
      return;
    }
    this.ui.chatReceived({
      from: message.from?.name ?? 'The operator',
      text: message.text,
      sentAt: message.sentAt ?? Date.now(),
    });
  }

  /** Sends the user's message; false when chat is not allowed, the text is empty or too long, or offline. */
  write(text: string): boolean {
    const trimmed = text.trim();
    if (!this.allowed() || !trimmed || trimmed.length > MAX_CHAT_CHARS) return false;
    return this.send({ type: 'chat', id: crypto.randomUUID(), text: trimmed });
  }
}
