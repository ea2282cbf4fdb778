import type { Browser } from 'playwright-core';
import { launchChromium } from '../../tests/support/browser.ts';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.ts';
import { openLifeline } from '../viewers/lifeline.ts';
import { type StaticServer, startStaticServer } from '../viewers/static-server.ts';
import type { System, Viewer } from '../viewers/viewer.ts';
import { openVnc } from '../viewers/vnc.ts';

/**
 * What the parts share during one run: the browser, the page server for noVNC and the control
 * plane, each started on first use and stopped by `close()`.
 */
export class BenchContext {
  readonly systems: readonly System[] = ['lifeline', 'vnc'];
  #browser: Promise<Browser> | undefined;
  #pages: Promise<StaticServer> | undefined;
  #controlPlane: Promise<ControlPlaneProcess> | undefined;

  /**
   * @param log prints a progress line.
   * @param quick a smoke run: every part measures a fraction of its samples, to check that it works.
   */
  constructor(
    readonly log: (line: string) => void,
    readonly quick = false,
  ) {}

  /** `full` normally, a fifth of it (at least `floor`) in a quick run. */
  scaled(full: number, floor = 1): number {
    return this.quick ? Math.max(floor, Math.round(full / 5)) : full;
  }

  browser(): Promise<Browser> {
    this.#browser ??= launchChromium();
    return this.#browser;
  }

  controlPlane(): Promise<ControlPlaneProcess> {
    this.#controlPlane ??= startControlPlaneProcess();
    return this.#controlPlane;
  }

  /** Stops the control plane so the next part starts with a fresh one (empty relay, new throttles). */
  async restartControlPlane(): Promise<void> {
    const current = this.#controlPlane;
    this.#controlPlane = undefined;
    await (await current?.catch(() => undefined))?.stop();
  }

  /** Opens `system`'s viewer on `display` in the shared browser. */
  async openViewer(system: System, display: string): Promise<Viewer> {
    const browser = await this.browser();
    if (system === 'lifeline') return openLifeline(browser, display, await this.controlPlane());
    this.#pages ??= startStaticServer();
    return openVnc(browser, display, await this.#pages);
  }

  async close(): Promise<void> {
    const settle = <T>(value: Promise<T> | undefined) => value?.catch(() => undefined);
    await (await settle(this.#browser))?.close().catch(() => {});
    await (await settle(this.#pages))?.close();
    await this.restartControlPlane();
  }
}
