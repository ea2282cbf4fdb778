import type { JSX } from 'preact';
import type { SessionState } from '../../session/session-state.ts';
import type { ChatController } from '../../tools/chat-controller.ts';
import { offers, type ToolFeature } from '../../tools/session-tools.ts';
import { useObservedState } from '../hooks.ts';
import { IconChat, IconClipboard, IconFolder, IconTerminal } from '../icons.tsx';
import type { ToolPanel } from './tools-dock.tsx';

const BUTTONS: Array<{ panel: ToolPanel; feature: ToolFeature; label: string; icon: () => JSX.Element }> = [
  { panel: 'chat', feature: 'chat', label: 'Chat', icon: () => <IconChat size={15} /> },
  { panel: 'terminal', feature: 'shell', label: 'Terminal', icon: () => <IconTerminal size={15} /> },
  { panel: 'files', feature: 'files', label: 'Files', icon: () => <IconFolder size={15} /> },
  {
    panel: 'clipboard',
    feature: 'clipboard',
    label: 'Clipboard',
    icon: () => <IconClipboard size={15} />,
  },
];

export interface ToolButtonsProps {
  state: SessionState;
  chat: ChatController;
  panel: ToolPanel | null;
  onPanel(panel: ToolPanel | null): void;
}

/** Toolbar toggles for the panels the agent offers; Chat shows how many messages are unread. */
export function ToolButtons({ state, chat, panel, onPanel }: ToolButtonsProps) {
  const { unread } = useObservedState(chat);
  const offered = BUTTONS.filter((button) => offers(state.agent, button.feature));
  if (offered.length === 0) return null;
  return (
    <fieldset class="segmented" aria-label="Tools">
      {offered.map((button) => {
        const active = panel === button.panel;
        return (
          <button
            key={button.panel}
            type="button"
            class={`segmented__item segmented__item--icon${active ? ' segmented__item--active' : ''}`}
            aria-pressed={active}
            data-testid={`tool-${button.panel}`}
            title={active ? `Hide ${button.label.toLowerCase()}` : `Show ${button.label.toLowerCase()}`}
            onClick={() => onPanel(active ? null : button.panel)}
          >
            {button.icon()}
            {button.label}
            {button.panel === 'chat' && unread > 0 && !active && (
              <span class="unread" data-testid="chat-unread" title={`${unread} unread`}>
                {unread > 99 ? '99+' : unread}
                <span class="visually-hidden"> unread</span>
              </span>
            )}
          </button>
        );
      })}
    </fieldset>
  );
}
