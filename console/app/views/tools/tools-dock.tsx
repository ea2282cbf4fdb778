import { useLayoutEffect } from 'preact/hooks';
import type { SessionController } from '../../session/session-controller.ts';
import type { SessionState } from '../../session/session-state.ts';
import { toolAvailability } from '../../tools/tool-availability.ts';
import { IconButton } from '../common/icon-button.tsx';
import { IconX } from '../icons.tsx';
import { ChatPanel } from './chat-panel.tsx';
import { ClipboardPanel } from './clipboard-panel.tsx';
import { FilesPanel } from './files-panel.tsx';
import { TerminalPanel } from './terminal-panel.tsx';

/** The panels beside the remote screen. */
export type ToolPanel = 'chat' | 'terminal' | 'files' | 'clipboard';

const TITLE: Record<ToolPanel, string> = {
  chat: 'Chat',
  terminal: 'Terminal',
  files: 'Files',
  clipboard: 'Clipboard',
};

export interface ToolsDockProps {
  controller: SessionController;
  state: SessionState;
  /** The panel showing; null hides the dock (its terminals keep running). */
  panel: ToolPanel | null;
  /** Panels opened at least once: they stay mounted, so terminals and drafts survive switching. */
  mounted: ReadonlySet<ToolPanel>;
  onClose(): void;
}

/** The dock at the right of the session view holding chat, terminals and files. */
export function ToolsDock({ controller, state, panel, mounted, onClose }: ToolsDockProps) {
  const tools = controller.tools;
  // A layout effect, so that a message arriving right after the panel is hidden counts as unread.
  useLayoutEffect(() => {
    tools.chat.setVisible(panel === 'chat');
  }, [panel, tools]);

  const chat = toolAvailability('chat', state, tools.access);
  const shell = toolAvailability('shell', state, tools.access);
  const files = toolAvailability('files', state, tools.access);
  const clipboard = toolAvailability('clipboard', state, tools.access);
  return (
    <aside
      class={`dock${panel ? ` dock--${panel}` : ''}`}
      hidden={panel === null}
      data-testid="tools-dock"
      aria-label={panel ? TITLE[panel] : 'Tools'}
    >
      <header class="dock__head">
        <h2 class="dock__title">{panel ? TITLE[panel] : ''}</h2>
        <IconButton label="Close the panel" testId="dock-close" onClick={onClose}>
          <IconX size={16} />
        </IconButton>
      </header>
      <div class="dock__body">
        {mounted.has('chat') && chat.offered && (
          <div class="dock__panel" hidden={panel !== 'chat'}>
            <ChatPanel chat={tools.chat} availability={chat} />
          </div>
        )}
        {mounted.has('terminal') && shell.offered && (
          <div class="dock__panel" hidden={panel !== 'terminal'}>
            <TerminalPanel terminals={tools.terminals} availability={shell} visible={panel === 'terminal'} />
          </div>
        )}
        {mounted.has('files') && files.offered && (
          <div class="dock__panel" hidden={panel !== 'files'}>
            <FilesPanel
              files={tools.files}
              transfers={tools.transfers}
              actions={tools.actions}
              availability={files}
              visible={panel === 'files'}
            />
          </div>
        )}
        {mounted.has('clipboard') && clipboard.offered && (
          <div class="dock__panel" hidden={panel !== 'clipboard'}>
            <ClipboardPanel clipboard={tools.clipboard} availability={clipboard} />
          </div>
        )}
      </div>
    </aside>
  );
}
