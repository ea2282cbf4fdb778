import { useState } from 'preact/hooks';
import { MAX_CLIPBOARD_CHARS } from '../../../../protocol/index.ts';
import { formatMoment } from '../../format/time.ts';
import type { ClipboardController } from '../../tools/clipboard-controller.ts';
import type { ToolAvailability } from '../../tools/tool-availability.ts';
import { CopyButton } from '../common/copy-button.tsx';
import { useObservedState } from '../hooks.ts';
import { IconSend } from '../icons.tsx';
import { ToolAlert, ToolUnavailable } from './tool-unavailable.tsx';

/**
 * Clipboard text with the device: what the operator writes or pastes here goes onto the device's
 * clipboard for the user to paste, and what the user copies on the device shows here to copy.
 * Disabled, with the reason, while the user does not allow it.
 */
export function ClipboardPanel({
  clipboard,
  availability,
}: {
  clipboard: ClipboardController;
  availability: ToolAvailability;
}) {
  const state = useObservedState(clipboard);
  const [draft, setDraft] = useState('');
  const send = () => {
    if (availability.usable) clipboard.send(draft);
  };

  return (
    <section class="clipboard" data-testid="clipboard-panel" aria-label="Clipboard">
      {availability.reason && (
        <ToolUnavailable reason={availability.reason} testId="clipboard-unavailable" ask={availability.ask} />
      )}
      {state.error && (
        <ToolAlert message={state.error} testId="clipboard-error" onDismiss={() => clipboard.clearError()} />
      )}
      <h3 class="clipboard__title">From the device</h3>
      {state.fromDevice === null ? (
        <p class="clipboard__empty">What the user copies on the device appears here.</p>
      ) : (
        <div class="clipboard__received">
          <pre class="clipboard__text" data-testid="clipboard-device-text">
            {state.fromDevice}
          </pre>
          <div class="chat__actions">
            {state.fromDeviceAt !== null && (
              <span class="chat__hint">Copied at {formatMoment(state.fromDeviceAt)}</span>
            )}
            <CopyButton text={state.fromDevice} testId="clipboard-copy" class="btn--small" />
          </div>
        </div>
      )}
      <h3 class="clipboard__title">To the device</h3>
      <form
        class="clipboard__compose"
        onSubmit={(event) => {
          event.preventDefault();
          send();
        }}
      >
        <textarea
          class="chat__input"
          data-testid="clipboard-input"
          rows={4}
          placeholder={availability.usable ? 'Paste or write the text the user should paste…' : ''}
          aria-label="Text for the device's clipboard"
          value={draft}
          disabled={!availability.usable}
          onInput={(event) => {
            setDraft(event.currentTarget.value);
            clipboard.clearError();
          }}
        />
        <div class="chat__actions">
          <span class="chat__hint" data-testid="clipboard-sent">
            {state.sentLength !== null && `Sent ${state.sentLength} characters to the device's clipboard.`}
          </span>
          {draft.length > MAX_CLIPBOARD_CHARS && (
            <span class="chat__count">
              {draft.length} / {MAX_CLIPBOARD_CHARS}
            </span>
          )}
          <button
            type="submit"
            class="btn btn--primary btn--small"
            data-testid="clipboard-send"
            disabled={!availability.usable || draft === ''}
          >
            <IconSend size={14} /> Put on the device's clipboard
          </button>
        </div>
      </form>
    </section>
  );
}
