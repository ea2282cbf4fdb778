import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { api, screenshot, signIn, useRealConsole } from './real-console.ts';

// Past sessions on the dashboard and in the audit log, a page at a time, against a real control plane.

/** One page of sessions and of audit events, as the API gives them without `limit`. */
const SESSIONS_PAGE = 50;
const AUDIT_PAGE = 50;
const ENDED = SESSIONS_PAGE + 2;

describe('session history in the console', () => {
  let page: Page;
  let waitingId: string;
  const endedIds: string[] = [];

  const ui = useRealConsole(async (cp) => {
    for (let index = 0; index <= ENDED; index++) {
      const { session } = await api<{ session: { id: string } }>(cp, 'POST', '/api/sessions', { body: {} });
      if (index === ENDED) {
        waitingId = session.id;
      } else {
        await api(cp, 'POST', `/api/sessions/${session.id}/end`);
        endedIds.push(session.id);
      }
    }
  });

  const rowCount = () => page.locator('[data-testid=session-row]').count();

  it('shows ended sessions with why they ended, and the next page with Load more', async () => {
    ({ page } = await ui.open());
    await signIn(page, ui.cp);
    await page.click('[data-testid=sessions-filter-ended]');
    await page.waitForSelector('[data-testid=active-sessions][data-filter=ended]');
    assert.equal(await rowCount(), SESSIONS_PAGE);
    assert.equal(
      await page.textContent('[data-testid=session-row] [data-testid=session-end-reason]'),
      'You ended the session.',
    );
    assert.equal(await page.locator('[data-testid=rejoin]').count(), 0, 'ended sessions are not rejoined');
    await screenshot(page, 'sessions-ended');

    await page.click('[data-testid=sessions-more]');
    await page.waitForFunction(
      (count) => document.querySelectorAll('[data-testid=session-row]').length === count,
      ENDED,
    );
    assert.equal(await page.locator('[data-testid=sessions-more]').count(), 0, 'no more pages');
    const shown = await page.$$eval('[data-testid=session-row]', (rows) =>
      rows.map((row) => row.getAttribute('data-id')),
    );
    assert.deepEqual([...shown].sort(), [...endedIds].sort(), 'every ended session once, none twice');

    await page.click('[data-testid=sessions-filter-waiting]');
    await page.waitForSelector('[data-testid=active-sessions][data-filter=waiting]');
    assert.deepEqual(
      await page.$$eval('[data-testid=session-row]', (rows) =>
        rows.map((row) => row.getAttribute('data-id')),
      ),
      [waitingId],
    );

    await page.click('[data-testid=sessions-filter-all]');
    await page.waitForSelector('[data-testid=active-sessions][data-filter=all]');
    assert.equal(await rowCount(), SESSIONS_PAGE);
    assert.equal(await page.getAttribute('[data-testid=session-row]', 'data-id'), waitingId, 'newest first');
  });

  it("a session's Audit opens its trail; the log pages with Load more", async () => {
    ({ page } = await ui.open());
    await signIn(page, ui.cp);
    await page.click('[data-testid=sessions-filter-ended]');
    const id = endedIds.at(-1)!;
    await page.click(`[data-testid=session-row][data-id="${id}"] [data-testid=session-audit]`);
    await page.waitForSelector('body[data-view=audit]');
    assert.equal(await page.inputValue('[data-testid=audit-session-filter]'), id);
    await page.waitForSelector('[data-testid=audit-row]');
    assert.deepEqual(
      await page.$$eval('[data-testid=audit-row]', (rows) =>
        rows.map((row) => row.getAttribute('data-action')),
      ),
      ['session.end', 'session.create'],
    );
    await screenshot(page, 'audit-session');

    await page.click('text=Clear');
    await page.waitForFunction(
      (count) => document.querySelectorAll('[data-testid=audit-row]').length === count,
      AUDIT_PAGE,
    );
    await page.click('[data-testid=audit-more]');
    await page.waitForFunction(
      (count) => document.querySelectorAll('[data-testid=audit-row]').length === count,
      2 * AUDIT_PAGE,
    );
    const ids = await page.$$eval('[data-testid=audit-row]', (rows) =>
      rows.map((row) => row.getAttribute('data-event-id')),
    );
    assert.equal(new Set(ids).size, ids.length, 'no event twice across pages');
  });
});
