import type { Page } from 'playwright-core';
import type { FirstPicture } from './instrumentation.ts';

/** The two systems measured side by side. */
export type System = 'lifeline' | 'vnc';

export const SYSTEM_LABEL: Record<System, string> = {
  lifeline: 'Lifeline',
  vnc: 'x11vnc+noVNC',
};

/** A remote-screen viewer open in headless Chromium, watching one X display. */
export interface Viewer {
  system: System;
  /** The page, instrumented by `instrumentation.ts`. */
  page: Page;
  /** Processes on the shared desktop's side: Lifeline's agent and its ffmpeg; x11vnc. */
  hostPids(): number[];
  /** The relay between desktop and browser: Lifeline's control plane; websockify. */
  relayPids(): number[];
  /** Puts the keyboard focus on the remote screen, so keys go to the remote side. */
  focus(): Promise<void>;
  /**
   * Opens a second viewer of the same screen in a new page, as a second operator joining, and says
   * when its first picture came; the page is closed again.
   */
  joinAnother(): Promise<FirstPicture>;
  /** Closes the page and stops what was started for this viewer. */
  stop(): Promise<void>;
}

/** Viewport of every viewer page; both viewers draw at the remote screen's own size whatever it is. */
export const VIEWPORT = { width: 1400, height: 1000 };
