import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildAgentExecutable } from '../../build/agent/build-executable.ts';
import { connectWithCode, launchConsoleBrowser, openConsole } from '../console/real-console.ts';
import { canvasSize, colourCounts } from '../support/canvas-colours.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, spawnCollecting, waitFor } from '../support/processes.ts';
import type { PtyProcess } from '../support/pty.ts';
import { startWine, useXineramaMonitors, type Wine } from '../support/wine.ts';
import { xclip } from '../support/x-clipboard.ts';
import { searchWindows } from '../support/x-windows.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

/**
 * How long the Windows build may take on a 2-core CI machine, in ms: the first on a fresh machine
 * compresses the runtime with xz (minutes); the next take it from the cache.
 */
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** Wine is slow to start a process on a busy machine: every wait here is generous, in ms. */
const WINE_WAIT_MS = 90_000;
const CODE = /(\d{3} \d{3} \d{3})/;
/** One X screen that RandR (and its Xinerama view, which Wine reads) splits into two monitors. */
const SCREEN = { width: 1024, height: 480 };
const WHITE: [number, number, number] = [255, 255, 255];
/** An X window beside notepad on the primary monitor: what lies outside the shared window. */
const BESIDE: [number, number, number] = [0, 0, 192];
const DOWNLOADS = 'C:\\Users\\Public\\Downloads';
/** The X root's colour set while the desktop is shown whole: a change the operator must see. */
const ROOT: [number, number, number] = [0xc0, 0x00, 0xc0];
/** How long the desktop is left still while no video may come, in ms. */
const STILL_MS = 5_000;

// The stamped Windows executable under Wine on Xvfb, with a real control plane and the operator in
// headless Chromium: what its desktop helper (lifeline-desktop.exe) gives the Windows agent.
describe('the Windows agent under Wine shares the clipboard, a monitor and one window', {
  timeout: BUILD_TIMEOUT_MS + 15 * 60_000,
}, () => {
  let xvfb: Xvfb;
  let wine: Wine;
  let cp: TestControlPlane;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let agent: PtyProcess;
  let notepad: PtyProcess | undefined;
  let beside: Spawned | undefined;

  before(
    async () => {
      await buildAgentExecutable('win-x64');
      xvfb = await startXvfb(SCREEN);
      await runX('xrandr', ['--setmonitor', 'LEFT', '512/135x480/127+0+0', 'screen'], xvfb.display);
      await runX('xrandr', ['--setmonitor', 'RIGHT', '512/135x480/127+512+0', 'none'], xvfb.display);
      wine = await startWine(xvfb.display);
      await useXineramaMonitors(wine);
      cp = await startControlPlane({ listen: true });
      browser = await launchConsoleBrowser();
      ({ page, problems } = await openConsole(browser, cp));
      await page.setViewportSize({ width: 1400, height: 1000 });
      page.setDefaultTimeout(30_000);
    },
    { timeout: BUILD_TIMEOUT_MS + 5 * 60_000 },
  );

  after(async () => {
    await agent?.kill();
    await notepad?.kill();
    await beside?.kill();
    await browser?.close();
    await cp?.stop();
    await wine?.stop();
    await xvfb?.stop();
  });

  it('a downloaded agent starts and the operator sees its desktop', {
    timeout: 3 * WINE_WAIT_MS,
  }, async () => {
    const response = await fetch(`${cp.url}/download/agent/win-x64`);
    assert.equal(response.status, 200);
    const path = `${DOWNLOADS}\\lifeline-agent-win-x64.exe`;
    mkdirSync(wine.hostPath(DOWNLOADS), { recursive: true });
    writeFileSync(wine.hostPath(path), Buffer.from(await response.arrayBuffer()));
    agent = wine.start(path, ['--accept']);
    const code = await waitFor(
      'the Windows agent to show a code',
      () => CODE.exec(agent.output())?.[1],
      WINE_WAIT_MS,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- agent terminal ---\n${agent.output()}`);
    });
    await connectWithCode(page, cp, code);
    await page.waitForFunction(
      () =>
        ((window as unknown as { lifelineStats?: { framesDecoded: number } }).lifelineStats?.framesDecoded ??
          0) > 0,
      undefined,
      { timeout: WINE_WAIT_MS },
    );
  });

  it('a still Windows desktop sends no video after its picture, and a change is seen at once', {
    timeout: 3 * WINE_WAIT_MS,
  }, async () => {
    const capture = wine.processes(/lifeline-desktop\.exe"? capture/i);
    assert.equal(capture.length, 1, `the desktop helper captures the screen: ${JSON.stringify(capture)}`);
    const received = () =>
      page.evaluate(
        () =>
          (window as unknown as { lifelineStats?: { framesReceived: number } }).lifelineStats
            ?.framesReceived ?? 0,
      );
    // The first pictures (one per keyframe the console asked for) may still be on their way.
    const settled = await waitFor(
      'the video to settle',
      async () => {
        const before = await received();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return (await received()) === before ? before : undefined;
      },
      WINE_WAIT_MS,
    );
    await new Promise((resolve) => setTimeout(resolve, STILL_MS));
    assert.equal(await received(), settled, 'no frame while nothing on the screen changed');
    await runX(
      'xsetroot',
      ['-solid', `rgb:${ROOT.map((c) => c.toString(16).padStart(2, '0')).join('/')}`],
      xvfb.display,
    );
    await waitFor(
      'the new desktop colour on the canvas',
      async () => ((await colourCounts(page, { root: ROOT })).counts['root']! > 1000 ? true : undefined),
      WINE_WAIT_MS,
    );
    assert.ok((await received()) > settled);
  });

  it('the clipboard is off until the user allows it; then text goes both ways', {
    timeout: 3 * WINE_WAIT_MS,
  }, async () => {
    await page.click('[data-testid=tool-clipboard]');
    await page.waitForSelector('[data-testid=clipboard-unavailable]');
    xclip(xvfb.display, ['-i'], 'copied before the permission');
    await page.click('[data-testid=ask-clipboard]');
    // The agent runs with --accept, so the user's answer is yes.
    await page.waitForSelector('[data-testid=permission-clipboard][data-state=on]', {
      timeout: WINE_WAIT_MS,
    });
    await page.waitForSelector('[data-testid=clipboard-unavailable]', { state: 'detached' });

    await page.fill('[data-testid=clipboard-input]', 'netsh winsock reset — ünïcode ✓');
    await page.click('[data-testid=clipboard-send]');
    // Read from Wine's clipboard by another program: Wine serves it to X.
    await waitFor(
      "the text on Wine's clipboard",
      () => (xclip(xvfb.display, ['-o']) === 'netsh winsock reset — ünïcode ✓' ? true : undefined),
      WINE_WAIT_MS,
      500,
    );
    xclip(xvfb.display, ['-i'], 'error code 0x80070005');
    await page
      .waitForSelector('[data-testid=clipboard-device-text]:has-text("error code 0x80070005")', {
        timeout: WINE_WAIT_MS,
      })
      .catch((error: Error) => {
        throw new Error(`${error.message}\n--- agent terminal ---\n${agent.output().slice(-3000)}`);
      });
    assert.doesNotMatch(
      (await page.textContent('[data-testid=clipboard-device-text]')) ?? '',
      /before the permission/,
      'what was copied before the permission is never sent',
    );
  });

  it('the operator sees both monitors Wine reports and can view the right one alone', {
    timeout: 2 * WINE_WAIT_MS,
  }, async () => {
    await page.waitForSelector('[data-testid=monitor-all][aria-pressed=true]');
    assert.match((await page.getAttribute('[data-testid=monitor-1]', 'title')) ?? '', /DISPLAY2: 512×480/);
    await page.click('[data-testid=monitor-1]');
    await page.waitForSelector('[data-testid=monitor-1][aria-pressed=true]');
    await waitFor(
      'the canvas to take the monitor’s size',
      async () => ((await canvasSize(page))[0] === 512 ? true : undefined),
      WINE_WAIT_MS,
    );
    await page.click('[data-testid=monitor-all]');
    await page.waitForSelector('[data-testid=monitor-all][aria-pressed=true]');
  });

  it('the user shares notepad alone: the operator sees only it, nothing of the desktop around it', {
    timeout: 3 * WINE_WAIT_MS,
  }, async () => {
    // Below notepad (which Wine opens at the top left), on the primary monitor the desktop view shows.
    beside = spawnCollecting(
      'xterm',
      ['-T', 'Beside', '-bg', '#0000c0', '-fg', '#0000c0', '-geometry', '40x3+20+400'],
      {
        ...process.env,
        DISPLAY: xvfb.display,
      },
    );
    await waitFor(
      'the window beside to show on the canvas',
      async () =>
        (await colourCounts(page, { beside: BESIDE })).counts['beside']! > 1000 ? true : undefined,
      WINE_WAIT_MS,
    );
    notepad = wine.start('notepad', []);
    await waitFor(
      'notepad to open its window',
      async () => (await searchWindows(xvfb.display, 'Untitled - Notepad'))[0],
      WINE_WAIT_MS,
    );
    const before = agent.output().length;
    agent.write('w');
    const number = await waitFor(
      'the agent to list notepad',
      () => /\[(\d+)\] Untitled - Notepad/.exec(agent.output().slice(before))?.[1],
      WINE_WAIT_MS,
    );
    agent.write(number);
    await waitFor(
      'the canvas to take the window’s size',
      async () => ((await canvasSize(page))[0] < 512 ? true : undefined),
      WINE_WAIT_MS,
    );
    assert.match((await page.textContent('[data-testid=shared-window]')) ?? '', /Notepad/);
    const { counts, total } = await waitFor(
      'notepad’s picture',
      async () => {
        const seen = await colourCounts(page, { white: WHITE, beside: BESIDE });
        return seen.counts['white']! > seen.total / 3 ? seen : undefined;
      },
      WINE_WAIT_MS,
    );
    assert.equal(counts['beside'], 0, `no pixel of the window beside it is sent (of ${total})`);
  });

  it('nothing broke the console CSP or threw in the page', () => {
    assert.deepEqual(problems, []);
  });
});
