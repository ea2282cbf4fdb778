import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { DEFAULT_CACHE_DIR } from '../../build/agent/build-executable.ts';
import { buildX264Encoder } from '../../build/agent/x264-encoder.ts';
import type { VideoPath } from '../../console/app/media/video-path.ts';
import { waitFor } from '../../tests/support/processes.ts';
import type { ControlPlaneProcess } from '../support/control-plane-process.ts';
import { BenchFailure } from '../support/failure.ts';
import { processTree, startProcess } from '../support/processes.ts';
import { instrument, joinInNewPage } from './instrumentation.ts';
import { VIEWPORT, type Viewer } from './viewer.ts';

const AGENT = fileURLToPath(new URL('../../agent/main.ts', import.meta.url));
/** How long the console may take to show the first picture after Connect, in ms. */
const CONNECT_TIMEOUT_MS = 30_000;

/**
 * Lifeline as an operator uses it: the real agent on `display` (with `--accept`), the console in a
 * fresh browser context, logged in, the code typed, Connect pressed, control taken.
 */
export async function openLifeline(
  browser: Browser,
  display: string,
  cp: ControlPlaneProcess,
  options: { framerate?: number } = {},
): Promise<Viewer> {
  const agent = startProcess(
    'lifeline agent',
    process.execPath,
    [
      '--import',
      'tsx',
      AGENT,
      '--server',
      cp.url,
      '--accept',
      ...(options.framerate ? ['--framerate', String(options.framerate)] : []),
    ],
    // The encoder the packaged Linux agent ships (`lifeline-x264`, compiled once per source), so the
    // agent run from source encodes as the download does; `FFMPEG_PATH` in the environment still
    // makes the agent use ffmpeg, as it does for a user who sets it.
    { ...process.env, LIFELINE_X264_PATH: await buildX264Encoder(DEFAULT_CACHE_DIR), DISPLAY: display },
  );
  const context = await browser.newContext({ viewport: VIEWPORT });
  const stop = async () => {
    await context.close().catch(() => {});
    await agent.stop();
  };
  try {
    const code = await waitFor(
      'the agent to show a code',
      () => /(\d{3} \d{3} \d{3})/.exec(agent.output())?.[1],
      20_000,
    ).catch((error: unknown) => {
      throw new BenchFailure(`the Lifeline agent did not start: ${String(error)}\n${agent.output()}`);
    });
    const page = await context.newPage();
    await instrument(page, 'canvas[data-testid=screen]');
    const wanted = process.env['LIFELINE_BENCH_VIDEO_PATH'];
    const pinned: VideoPath | undefined =
      wanted === 'main-thread' ? 'main thread' : wanted === 'worker' ? 'worker' : undefined;
    if (pinned) {
      // For a before/after comparison: the console keeps this video path instead of choosing it.
      await page.addInitScript((path) => {
        window.lifelineVideoPathPinned = path;
      }, pinned);
    }
    await page.goto(cp.url);
    await page.fill('input[name=username]', cp.username);
    await page.fill('input[name=password]', cp.password);
    await page.click('button[type=submit]');
    await page.fill('[data-testid=code-input]', code);
    await page.click('[data-testid=connect]');
    await page
      .waitForFunction(() => window.benchPage.frames > 0, undefined, { timeout: CONNECT_TIMEOUT_MS })
      .catch(async (error: unknown) => {
        const status = await page
          .locator('[data-testid=session-status]')
          .textContent()
          .catch(() => '?');
        throw new BenchFailure(
          `Lifeline showed no picture within ${CONNECT_TIMEOUT_MS} ms (status: ${status}): ${String(error)}\n${agent.output()}`,
        );
      });
    await page.click('[data-testid=take-control]');
    return {
      system: 'lifeline',
      page,
      hostPids: () => processTree(agent.pid),
      relayPids: () => [cp.pid],
      focus: () => page.focus('canvas[data-testid=screen]'),
      // The same login in the same browser context: the console offers to rejoin the live session.
      joinAnother: () =>
        joinInNewPage(
          context,
          'canvas[data-testid=screen]',
          async (second) => {
            await second.goto(cp.url);
            await second.click('[data-testid=rejoin]');
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
