import type { Monitor, SharedWindow } from '../../protocol/index.ts';
import type { MonitorLayout } from '../core/ports.ts';
import type { AppWindow, Platform, ScreenArea, WindowState } from '../platform/platform.ts';

interface WindowShare {
  title: string;
  state: WindowState;
  stop: () => void;
}

/** What is shown of a window that is gone: nothing. */
const GONE: WindowState = { area: { x: 0, y: 0, width: 0, height: 0 }, hidden: true, covered: [] };

/**
 * The desktop's monitors as the platform lists them, and the part of the desktop shared: one
 * monitor, one application window the end user chose (README "Sharing one window"), or the whole
 * desktop (the default). The screen source captures `area()` and the input injector maps pointer
 * positions into it (and, for a window, only `accepts` its uncovered part), so a click lands on what
 * the operator sees.
 */
export class PlatformMonitors implements MonitorLayout {
  private chosen: Monitor | undefined;
  private shared: WindowShare | undefined;
  selected: number | null = null;
  /** Called when the shared window moved, changed size, was covered, hidden or shown, or closed. */
  onWindowChange: (() => void) | undefined;

  constructor(private readonly platform: Platform) {}

  list(): Monitor[] {
    return this.platform.monitors?.() ?? [];
  }

  select(index: number | null): boolean {
    if (index === null) {
      this.selected = null;
      this.chosen = undefined;
      return true;
    }
    const monitor = this.list()[index];
    if (!monitor) return false;
    this.selected = index;
    this.chosen = monitor;
    return true;
  }

  /** Whether the platform can share one window alone. */
  get canShareWindows(): boolean {
    return this.platform.windows !== undefined && this.platform.watchWindow !== undefined;
  }

  /** The windows the user may share, with titles. */
  async windows(): Promise<AppWindow[]> {
    return (await this.platform.windows?.()) ?? [];
  }

  /**
   * Shares `window` alone, following it as it moves, or the whole desktop again (null). Resolves
   * false when the window is already gone (what was shared before stays shared).
   */
  async shareWindow(window: AppWindow | null): Promise<boolean> {
    if (window === null) {
      this.stopSharing();
      this.select(null);
      return true;
    }
    const watch = this.platform.watchWindow;
    if (!watch) return false;
    let share: WindowShare | undefined;
    let first: WindowState | undefined;
    const stop = await watch.call(this.platform, window.id, (state) => {
      if (!share) {
        first = state;
        return;
      }
      // A window that closed shows nothing until the user chooses again: never the desktop behind it.
      share.state = state ?? GONE;
      if (this.shared === share) this.onWindowChange?.();
    });
    if (!first) {
      stop();
      return false;
    }
    this.stopSharing();
    share = { title: window.title, state: first, stop };
    this.shared = share;
    return true;
  }

  private stopSharing(): void {
    this.shared?.stop();
    this.shared = undefined;
  }

  get window(): SharedWindow | undefined {
    if (!this.shared) return undefined;
    return { title: this.shared.title, hidden: this.shared.state.hidden };
  }

  /** The parts of `area()` to blank: other windows on the shared one. */
  covered(): readonly ScreenArea[] {
    return this.shared?.state.covered ?? [];
  }

  /** Whether a pointer position (fractions of `area()`) lies on what is shared and shown. */
  accepts(x: number, y: number): boolean {
    const state = this.shared?.state;
    if (!state) return true;
    if (state.hidden || x < 0 || y < 0 || x >= 1 || y >= 1) return false;
    const px = x * state.area.width;
    const py = y * state.area.height;
    return !state.covered.some((r) => px >= r.x && px < r.x + r.width && py >= r.y && py < r.y + r.height);
  }

  /** What is shared now, in desktop pixels. */
  area(): ScreenArea {
    if (this.shared) return this.shared.state.area;
    if (this.chosen) return this.chosen;
    return { x: 0, y: 0, ...this.platform.screenSize() };
  }

  /** Stops following the shared window (the session is over). */
  close(): void {
    this.stopSharing();
  }
}
