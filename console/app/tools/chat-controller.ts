import { MAX_CHAT_CHARS, type MessageOf } from '../../../protocol/index.ts';
import { Store } from './store.ts';

/** Messages the panel keeps; older ones scroll away for good. */
const MAX_KEPT_MESSAGES = 500;

/** One line of the conversation. */
export interface ChatEntry {
  id: string;
  text: string;
  /** Who wrote it, as the relay stamped it; the operator's own name before the echo. */
  author: string;
  authorKind: 'operator' | 'user';
  /** Written in this console. */
  mine: boolean;
  /** When the relay passed it on, in ms since the epoch; when it was typed while still pending. */
  sentAt: number;
  /** `sending` until the relay's echo confirms delivery; `failed` when it never will. */
  delivery: 'sending' | 'delivered' | 'failed';
}

export interface ChatState {
  messages: ChatEntry[];
  /** Messages from others that arrived while the panel was not showing. */
  unread: number;
  /** Why the last message could not be sent, if it could not. */
  error: string | null;
}

/** Why {@link ChatController.send} refused a message before it left. */
export type ChatSendRefusal = 'empty' | 'too-long' | 'offline';

/**
 * The session's chat: sends the operator's messages, takes the relay's stamped echoes, history
 * and everyone else's messages, and counts what arrived unseen.
 * @example
 * chat.send('Can you open the settings?');
 * chat.receive(message); // from the relay
 */
export class ChatController extends Store<ChatState> {
  readonly #send: (message: MessageOf<'chat'>) => boolean;
  readonly #mine = new Set<string>();
  #visible = false;

  constructor(send: (message: MessageOf<'chat'>) => boolean) {
    super({ messages: [], unread: 0, error: null });
    this.#send = send;
  }

  /** Sends `text`; returns why it was refused, or null once it is on its way. */
  send(text: string): ChatSendRefusal | null {
    if (text.trim() === '') return 'empty';
    if (text.length > MAX_CHAT_CHARS) return 'too-long';
    const id = crypto.randomUUID();
    if (!this.#send({ type: 'chat', id, text })) {
      this.update({ error: 'Not connected to the relay; the message was not sent.' });
      return 'offline';
    }
    this.#mine.add(id);
    const entry: ChatEntry = {
      id,
      text,
      author: 'You',
      authorKind: 'operator',
      mine: true,
      sentAt: Date.now(),
      delivery: 'sending',
    };
    this.update({ messages: this.#kept([...this.state.messages, entry]), error: null });
    return null;
  }

  /** A chat message from the relay: an echo of ours, someone else's, or history after joining. */
  receive(message: MessageOf<'chat'>): void {
    const mine = this.#mine.has(message.id);
    const entry: ChatEntry = {
      id: message.id,
      text: message.text,
      author: mine ? 'You' : (message.from?.name ?? 'Unknown'),
      authorKind: message.from?.kind ?? 'user',
      mine,
      sentAt: message.sentAt ?? Date.now(),
      delivery: 'delivered',
    };
    const index = this.state.messages.findIndex((existing) => existing.id === message.id);
    if (index >= 0) {
      // Our own echo, or history replayed after a reconnect: replace, never duplicate.
      const messages = [...this.state.messages];
      messages[index] = entry;
      this.update({ messages });
      return;
    }
    const unread = !mine && !this.#visible ? this.state.unread + 1 : this.state.unread;
    this.update({ messages: this.#kept([...this.state.messages, entry]), unread });
  }

  /** The relay refused chat (the user has not allowed it): nothing pending will arrive. */
  refused(reason: string): void {
    this.#failPending(reason);
  }

  /** The relay connection dropped: whatever was not echoed yet was not delivered. */
  disconnected(): void {
    this.#failPending(null);
  }

  /** Whether the operator can see the panel; showing it marks everything read. */
  setVisible(visible: boolean): void {
    this.#visible = visible;
    if (visible && this.state.unread > 0) this.update({ unread: 0 });
  }

  /** Forgets the last send error (the operator started typing again). */
  clearError(): void {
    if (this.state.error) this.update({ error: null });
  }

  #failPending(reason: string | null): void {
    if (!this.state.messages.some((entry) => entry.delivery === 'sending')) {
      if (reason) this.update({ error: reason });
      return;
    }
    this.update({
      messages: this.state.messages.map((entry) =>
        entry.delivery === 'sending' ? { ...entry, delivery: 'failed' } : entry,
      ),
      error: reason ?? 'The connection dropped before the message was delivered.',
    });
  }

  #kept(messages: ChatEntry[]): ChatEntry[] {
    return messages.length > MAX_KEPT_MESSAGES ? messages.slice(-MAX_KEPT_MESSAGES) : messages;
  }
}
