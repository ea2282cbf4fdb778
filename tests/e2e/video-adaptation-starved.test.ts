import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import type { CDPSession, Page } from 'playwright-core';
import { DEFAULT_CACHE_DIR } from '../../build/agent/build-executable.ts';
import { buildX264Encoder } from '../../build/agent/x264-encoder.ts';
import { connectWithCode, itEndsCleanly, useAgentConsole } from '../console/real-console.ts';
import { shownCode } from '../support/agent-process.ts';
import { waitFor } from '../support/processes.ts';

const SCREEN = { width: 640, height: 480 };
/** Generous: a starved page runs everything, the test's own probes included, many times slower. */
const STARVED_TIMEOUT_MS = 90_000;
/** How much slower Chromium runs the console page: far less CPU than it needs for 30 pictures a second. */
const THROTTLE_RATE = 20;

/** What the agent said it chose (`video-adaptation`), as the console's quality plot shows it, each change. */
function adaptationsSeen(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { seenAdaptations?: string[] }).seenAdaptations ?? []);
}

/** The console's stats of its own scheduling: the last second's timer lateness and the seconds it said starved. */
function lagStats(page: Page): Promise<{ schedulingLagMs: number; secondsStarved: number }> {
  return page.evaluate(() => ({
    schedulingLagMs: window.lifelineStats?.schedulingLagMs ?? 0,
    secondsStarved: window.lifelineStats?.secondsStarved ?? 0,
  }));
}

// The real agent with lifeline-x264 on a moving Xvfb screen, the real relay, and the console in
// headless Chromium whose page is then starved of CPU (Chromium's own CPU throttling, as when other
// processes take the machine): the console's timer comes late, it says it is behind, and the agent
// sends fewer pictures and never cuts its bitrate budget for it.
describe('a console starved of CPU says it is behind, and the agent cuts pictures, not the budget', () => {
  let motion: ChildProcess | undefined;
  let cdp: CDPSession | undefined;
  const ui = useAgentConsole({ ...SCREEN, actionTimeoutMs: STARVED_TIMEOUT_MS });
  after(async () => {
    if (motion?.pid) process.kill(-motion.pid, 'SIGKILL');
    await cdp?.send('Emulation.setCPUThrottlingRate', { rate: 1 }).catch(() => {});
  });

  it('the session streams a moving screen', async (t) => {
    // Repaints the whole root window in two colours alternately, about 12 times a second.
    motion = spawn(
      'sh',
      [
        '-c',
        'while :; do xsetroot -solid "#d08030"; sleep 0.04; xsetroot -solid "#3070d0"; sleep 0.04; done',
      ],
      { env: { ...process.env, DISPLAY: ui.xvfb.display }, stdio: 'ignore', detached: true },
    );
    ui.startAgent({ env: { LIFELINE_X264_PATH: await buildX264Encoder(DEFAULT_CACHE_DIR) } });
    await connectWithCode(ui.page, ui.cp, await shownCode(ui.agent));
    await ui.page.waitForFunction(() => (window.lifelineStats?.framesDecoded ?? 0) >= 30);
    await ui.page.click('[data-testid=stats]');
    await ui.page.waitForSelector('[data-testid=quality-adaptation]');
    // A string, not a function: the test's compiler names functions with a helper the page lacks.
    await ui.page.evaluate(`(() => {
      const seen = [];
      window.seenAdaptations = seen;
      const shown = document.querySelector('[data-testid=quality-adaptation]');
      const note = () => {
        const text = shown?.textContent?.trim() ?? '';
        if (text && seen.at(-1) !== text) seen.push(text);
      };
      note();
      new MutationObserver(note).observe(shown, { subtree: true, childList: true, characterData: true });
    })()`);
    // Not asserted: on a machine this loaded, the session's start (page, worker, decoder) can starve
    // the page for a second or two on its own.
    t.diagnostic(`unthrottled: ${JSON.stringify(await lagStats(ui.page))}`);
  });

  it('starved, the console says so and the agent lowers the frame rate with no budget', async (t) => {
    const from = (await adaptationsSeen(ui.page)).length;
    const fed = await lagStats(ui.page);
    cdp = await ui.page.context().newCDPSession(ui.page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE_RATE });
    const starved = await waitFor(
      'the console to say it is starved',
      async () => {
        const lag = await lagStats(ui.page);
        return lag.secondsStarved > fed.secondsStarved ? lag : undefined;
      },
      STARVED_TIMEOUT_MS,
      1000,
    );
    // A budget cut made before the console says it is behind (it judges a whole second first) is
    // undone when it says so: what the agent settles on is fewer pictures and no budget.
    let seen: string[] = [];
    await waitFor(
      'the agent to lower the frame rate with no budget',
      async () => {
        seen = (await adaptationsSeen(ui.page)).slice(from);
        const last = seen.at(-1) ?? '';
        const [fps, max] = /^(\d+) of (\d+) fps/.exec(last)?.slice(1).map(Number) ?? [];
        return fps !== undefined && max !== undefined && fps < max && !last.includes('kbit/s')
          ? last
          : undefined;
      },
      STARVED_TIMEOUT_MS,
      1000,
    ).catch((error: unknown) => {
      throw new Error(`${error}; the agent said: ${JSON.stringify(seen)}`);
    });
    // Still starved for a while longer: what piles up meanwhile is not measured, so no budget comes.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const later = (await adaptationsSeen(ui.page)).slice(from + seen.length);
    t.diagnostic(
      `starved: ${JSON.stringify(starved)}; the agent said: ${JSON.stringify([...seen, ...later])}`,
    );
    assert.ok(
      later.every((text) => !text.includes('kbit/s')),
      `no budget while starved: ${JSON.stringify(later)}`,
    );
    assert.equal((await lagStats(ui.page)).secondsStarved > starved.secondsStarved, true, 'still starved');
  });

  it('fed again, the console stops saying it is behind', async () => {
    await cdp?.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    // Three fed seconds end the verdict; from then on the count of starved seconds stays.
    const deadline = Date.now() + STARVED_TIMEOUT_MS;
    for (;;) {
      const before = await lagStats(ui.page);
      await new Promise((resolve) => setTimeout(resolve, 4000));
      const now = await lagStats(ui.page);
      if (now.secondsStarved === before.secondsStarved) break;
      assert.ok(Date.now() < deadline, `still starved: ${JSON.stringify(now)}`);
    }
  });

  itEndsCleanly(ui);
});
