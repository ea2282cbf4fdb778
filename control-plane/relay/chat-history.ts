import { CHAT_HISTORY_MESSAGES, type ChatAuthor, type MessageOf } from '../../protocol/index.ts';

/** A chat message as the relay passes it on: stamped with its author and the time it arrived. */
export type StampedChat = MessageOf<'chat'> & { from: ChatAuthor; sentAt: number };

/** The last CHAT_HISTORY_MESSAGES chat messages of one live session, oldest first. */
export class ChatHistory {
  private readonly messages: StampedChat[] = [];

  /** Stamps a message with its author and the relay's clock, and keeps it. */
  add(message: MessageOf<'chat'>, from: ChatAuthor, now = Date.now()): StampedChat {
    const stamped: StampedChat = { type: 'chat', id: message.id, text: message.text, from, sentAt: now };
    this.messages.push(stamped);
    if (this.messages.length > CHAT_HISTORY_MESSAGES) this.messages.shift();
    return stamped;
  }

  /** The kept messages, oldest first. */
  list(): readonly StampedChat[] {
    return this.messages;
  }
}
