import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../support/processes.ts';
import { runX } from '../support/xvfb.ts';
import { screenshot, signIn, useAgentConsole } from './real-console.ts';

// Operator first with everything real: the console creates the session, the real agent (on a real X
// display, with real ffmpeg) joins with the code the operator gave, and the console shows its screen.

describe('operator first with the real agent', () => {
  const ui = useAgentConsole({
    width: 800,
    height: 600,
    actionTimeoutMs: 30_000,
    prepareDisplay: async (xvfb) => {
      await runX('xsetroot', ['-solid', '#20a060'], xvfb.display);
    },
    viewport: { width: 1280, height: 860 },
  });

  it('the agent started with the code opens the session in the console, which shows its screen', async () => {
    const { page, cp } = ui;
    await signIn(page, cp);
    await page.click('[data-testid=new-session]');
    const code = ((await page.textContent('[data-testid=session-code]')) ?? '').replace(/ /g, '');

    const agent = ui.startAgent({ code, args: ['--keep'] });
    await page.waitForSelector('body[data-view=session]', { timeout: 30_000 });
    await page.waitForFunction(
      () =>
        (window as unknown as { lifelineStats?: { framesDecoded: number } }).lifelineStats!.framesDecoded > 0,
      undefined,
      { timeout: 30_000 },
    );
    const colour = await waitFor('the X root colour on the canvas', () =>
      page.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')!;
        const [r, g, b] = canvas.getContext('2d')!.getImageData(20, 20, 1, 1).data;
        const near = Math.abs(r! - 0x20) < 40 && Math.abs(g! - 0xa0) < 40 && Math.abs(b! - 0x60) < 40;
        return near ? [r, g, b] : undefined;
      }),
    );
    assert.ok(colour, agent.output());
    assert.match((await page.textContent('[data-testid=session-status]')) ?? '', /^Connected to /);
    await screenshot(page, 'invite-real-agent-session');

    await page.click('[data-testid=end-session]');
    await page.waitForSelector('[data-testid=ended]');
    assert.equal(await agent.exited, 0, agent.output());
    assert.deepEqual(ui.problems, []);
  });
});
