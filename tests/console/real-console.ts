import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DOWNLOAD_SCOPE } from '../../console/app/tools/saving/worker-paths.ts';
import { type AgentRun, shownCode, spawnAgent } from '../support/agent-process.ts';
import { launchChromium } from '../support/browser.ts';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  loginCookie,
  startControlPlane,
  type TestControlPlane,
} from '../support/control-plane.ts';
import { type Spawned, waitFor } from '../support/processes.ts';
import { started } from '../support/started.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

// The real console bundle in real headless Chromium against a real control plane.

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Where screenshots go when `CONSOLE_SCREENSHOTS` names a directory; none are taken otherwise. */
const SCREENSHOT_DIR = process.env['CONSOLE_SCREENSHOTS'];

/**
 * Headless Chromium. A missing browser fails the tests: CI installs it, and a skipped UI test would
 * hide a broken console.
 */
export async function launchConsoleBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install chromium or set CHROMIUM_PATH.`);
  }
  return launchChromium();
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Page errors and Content-Security-Policy violations, which must stay empty. */
  problems: string[];
  /** `Idempotency-Key` headers of the API requests the page sent, by `METHOD path`. */
  idempotencyKeys: Map<string, string[]>;
}

/** A real control plane and headless Chromium shared by the tests of one `describe`. */
export interface ConsoleFixture {
  /** The control plane, started before the first test. */
  readonly cp: TestControlPlane;
  /** A fresh browser context on the console; its page errors and CSP violations fail the test. */
  open(): Promise<ConsolePage>;
}

/**
 * Registers the hooks of a console test in the calling `describe`: one control plane and one browser
 * for the block, `prepare` run once they are up, and every page opened during a test closed after
 * it with no page error and no Content-Security-Policy violation.
 * @example
 * const ui = useRealConsole();
 * it('signs in', async () => { const { page } = await ui.open(); await signIn(page, ui.cp); });
 */
export function useRealConsole(prepare?: (cp: TestControlPlane) => Promise<void>): ConsoleFixture {
  let cp: TestControlPlane | undefined;
  let browser: Browser | undefined;
  const opened: ConsolePage[] = [];
  before(async () => {
    cp = await startControlPlane({ listen: true });
    browser = await launchConsoleBrowser();
    await prepare?.(cp);
  });
  after(async () => {
    await browser?.close();
    await cp?.stop();
  });
  afterEach(async () => {
    for (const view of opened.splice(0)) {
      await view.context.close();
      assert.deepEqual(view.problems, [], 'no page errors and no Content-Security-Policy violations');
    }
  });
  return {
    get cp() {
      if (!cp) throw new Error('The control plane starts in the before hook: use ui.cp inside a test.');
      return cp;
    },
    async open() {
      if (!browser || !cp)
        throw new Error('The browser starts in the before hook: open pages inside a test.');
      const view = await openConsole(browser, cp);
      opened.push(view);
      return view;
    },
  };
}

/** A real agent on a real X display, and one console page on a real control plane, for a `describe`. */
export interface AgentConsole {
  readonly xvfb: Xvfb;
  readonly cp: TestControlPlane;
  /** The browser the page is in, for a test that opens a second console (`openConsole`). */
  readonly browser: Browser;
  /** The console page, 1400×900 unless set, shared by the block's tests (one session runs through them). */
  readonly page: Page;
  /** The page's errors and Content-Security-Policy violations. */
  readonly problems: string[];
  /** The agent `startAgent` started last. */
  readonly agent: Spawned;
  /** Starts the real agent (`spawnAgent`) against this control plane and display. */
  startAgent(run?: Omit<AgentRun, 'server' | 'display'>): Spawned;
}

/**
 * Registers the hooks of an end-to-end console test in the calling `describe`: an X display of
 * `width`×`height` (set up further by `prepareDisplay`), a control plane, headless Chromium and one
 * console page (`viewport`, 1400×900 unless set) whose actions wait up to `actionTimeoutMs`; the
 * agents the tests start are killed and everything stopped after the block.
 * @example
 * const ui = useAgentConsole({ width: 640, height: 480, actionTimeoutMs: 15_000 });
 * it('connects', async () => { await connectWithCode(ui.page, ui.cp, await shownCode(ui.startAgent())); });
 */
export function useAgentConsole(options: {
  width: number;
  height: number;
  actionTimeoutMs: number;
  prepareDisplay?: (xvfb: Xvfb) => Promise<void>;
  viewport?: { width: number; height: number };
  /** The control plane's environment beyond the tests' defaults (startControlPlane's `env`). */
  env?: Record<string, string>;
}): AgentConsole {
  let xvfb: Xvfb | undefined;
  let cp: TestControlPlane | undefined;
  let browser: Browser | undefined;
  let view: ConsolePage | undefined;
  const agents: Spawned[] = [];
  before(async () => {
    xvfb = await startXvfb({ width: options.width, height: options.height });
    await options.prepareDisplay?.(xvfb);
    cp = await startControlPlane({ listen: true, ...(options.env ? { env: options.env } : {}) });
    browser = await launchConsoleBrowser();
    view = await openConsole(browser, cp);
    await view.page.setViewportSize(options.viewport ?? { width: 1400, height: 900 });
    view.page.setDefaultTimeout(options.actionTimeoutMs);
  });
  after(async () => {
    for (const agent of agents) await agent.kill();
    await browser?.close();
    await cp?.stop();
    await xvfb?.stop();
  });
  return {
    get xvfb() {
      return started(xvfb, 'the X display');
    },
    get cp() {
      return started(cp, 'the control plane');
    },
    get browser() {
      return started(browser, 'the browser');
    },
    get page() {
      return started(view, 'the console page').page;
    },
    get problems() {
      return started(view, 'the console page').problems;
    },
    get agent() {
      return started(agents.at(-1), 'an agent (startAgent)');
    },
    startAgent(run = {}) {
      const agent = spawnAgent({ server: this.cp.url, display: this.xvfb.display, ...run });
      agents.push(agent);
      return agent;
    },
  };
}

/**
 * Registers the last two tests of an `useAgentConsole` block: nothing broke the console's CSP or threw
 * in the page, and ending the session in the console ends the agent (exit code 0).
 */
export function itEndsCleanly(ui: AgentConsole): void {
  it('nothing broke the console CSP or threw in the page', () => {
    assert.deepEqual(ui.problems, []);
  });

  it('ending the session ends the agent', async () => {
    await ui.page.click('[data-testid=end-session]');
    await ui.page.waitForSelector('[data-testid=ended]');
    assert.equal(await ui.agent.exited, 0, ui.agent.output());
  });
}

/**
 * Joins the session of `agent` (started with `keepInput`) in `page` with the code it shows; the user
 * then switches files on with their key, and the console opens its files tool.
 */
export async function joinWithFiles(page: Page, cp: TestControlPlane, agent: Spawned): Promise<void> {
  await connectWithCode(page, cp, await shownCode(agent));
  await waitFor('the session to be active on the agent', () => agent.output().includes('Session active'));
  agent.child.stdin?.write('f');
  await page.waitForSelector('[data-testid=permission-files][data-state=on]');
  await page.click('[data-testid=tool-files]');
}

/** Resolves once the service worker that streams downloads to disk is active (before a download is asked for). */
export async function downloadWorkerReady(page: Page): Promise<void> {
  await page.waitForFunction(async (scope) => {
    const registration = await navigator.serviceWorker.getRegistration(scope);
    return registration?.active?.state === 'activated';
  }, DOWNLOAD_SCOPE);
}

/**
 * A fresh browser context on the control plane, which serves the console tests/run.mjs built from the
 * working tree for this run.
 */
export async function openConsole(browser: Browser, cp: TestControlPlane): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: cp.url });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  const idempotencyKeys = new Map<string, string[]>();
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      problems.push(`csp: ${message.text()}`);
    }
  });
  page.on('request', (request) => {
    const key = request.headers()['idempotency-key'];
    if (!key) return;
    const name = `${request.method()} ${new URL(request.url()).pathname}`;
    idempotencyKeys.set(name, [...(idempotencyKeys.get(name) ?? []), key]);
  });
  return { context, page, problems, idempotencyKeys };
}

/** Signs in through the form and waits for the dashboard. */
export async function signIn(
  page: Page,
  cp: TestControlPlane,
  username = ADMIN_USERNAME,
  password = ADMIN_PASSWORD,
): Promise<void> {
  await page.goto(cp.url);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('body[data-view=dashboard]');
}

/** Signs in, types the code an end user read out, presses Connect and waits until the session is live. */
export async function connectWithCode(page: Page, cp: TestControlPlane, code: string): Promise<void> {
  await signIn(page, cp);
  await enterCode(page, code);
}

/** Types the code an end user read out into the signed-in console, presses Connect and waits until the session is live. */
export async function enterCode(page: Page, code: string): Promise<void> {
  await page.fill('[data-testid=code-input]', code);
  await page.click('[data-testid=connect]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid=session-status]')?.textContent?.includes('Connected'),
    undefined,
    { timeout: 30_000 },
  );
}

/** Saves a full-page screenshot as `<name>.png` when `CONSOLE_SCREENSHOTS` is set. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOT_DIR) return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // Let transitions and the countdown settle so the picture shows the steady state; from the top,
  // so sticky bars sit where a person sees them first.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

const adminCookies = new WeakMap<TestControlPlane, Promise<string>>();

/** The administrator's cookie, logged in once per control plane (hashing a password takes a while). */
export function adminCookie(cp: TestControlPlane): Promise<string> {
  let cookie = adminCookies.get(cp);
  if (!cookie) {
    cookie = loginCookie(cp.app);
    adminCookies.set(cp, cookie);
  }
  return cookie;
}

/** Calls the API as a script would, with the administrator's cookie unless another is given. */
export async function api<T = unknown>(
  cp: TestControlPlane,
  method: string,
  path: string,
  options: { body?: unknown; cookie?: string; bearer?: string; expect?: number } = {},
): Promise<T> {
  const headers: Record<string, string> = { origin: cp.url };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.bearer) headers['authorization'] = `Bearer ${options.bearer}`;
  else headers['cookie'] = options.cookie ?? (await adminCookie(cp));
  const response = await cp.app.request(path, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  if (options.expect === undefined ? !response.ok : response.status !== options.expect) {
    throw new Error(`${method} ${path}: expected ${options.expect ?? '2xx'}, got ${response.status} ${text}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Creates an operator through the API and returns it. */
export async function createOperator(
  cp: TestControlPlane,
  fields: { username: string; role: string; password?: string; name?: string },
): Promise<{ id: string; username: string; organisationId: string }> {
  const me = await api<{ operator: { organisationId: string } }>(cp, 'GET', '/api/auth/me');
  return api(cp, 'POST', '/api/operators', {
    body: {
      username: fields.username,
      name: fields.name ?? fields.username,
      password: fields.password ?? 'a long enough password',
      role: fields.role,
      organisationId: me.operator.organisationId,
    },
  });
}
