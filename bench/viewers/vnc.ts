import type { Browser } from 'playwright-core';
import { BenchFailure } from '../support/failure.ts';
import { freePort, waitForPort } from '../support/net.ts';
import { processTree, startProcess } from '../support/processes.ts';
import { instrument, joinInNewPage } from './instrumentation.ts';
import type { StaticServer } from './static-server.ts';
import { VIEWPORT, type Viewer } from './viewer.ts';

/** How long noVNC may take to show the first picture, in ms. */
const CONNECT_TIMEOUT_MS = 30_000;

/**
 * The peer as people deploy it: x11vnc serving `display` with its default settings (loopback only,
 * no password), websockify in front of it, and noVNC's RFB client, default settings too, in a page
 * of its own.
 */
export async function openVnc(
  browser: Browser,
  display: string,
  pages: StaticServer,
  /** Where websockify listens for the viewer: loopback, or the thin link's near end. */
  address = '127.0.0.1',
): Promise<Viewer> {
  const vncPort = await freePort();
  const x11vnc = startProcess('x11vnc', 'x11vnc', [
    ...['-display', display, '-rfbport', String(vncPort)],
    ...['-localhost', '-nopw', '-forever', '-shared', '-quiet'],
  ]);
  const context = await browser.newContext({ viewport: VIEWPORT });
  let websockify: ReturnType<typeof startProcess> | undefined;
  const stop = async () => {
    await context.close().catch(() => {});
    await websockify?.stop();
    await x11vnc.stop();
  };
  try {
    await waitForPort(vncPort, 'x11vnc', 15_000).catch((error: unknown) => {
      throw new BenchFailure(`${String(error)}\n${x11vnc.output()}`);
    });
    const wsPort = await freePort();
    websockify = startProcess('websockify', 'websockify', [`${address}:${wsPort}`, `127.0.0.1:${vncPort}`]);
    const proxy = websockify;
    await waitForPort(wsPort, 'websockify', 10_000, address).catch((error: unknown) => {
      throw new BenchFailure(`${String(error)}\n${proxy.output()}`);
    });
    const page = await context.newPage();
    await instrument(page, '#screen canvas');
    await page.goto(pages.vncPageUrl(wsPort));
    await page
      .waitForFunction(() => window.benchPage.frames > 0, undefined, { timeout: CONNECT_TIMEOUT_MS })
      .catch(async (error: unknown) => {
        const disconnected = await page.evaluate(
          () => (window as unknown as { vncDisconnected?: string }).vncDisconnected,
        );
        throw new BenchFailure(
          `noVNC showed no picture within ${CONNECT_TIMEOUT_MS} ms (disconnected: ${disconnected}): ${String(error)}\n${x11vnc.output()}\n${proxy.output()}`,
        );
      });
    return {
      system: 'vnc',
      page,
      hostPids: () => processTree(x11vnc.pid),
      relayPids: () => processTree(proxy.pid),
      focus: () => page.evaluate(() => (window as unknown as { rfb: { focus(): void } }).rfb.focus()),
      // x11vnc runs with -shared: a second client joins beside the first.
      joinAnother: () =>
        joinInNewPage(
          context,
          '#screen canvas',
          async (second) => {
            await second.goto(pages.vncPageUrl(wsPort));
          },
          CONNECT_TIMEOUT_MS,
        ),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
