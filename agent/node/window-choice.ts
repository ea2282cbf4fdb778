import type { AppWindow } from '../platform/platform.ts';
import type { PlatformMonitors } from './monitor-layout.ts';
import type { TerminalUi } from './terminal-ui.ts';

/**
 * Lets the end user share one application window instead of the whole screen from the terminal
 * (README "Sharing one window"), where the platform can: the terminal lists the windows, the layout
 * follows the chosen one, and `restart` (the session's `sharedAreaChanged`) moves the capture onto
 * it whenever it changes.
 */
export function offerWindowChoice(
  ui: TerminalUi,
  monitors: PlatformMonitors,
  restart: () => Promise<void> | undefined,
): void {
  if (!monitors.canShareWindows) return;
  let listed: AppWindow[] = [];
  let wasHidden = false;

  const share = async (window: AppWindow | null): Promise<boolean> => {
    if (!(await monitors.shareWindow(window))) {
      ui.status('That window is gone; nothing changed.');
      return false;
    }
    wasHidden = false;
    ui.status(
      window
        ? `Only the window "${window.title}" is shared now. Press w to share the whole screen again.`
        : 'The whole screen is shared now.',
    );
    await restart();
    return true;
  };

  ui.windows = {
    titles: async () => {
      listed = await monitors.windows();
      return listed.map((window) => window.title);
    },
    share: async (index) => {
      const window = index === null ? null : listed[index];
      return window === undefined ? false : share(window);
    },
  };

  monitors.onWindowChange = () => {
    const hidden = monitors.window?.hidden ?? false;
    if (hidden && !wasHidden) {
      ui.status('The shared window is hidden or closed: your help desk sees nothing of this screen now.');
    }
    wasHidden = hidden;
    void restart();
  };
}
