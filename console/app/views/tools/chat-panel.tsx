import { useEffect, useRef, useState } from 'preact/hooks';
import { MAX_CHAT_CHARS } from '../../../../protocol/index.ts';
import { formatMoment } from '../../format/time.ts';
import type { ChatController, ChatEntry } from '../../tools/chat-controller.ts';
import type { ToolAvailability } from '../../tools/tool-availability.ts';
import { useObservedState } from '../hooks.ts';
import { IconSend } from '../icons.tsx';
import { ToolAlert, ToolUnavailable } from './tool-unavailable.tsx';

/** The counter shows once a message is this close to the limit, in characters. */
const SHOW_COUNT_FROM = MAX_CHAT_CHARS - 500;

function ChatLine({ entry }: { entry: ChatEntry }) {
  const kind = entry.mine ? 'mine' : entry.authorKind;
  return (
    <li class={`chat-line chat-line--${kind}`} data-testid="chat-message" data-author-kind={kind}>
      <div class="chat-line__meta">
        <span class="chat-line__author" data-testid="chat-author">
          {entry.author}
        </span>
        <time class="chat-line__time" dateTime={new Date(entry.sentAt).toISOString()}>
          {formatMoment(entry.sentAt)}
        </time>
        {entry.delivery === 'sending' && <span class="chat-line__state">Sending…</span>}
        {entry.delivery === 'failed' && (
          <span class="chat-line__state chat-line__state--failed" data-testid="chat-failed">
            Not delivered
          </span>
        )}
      </div>
      <div class="chat-line__text" data-testid="chat-text">
        {entry.text}
      </div>
    </li>
  );
}

/**
 * The session's chat: the conversation (history included), and a box where Enter sends and
 * Shift+Enter starts a new line. Disabled, with the reason, while chat is not allowed.
 */
export function ChatPanel({ chat, availability }: { chat: ChatController; availability: ToolAvailability }) {
  const state = useObservedState(chat);
  const [draft, setDraft] = useState('');
  const listRef = useRef<HTMLOListElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [state.messages.length]);

  const send = () => {
    if (!availability.usable) return;
    const refusal = chat.send(draft);
    if (refusal === null) setDraft('');
  };

  return (
    <section class="chat" data-testid="chat-panel" aria-label="Chat">
      <ol class="chat__messages" ref={listRef} aria-live="polite">
        {state.messages.length === 0 && (
          <li class="chat__empty">No messages yet. What you write here appears on the user's screen.</li>
        )}
        {state.messages.map((entry) => (
          <ChatLine key={entry.id} entry={entry} />
        ))}
      </ol>
      {state.error && (
        <ToolAlert message={state.error} testId="chat-error" onDismiss={() => chat.clearError()} />
      )}
      {availability.reason && (
        <ToolUnavailable reason={availability.reason} testId="chat-unavailable" ask={availability.ask} />
      )}
      <form
        class="chat__compose"
        onSubmit={(event) => {
          event.preventDefault();
          send();
        }}
      >
        <textarea
          ref={inputRef}
          class="chat__input"
          data-testid="chat-input"
          rows={2}
          maxLength={MAX_CHAT_CHARS}
          placeholder={availability.usable ? 'Write a message…' : ''}
          aria-label="Message"
          value={draft}
          disabled={!availability.usable}
          onInput={(event) => {
            setDraft(event.currentTarget.value);
            chat.clearError();
          }}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
              event.preventDefault();
              send();
            }
          }}
        />
        <div class="chat__actions">
          <span class="chat__hint">{availability.usable && 'Enter sends · Shift+Enter for a new line'}</span>
          {draft.length >= SHOW_COUNT_FROM && (
            <span class="chat__count">
              {draft.length} / {MAX_CHAT_CHARS}
            </span>
          )}
          <button
            type="submit"
            class="btn btn--primary btn--small"
            data-testid="chat-send"
            disabled={!availability.usable || draft.trim() === ''}
          >
            <IconSend size={14} /> Send
          </button>
        </div>
      </form>
    </section>
  );
}
