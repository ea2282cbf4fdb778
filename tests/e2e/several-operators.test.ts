import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { connectWithCode, signIn, useRealConsole } from '../console/real-console.ts';
import { shownCode, spawnAgent } from '../support/agent-process.ts';
import { apiClient, createOperator, OPERATOR_PASSWORD, whoAmI } from '../support/api.ts';
import { loginCookie } from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { pointerLocation, runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

// Several operators in one session (README "Several operators"), end to end: the real agent on Xvfb
// asked in its terminal, the real control plane, and real Chromium pages for each operator.

const WIDTH = 800;
const HEIGHT = 600;

/** Clicks the remote screen at a fraction of its width and height. */
async function clickScreen(page: Page, fx: number, fy: number): Promise<void> {
  const box = await page.locator('canvas[data-testid=screen]').boundingBox();
  assert.ok(box, 'the screen is shown');
  await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
}

/** Sends a chat message from a console (the chat panel opens on the first). */
async function chat(page: Page, text: string): Promise<void> {
  if (!(await page.$('[data-testid=chat-input]'))) await page.click('[data-testid=tool-chat]');
  await page.fill('[data-testid=chat-input]', text);
  await page.click('[data-testid=chat-send]');
}

/** Waits for the session status line of a console to match. */
async function statusMatches(page: Page, pattern: RegExp): Promise<void> {
  await waitFor(
    `the status to match ${pattern}`,
    async () => pattern.test((await page.textContent('[data-testid=session-status]')) ?? '') || undefined,
    30_000,
  );
}

async function pointerNear(display: string, x: number, y: number): Promise<boolean> {
  const at = await pointerLocation(display);
  return Math.abs(at.x - x) <= 4 && Math.abs(at.y - y) <= 4;
}

describe('several operators in one session, one in control, the end user deciding who is in', () => {
  let xvfb: Xvfb;
  let agent: Spawned | undefined;
  const ui = useRealConsole(async (cp) => {
    const api = apiClient(cp);
    const admin = { cookie: await loginCookie(cp.app) };
    const { organisationId } = await whoAmI(api, admin);
    for (const username of ['tech-b', 'tech-c'])
      await createOperator(api, admin, { username, role: 'technician', organisationId });
  });

  /** Types into the agent's terminal, as the end user does. */
  const type = (keys: string) => agent!.child.stdin!.write(keys);
  /** Waits for the agent's terminal to show `pattern` after `from` characters of its output. */
  const agentShows = (pattern: RegExp, from = 0) =>
    waitFor(
      `the agent to show ${pattern}`,
      () => pattern.exec(agent!.output().slice(from)) ?? undefined,
      30_000,
    );

  /**
   * `username` signs in on a console of their own and asks to join the session from its list, and
   * the agent shows the request; `mark` is where the agent's output stood before they asked.
   */
  async function asksToJoin(username: string, sessionId: string) {
    const view = await ui.open();
    await signIn(view.page, ui.cp, username, OPERATOR_PASSWORD);
    const mark = agent!.output().length;
    await view.page.click(`[data-testid=session-row][data-id="${sessionId}"] [data-testid=join]`, {
      timeout: 30_000,
    });
    await agentShows(new RegExp(`${username} also wants to join this session`), mark);
    return { ...view, mark };
  }

  /** The end user starts the agent and the first operator connects with the code, control on. */
  async function firstOperatorConnects() {
    agent = spawnAgent({ server: ui.cp.url, display: xvfb.display, accept: false, keepInput: true });
    const code = await shownCode(agent);
    const first = await ui.open();
    const connected = connectWithCode(first.page, ui.cp, code);
    await agentShows(/wants to connect to this computer/);
    type('c\n'); // control on, accept
    await connected;
    const sessions = (await (
      await ui.cp.app.request('/api/sessions?status=active', {
        headers: { cookie: await loginCookie(ui.cp.app) },
      })
    ).json()) as { items: { id: string }[] };
    return { first, sessionId: sessions.items[0]!.id };
  }

  before(async () => {
    xvfb = await startXvfb({ width: WIDTH, height: HEIGHT });
    await runX('xsetroot', ['-solid', '#2060a0'], xvfb.display);
  });

  after(async () => {
    await agent?.kill();
    await xvfb?.stop();
  });

  it('a second operator joins as a viewer once the user lets them in, only the holder moves the pointer, and hand-over, leaving, removal and refusal keep the session going', {
    timeout: 300_000,
  }, async () => {
    // A second operator joins from the session list as a viewer once the end user lets them in.
    const { first, sessionId } = await firstOperatorConnects();
    assert.ok(agent);

    const second = await asksToJoin('tech-b', sessionId);
    let mark = second.mark;
    // Nothing of the session reaches them before the user answers.
    await statusMatches(second.page, /^Waiting for /);
    assert.equal(await second.page.$('[data-testid=operators-bar]'), null);
    type('\n');
    await statusMatches(second.page, /Administrator is in control/);
    await agentShows(/Connected: Administrator \(in control\), tech-b\./, mark);
    await second.page.waitForFunction(
      () =>
        (window as unknown as { lifelineStats: { framesDecoded: number } }).lifelineStats.framesDecoded > 0,
      undefined,
      { timeout: 30_000 },
    );
    // The viewer may ask for control, not take it.
    assert.equal(await second.page.$('[data-testid=take-control]'), null);
    assert.ok(await second.page.$('[data-testid=request-control]'));
    assert.ok(await first.page.$('[data-testid=operators-bar]'), 'the first operator sees who is here');

    // The holder's clicks move the real pointer and the viewer's do not.
    await first.page.click('[data-testid=take-control]');
    await clickScreen(first.page, 0.75, 0.6);
    await waitFor(
      'the pointer where the holder clicked',
      () => pointerNear(xvfb.display, 600, 360) || undefined,
    );

    // The viewer clicks elsewhere, then chats: once the chat reached the device, so would the click.
    mark = agent.output().length;
    await clickScreen(second.page, 0.25, 0.25);
    await chat(second.page, 'viewer clicked');
    await agentShows(/viewer clicked/, mark);
    assert.equal(
      await pointerNear(xvfb.display, 600, 360),
      true,
      'the pointer stayed where the holder put it',
    );

    // A request for control handed over moves control, and the former holder is a viewer.
    await second.page.click('[data-testid=request-control]');
    await first.page.waitForSelector('[data-testid=control-ask]', { timeout: 30_000 });
    assert.match(
      (await first.page.textContent('[data-testid=control-ask]')) ?? '',
      /tech-b asks for control/,
    );
    await first.page.click('[data-testid=accept-control-ask]');
    await statusMatches(first.page, /tech-b is in control/);
    await second.page.waitForSelector('[data-testid=take-control]:not([disabled])', { timeout: 30_000 });
    await agentShows(/Connected: Administrator, tech-b \(in control\)\./);

    await second.page.click('[data-testid=take-control]');
    await clickScreen(second.page, 0.25, 0.75);
    await waitFor(
      'the pointer where the new holder clicked',
      () => pointerNear(xvfb.display, 200, 450) || undefined,
    );

    mark = agent.output().length;
    await clickScreen(first.page, 0.75, 0.25);
    await chat(first.page, 'former holder clicked');
    await agentShows(/former holder clicked/, mark);
    assert.equal(
      await pointerNear(xvfb.display, 200, 450),
      true,
      "the former holder's click did not move it",
    );

    const audit = (await (
      await ui.cp.app.request(`/api/audit-events?sessionId=${sessionId}&action=session.control`, {
        headers: { cookie: await loginCookie(ui.cp.app) },
      })
    ).json()) as { items: { details: { how?: string } | null }[] };
    assert.equal(audit.items[0]?.details?.how, 'handed-over');

    // One operator leaves and the session goes on for the other.
    mark = agent.output().length;
    await first.page.click('[data-testid=leave-session]');
    await first.page.waitForSelector('body[data-view=dashboard]');
    await agentShows(/Administrator left the session; the others are still connected/, mark);
    assert.equal(ui.cp.services.relay.isLive(sessionId), true);
    const decoded = () =>
      second.page.evaluate(
        () => (window as unknown as { lifelineStats: { framesDecoded: number } }).lifelineStats.framesDecoded,
      );
    const before = await decoded();
    await runX('xsetroot', ['-solid', '#a03020'], xvfb.display);
    await waitFor(
      'new pictures on the remaining console',
      async () => (await decoded()) > before || undefined,
    );
    await statusMatches(second.page, /you are in control/);

    // The end user removes one operator and the other stays. The first operator comes back first:
    // the user let them in before, so they are not asked again.
    mark = agent.output().length;
    await first.page.click(`[data-testid=session-row][data-id="${sessionId}"] [data-testid=rejoin]`, {
      timeout: 30_000,
    });
    await statusMatches(first.page, /tech-b is in control/);
    const listed = await agentShows(/Connected: tech-b \(in control\), Administrator\./, mark);
    assert.ok(listed);

    type('r');
    const prompt = await agentShows(/Remove which operator\?.*\[(\d)\] Administrator/, mark);
    type(prompt[1]!);
    await first.page.waitForSelector('text=The user removed you from the session', { timeout: 30_000 });
    await agentShows(/Connected: tech-b \(in control\)\.\n/, mark);
    assert.equal(ui.cp.services.relay.isLive(sessionId), true);
    await statusMatches(second.page, /you are in control/);

    // Removed, they are asked about again if they try to come back; the user refuses.
    mark = agent.output().length;
    await first.page.click('button:has-text("Try again")');
    await agentShows(/Administrator also wants to join this session/, mark);
    type('n');
    await statusMatches(first.page, /The user declined/);

    // An operator the end user refuses is told so, and the session goes on.
    const third = await asksToJoin('tech-c', sessionId);
    mark = third.mark;
    type('n');
    await statusMatches(third.page, /The user declined/);
    await agentShows(/tech-c was not let in/, mark);
    await statusMatches(second.page, /you are in control/);

    await second.page.click('[data-testid=end-session]');
    await second.page.waitForSelector('[data-testid=ended]');
    assert.equal(await agent.exited, 0, agent.output());
  });

  it('End session with another operator connected asks first, naming them: Leave keeps the session running for them, End for everyone ends it for all', {
    timeout: 240_000,
  }, async () => {
    const { first, sessionId } = await firstOperatorConnects();
    assert.ok(agent);

    const second = await asksToJoin('tech-b', sessionId);
    let mark = second.mark;
    type('\n');
    await statusMatches(second.page, /Administrator is in control/);

    // The viewer presses End session: asked first, naming who else is here; Leave ends nothing.
    mark = agent.output().length;
    await second.page.click('[data-testid=end-session]');
    await second.page.waitForSelector('[data-testid=end-ask]', { timeout: 30_000 });
    assert.match(
      (await second.page.textContent('[data-testid=end-ask-text]')) ?? '',
      /^Administrator is also connected\./,
    );
    assert.equal(ui.cp.services.relay.isLive(sessionId), true, 'asking ended nothing');
    await second.page.click('[data-testid=end-ask-leave]');
    await second.page.waitForSelector('body[data-view=dashboard]');
    await agentShows(/tech-b left the session; the others are still connected/, mark);
    assert.equal(ui.cp.services.relay.isLive(sessionId), true);
    // The other operator's console goes on, now alone in the session.
    await first.page.waitForSelector('[data-testid=operators-bar]', { state: 'detached', timeout: 30_000 });
    await statusMatches(first.page, /^Connected to .* · view only$/);

    // Back in (the user let them in before), the holder presses End session and chooses End for
    // everyone: every console hears it.
    await second.page.click(`[data-testid=session-row][data-id="${sessionId}"] [data-testid=join]`, {
      timeout: 30_000,
    });
    await statusMatches(second.page, /Administrator is in control/);
    await first.page.click('[data-testid=end-session]');
    await first.page.waitForSelector('[data-testid=end-ask]', { timeout: 30_000 });
    assert.match(
      (await first.page.textContent('[data-testid=end-ask-text]')) ?? '',
      /^tech-b is also connected\./,
    );
    await first.page.click('[data-testid=end-ask-end]');
    await first.page.waitForSelector('[data-testid=ended]', { timeout: 30_000 });
    await second.page.waitForSelector('[data-testid=ended]', { timeout: 30_000 });
    assert.equal(await agent.exited, 0, agent.output());
  });
});
