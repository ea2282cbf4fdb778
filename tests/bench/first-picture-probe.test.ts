import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { type WebSocket, WebSocketServer } from 'ws';
import { sleep } from '../../bench/support/net.ts';
import { firstPicture, instrument } from '../../bench/viewers/instrumentation.ts';
import { launchChromium } from '../support/browser.ts';

/** A viewer page in miniature: it draws its first picture when its socket (same origin) says so. */
const VIEWER_PAGE = `<!doctype html><canvas id="screen" width="64" height="64"></canvas><script>
const picture = document.createElement('canvas');
picture.width = picture.height = 64;
picture.getContext('2d').fillRect(0, 0, 64, 64);
const socket = new WebSocket('ws://' + location.host + '/');
socket.onmessage = () => document.querySelector('#screen').getContext('2d').drawImage(picture, 0, 0);
</script>`;

/**
 * Counts reads of `benchPage.frames` from outside the page's own measurement script before its first
 * picture: what a probe that polls the page does on the page's main thread while it is being timed.
 */
const COUNT_POLLS = `
const measured = window.benchPage;
window.pollsBeforePicture = 0;
window.benchPage = new Proxy(measured, {
  get(target, key) {
    if (key === 'frames' && target.firstFrameAt === undefined) window.pollsBeforePicture++;
    return Reflect.get(target, key);
  },
});
`;

describe('the benchmark first-picture probe', () => {
  let browser: Browser;
  let http: Server;
  let sockets: WebSocketServer;
  before(async () => {
    http = createServer((_, response) => response.end(VIEWER_PAGE));
    sockets = new WebSocketServer({ server: http });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    sockets?.close();
    await new Promise((resolve) => http?.close(resolve));
  });

  it('learns of the first picture from the page without polling the page it times', async () => {
    const { port } = http.address() as { port: number };
    const connected = new Promise<WebSocket>((resolve) => sockets.once('connection', resolve));
    const page = await browser.newPage();
    await instrument(page, 'canvas#screen');
    await page.addInitScript({ content: COUNT_POLLS });
    await page.goto(`http://127.0.0.1:${port}/`);
    const socket = await connected;

    const shown = firstPicture(page, 30_000);
    // Leave a polling probe time to poll before there is anything to see.
    await sleep(1_000);
    socket.send('draw');
    const picture = await shown;

    assert.equal(
      await page.evaluate(() => (window as { pollsBeforePicture?: number }).pollsBeforePicture),
      0,
    );
    assert.ok(picture.drawnMs >= 0, `drawn ${picture.drawnMs} ms after the socket opened`);
    assert.equal(picture.videoMs, undefined);
  });
});
