import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';

const HOOKS = fileURLToPath(new URL('../../console/app/views/hooks.ts', import.meta.url));

/** A view of an observable counter that records each render, and a way to change it from several tasks. */
const PAGE_SCRIPT = `
import { h, render } from 'preact';
import { useSessionState } from ${JSON.stringify(HOOKS)};
const listeners = new Set();
const source = {
  state: 0,
  subscribe(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
window.renders = [];
window.subscribed = () => listeners.size > 0;
/** Changes the state n times, each change in its own task, all queued at once (as socket messages are). */
window.burst = (n) => {
  for (let i = 1; i <= n; i++) {
    setTimeout(() => {
      source.state = i;
      for (const listener of listeners) listener(i);
    }, 0);
  }
};
function View() {
  const state = useSessionState(source);
  window.renders.push(state);
  return h('p', null, String(state));
}
render(h(View, null), document.body);
`;

declare global {
  interface Window {
    renders: number[];
    subscribed(): boolean;
    burst(n: number): void;
  }
}

describe('the session view of its controller', () => {
  let browser: Browser;
  let script: string;
  before(async () => {
    const bundle = await build({
      stdin: { contents: PAGE_SCRIPT, resolveDir: fileURLToPath(new URL('../..', import.meta.url)) },
      bundle: true,
      write: false,
      format: 'iife',
      target: 'chrome110',
      logLevel: 'silent',
    });
    script = bundle.outputFiles[0]!.text;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  it('renders a burst of changes that arrive in separate tasks once, with the last state', async () => {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><body></body>');
    await page.addScriptTag({ content: script });
    await page.waitForFunction(() => window.subscribed());
    const rendered = await page.evaluate(() => window.renders.length);

    await page.evaluate(() => window.burst(7));
    await page.waitForFunction(() => window.renders.at(-1) === 7);

    assert.deepEqual(await page.evaluate((from) => window.renders.slice(from), rendered), [7]);
  });
});
