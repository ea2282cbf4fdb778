import type { Monitor } from '../../protocol/index.ts';
import type { MonitorLayout } from '../core/ports.ts';
import type { Platform, ScreenArea } from '../platform/platform.ts';

/**
 * The desktop's monitors as the platform lists them, and the part of the desktop shared: one
 * monitor, or the whole desktop (the default). The screen source captures `area()` and the input
 * injector maps pointer positions into it, so a click lands on the monitor the operator sees.
 */
export class PlatformMonitors implements MonitorLayout {
  private chosen: Monitor | undefined;
  selected: number | null = null;

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

  /** What is shared now, in desktop pixels. */
  area(): ScreenArea {
    if (this.chosen) return this.chosen;
    return { x: 0, y: 0, ...this.platform.screenSize() };
  }
}
