import { useEffect } from 'preact/hooks';
import { MAX_TERMINALS, type TerminalController } from '../../tools/terminal-controller.ts';
import type { TerminalSession } from '../../tools/terminal-session.ts';
import type { ToolAvailability } from '../../tools/tool-availability.ts';
import { useObservedState } from '../hooks.ts';
import { IconPlus, IconX } from '../icons.tsx';
import { TerminalPane } from './terminal-pane.tsx';
import { ToolUnavailable } from './tool-unavailable.tsx';

function TerminalTab({
  session,
  active,
  onSelect,
  onClose,
}: {
  session: TerminalSession;
  active: boolean;
  onSelect(): void;
  onClose(): void;
}) {
  const state = useObservedState(session);
  const tone = state.status === 'open' ? 'ok' : state.status === 'opening' ? 'busy' : 'off';
  return (
    <div class={`term-tab${active ? ' term-tab--active' : ''}`} role="presentation">
      <button
        type="button"
        role="tab"
        class="term-tab__select"
        aria-selected={active}
        data-testid="terminal-tab"
        title={state.shell ?? state.ended ?? state.title}
        onClick={onSelect}
      >
        <span class={`term-tab__dot term-tab__dot--${tone}`} aria-hidden="true" />
        {state.title}
      </button>
      <button
        type="button"
        class="term-tab__close"
        aria-label={`Close ${state.title}`}
        title="Close this shell"
        data-testid="terminal-close"
        onClick={onClose}
      >
        <IconX size={12} />
      </button>
    </div>
  );
}

/**
 * Terminals on the device, one tab each. The first opens when the panel does; more come from +.
 * While the user does not allow the shell, the panel says so and nothing can be opened.
 */
export function TerminalPanel({
  terminals,
  availability,
  visible,
}: {
  terminals: TerminalController;
  availability: ToolAvailability;
  visible: boolean;
}) {
  const state = useObservedState(terminals);

  // Opening the panel is asking for a shell; later, closing the last tab leaves it empty.
  useEffect(() => {
    if (visible && availability.usable && terminals.state.tabs.length === 0) terminals.add();
  }, [visible, availability.usable, terminals]);

  return (
    <section class="terminals" data-testid="terminal-panel" aria-label="Terminal">
      <div class="terminals__tabs" role="tablist">
        {state.tabs.map((tab) => (
          <TerminalTab
            key={tab.state.id}
            session={tab}
            active={tab.state.id === state.active}
            onSelect={() => terminals.select(tab.state.id)}
            onClose={() => terminals.remove(tab.state.id)}
          />
        ))}
        <button
          type="button"
          class="term-tab__new"
          data-testid="terminal-new"
          title={availability.usable ? 'Open another shell' : (availability.reason ?? '')}
          aria-label="Open another shell"
          disabled={!availability.usable || state.tabs.length >= MAX_TERMINALS}
          onClick={() => terminals.add()}
        >
          <IconPlus size={14} />
        </button>
      </div>
      {availability.reason && (
        <ToolUnavailable reason={availability.reason} testId="terminal-unavailable" ask={availability.ask} />
      )}
      <div class="terminals__panes">
        {state.tabs.length === 0 && availability.usable && (
          <div class="terminals__empty">No shell open. Use + to open one.</div>
        )}
        {state.tabs.map((tab) => (
          <TerminalPane
            key={tab.state.id}
            session={tab}
            visible={visible && tab.state.id === state.active}
            usable={availability.usable}
          />
        ))}
      </div>
    </section>
  );
}
