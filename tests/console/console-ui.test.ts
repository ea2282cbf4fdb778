import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CloseCode, type InputEvent } from '../../protocol/index.ts';
import { consoleBundle } from '../support/console-bundle.ts';
import { permissionsWith } from '../support/permissions.ts';
import {
  acceptAndConfigure,
  type ConsoleAssetFiles,
  FakeControlPlane,
  problem,
  RELAY_TOKEN,
  type RelayPeer,
} from './fake-control-plane.ts';
import { type AccessUnit, encodeTestPattern } from './h264-fixture.ts';
import { launchConsoleBrowser } from './real-console.ts';

// The real console bundle in real headless Chromium (real WebCodecs decoding of real libx264
// output), against a scripted control plane and relay so every answer can be chosen per test.

const CODE = '482913765';
const ALL_OFF = permissionsWith({});
const VIEW_AND_CONTROL = permissionsWith({ view: true, control: true, chat: true });
const VIDEO = { width: 320, height: 240 };

describe('operator console', () => {
  let browser: Browser;
  let assets: ConsoleAssetFiles;
  let units: AccessUnit[];
  let plane: FakeControlPlane;
  let context: BrowserContext;
  let page: Page;
  let consoleText: string[];
  let streams: Array<ReturnType<typeof setInterval>>;

  before(async () => {
    assets = consoleBundle();
    units = encodeTestPattern({ ...VIDEO, frames: 30, keyframeInterval: 10 });
    // A missing Chromium fails here: CI installs it, and a skipped UI test would hide a broken console.
    browser = await launchConsoleBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    plane = await FakeControlPlane.start(assets);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    consoleText = [];
    streams = [];
    page.on('console', (message) => consoleText.push(message.text()));
    page.on('pageerror', (error) => consoleText.push(`pageerror: ${error.message}`));
  });

  afterEach(async () => {
    for (const stream of streams) clearInterval(stream);
    await context?.close();
    await plane?.stop();
  });

  async function signIn(): Promise<void> {
    await page.goto(plane.url);
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'secret');
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-view=dashboard]');
  }

  /** Redeems the code and answers the console's hello with welcome; returns the relay socket. */
  async function connect(peerIndex = 0): Promise<RelayPeer> {
    await page.fill('[data-testid=code-input]', CODE);
    await page.click('[data-testid=connect]');
    const peer = await plane.peer(peerIndex);
    await peer.waitFor('hello');
    peer.send({
      type: 'welcome',
      protocol: 1,
      sessionId: 'sess-1',
      agent: plane.session().agent ?? undefined,
      slot: 1,
    });
    return peer;
  }

  /** Sends the test pattern at 10 frames per second until the test ends. */
  function stream(peer: RelayPeer): void {
    let next = 0;
    streams.push(setInterval(() => peer.sendVideo(units[next++ % units.length]!), 100));
  }

  async function goLive(permissions = VIEW_AND_CONTROL): Promise<RelayPeer> {
    const peer = await connect();
    acceptAndConfigure(peer, permissions, VIDEO);
    stream(peer);
    await page.waitForFunction(() => (window.lifelineStats?.framesDecoded ?? 0) > 0);
    return peer;
  }

  const status = () => page.textContent('[data-testid=session-status]');
  const inputs = (peer: RelayPeer): InputEvent[] =>
    peer.messages.flatMap((message) => (message.type === 'input' ? [message.event] : []));

  it('shows the login form without a session cookie, and the dashboard after signing in', async () => {
    await page.goto(plane.url);
    await page.waitForSelector('body[data-view=login]');
    const succeed = plane.routes.get('POST /api/auth/login')!;
    plane.routes.set('POST /api/auth/login', () =>
      problem(401, 'UNAUTHENTICATED', 'Wrong username or password.'),
    );
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'wrong');
    await page.click('button[type=submit]');
    assert.equal(await page.textContent('[data-testid=error]'), 'Wrong username or password.');

    plane.routes.set('POST /api/auth/login', succeed);
    await signIn();
    assert.equal(await page.textContent('[data-testid=operator-name]'), 'Alice Operator');
    const login = plane.requests.find((request) => request.url === '/api/auth/login');
    assert.deepEqual(login?.body, { username: 'alice', password: 'wrong' });
  });

  it('too many sign-in attempts lock the form with a countdown from Retry-After', async () => {
    plane.routes.set('POST /api/auth/login', () =>
      problem(429, 'TOO_FREQUENT', 'Too many attempts.', { 'Retry-After': '30' }),
    );
    await page.goto(plane.url);
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'secret');
    await page.click('button[type=submit]');
    const text = await page.textContent('[data-testid=error]');
    assert.match(text ?? '', /Too many attempts\. You can try again in (30|29) s\./);
    assert.equal(await page.isDisabled('button[type=submit]'), true);
  });

  it('formats the code as it is typed and refuses a short one without asking the server', async () => {
    await signIn();
    await page.type('[data-testid=code-input]', '12345678');
    assert.equal(await page.inputValue('[data-testid=code-input]'), '123 456 78');
    await page.click('[data-testid=connect]');
    assert.match((await page.textContent('[data-testid=error]')) ?? '', /9 digits/);
    assert.equal(plane.requests.filter((request) => request.url === '/api/sessions/redeem').length, 0);
  });

  it('shows the detail of an expired code and Try again clears it', async () => {
    plane.routes.set('POST /api/sessions/redeem', () =>
      problem(410, 'CODE_EXPIRED', 'This code has expired.'),
    );
    await signIn();
    await page.fill('[data-testid=code-input]', '482-913-765');
    await page.click('[data-testid=connect]');
    assert.equal(await page.textContent('[data-testid=error]'), 'This code has expired.');
    const redeem = plane.requests.find((request) => request.url === '/api/sessions/redeem');
    assert.deepEqual(redeem?.body, { code: CODE });
    await page.click('text=Try again');
    await page.waitForSelector('[data-testid=error]', { state: 'detached' });
    assert.equal(await page.inputValue('[data-testid=code-input]'), '');
  });

  it('waits for consent, then decodes the video onto a canvas of the video size', async () => {
    await signIn();
    const peer = await connect();
    const hello = await peer.waitFor('hello');
    assert.deepEqual(hello, {
      type: 'hello',
      protocol: 1,
      role: 'operator',
      token: RELAY_TOKEN,
      client: { name: 'lifeline-console', version: '0.1.0' },
    });
    await page.waitForFunction(() =>
      document
        .querySelector('[data-testid=session-status]')
        ?.textContent?.includes('Waiting for bob@desk-42'),
    );
    assert.equal(await page.isDisabled('[data-testid=take-control]'), true);

    acceptAndConfigure(peer, VIEW_AND_CONTROL, VIDEO);
    stream(peer);
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=session-status]')?.textContent?.includes('Connected'),
    );
    await page.waitForFunction(() => (window.lifelineStats?.framesDecoded ?? 0) >= 3);
    const canvas = await page.evaluate(() => {
      const element = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')!;
      const pixels = element.getContext('2d')!.getImageData(0, 0, element.width, element.height).data;
      const colours = new Set<number>();
      for (let i = 0; i < pixels.length; i += 4)
        colours.add((pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!);
      return { width: element.width, height: element.height, colours: colours.size };
    });
    assert.deepEqual([canvas.width, canvas.height], [VIDEO.width, VIDEO.height]);
    // testsrc2 is colour bars and moving shapes: hundreds of colours, never a blank canvas.
    assert.ok(canvas.colours > 50, `the canvas has ${canvas.colours} colours`);
    const stats = await page.evaluate(() => window.lifelineStats!);
    assert.ok(stats.bytesReceived > 0 && stats.keyframes > 0 && stats.lastFrameAt > 0, JSON.stringify(stats));
    // Each drawn picture's way through the console, for the benchmark: stamps in the order of the stages.
    const pictures = await page.evaluate(() => window.lifelineVideoTimings?.take() ?? []);
    assert.ok(pictures.length > 0, 'no stage stamps published');
    for (const p of pictures) {
      assert.ok(
        p.received <= p.decodeCalled && p.decodeCalled <= p.output && p.output <= p.drawn,
        JSON.stringify(p),
      );
    }
    await page.waitForFunction(() =>
      /[1-9]\d* fps/.test(document.querySelector('[data-testid=stats]')?.textContent ?? ''),
    );

    // Neither the relay token nor the code ever lands in a URL or the browser console.
    for (const request of plane.requests) {
      assert.ok(!request.url.includes(RELAY_TOKEN) && !request.url.includes(CODE), request.url);
    }
    assert.ok(
      !consoleText.some((text) => text.includes(RELAY_TOKEN) || text.includes(CODE)),
      consoleText.join('\n'),
    );
  });

  it('drops deltas that arrive before a keyframe and asks for one', async () => {
    await signIn();
    const peer = await connect();
    acceptAndConfigure(peer, VIEW_AND_CONTROL, VIDEO);
    peer.sendVideo(units[1]!);
    await peer.waitFor('request-keyframe');
    assert.equal(await page.evaluate(() => window.lifelineStats!.framesDecoded), 0);
    stream(peer);
    await page.waitForFunction(() => (window.lifelineStats?.framesDecoded ?? 0) > 0);
  });

  it('a decoder error resets the decoder, asks for a keyframe and recovers at the next one', async () => {
    await signIn();
    const peer = await connect();
    acceptAndConfigure(peer, VIEW_AND_CONTROL, VIDEO);
    for (const unit of units.slice(0, 5)) peer.sendVideo(unit);
    await page.waitForFunction(() => window.lifelineStats?.framesDecoded === 5);
    // An IDR slice header followed by noise: the decoder fails on it.
    const noise = Uint8Array.from({ length: 2000 }, (_, i) => (i * 7919) & 0xff);
    noise.set([0, 0, 0, 1, 0x65]);
    peer.sendVideo({ keyframe: false, data: noise });
    await peer.waitFor('request-keyframe');
    assert.equal(await page.evaluate(() => window.lifelineStats!.decoderErrors), 1);
    for (const unit of units.slice(10, 15)) peer.sendVideo(unit);
    await page.waitForFunction(() => window.lifelineStats?.framesDecoded === 10);
  });

  /**
   * Counts the page's own `decode()` calls and names what each `drawImage` or `putImageData` onto
   * the screen canvas drew (`VideoFrame`, `ImageBitmap`, `ImageData`).
   */
  async function watchDrawing(): Promise<void> {
    await page.addInitScript(() => {
      const seen = { pageDecodes: 0, drawn: [] as string[] };
      (window as unknown as { seen: typeof seen }).seen = seen;
      const decode = VideoDecoder.prototype.decode;
      VideoDecoder.prototype.decode = function (this: VideoDecoder, chunk: EncodedVideoChunk) {
        seen.pageDecodes++;
        decode.call(this, chunk);
      };
      const drawImage = CanvasRenderingContext2D.prototype.drawImage as (...args: unknown[]) => void;
      CanvasRenderingContext2D.prototype.drawImage = function (
        this: CanvasRenderingContext2D,
        ...args: unknown[]
      ) {
        if (this.canvas.matches('[data-testid=screen]'))
          seen.drawn.push((args[0] as object).constructor.name);
        drawImage.apply(this, args);
      } as typeof CanvasRenderingContext2D.prototype.drawImage;
      const putImageData = CanvasRenderingContext2D.prototype.putImageData as (...args: unknown[]) => void;
      CanvasRenderingContext2D.prototype.putImageData = function (
        this: CanvasRenderingContext2D,
        ...args: unknown[]
      ) {
        if (this.canvas.matches('[data-testid=screen]'))
          seen.drawn.push((args[0] as object).constructor.name);
        putImageData.apply(this, args);
      } as typeof CanvasRenderingContext2D.prototype.putImageData;
    });
  }

  const seenDrawing = () =>
    page.evaluate(() => (window as unknown as { seen: { pageDecodes: number; drawn: string[] } }).seen);

  it('a quiet page decodes and draws the pictures itself (the page path)', async () => {
    await watchDrawing();
    await signIn();
    await goLive();
    // Over two seconds of pictures: longer than the windows the path is chosen over.
    await page.waitForFunction(() => (window.lifelineStats?.framesDecoded ?? 0) >= 25, undefined, {
      timeout: 20_000,
    });
    assert.equal(await page.evaluate(() => window.lifelineVideoPath), 'main thread');
    const seen = await seenDrawing();
    assert.ok(seen.pageDecodes >= 25, `the page decoded ${seen.pageDecodes} units`);
    assert.ok(seen.drawn.length > 0 && seen.drawn.every((name) => name === 'VideoFrame'), seen.drawn.join());
  });

  it('a page whose main thread stays busy moves decoding to the worker, and pictures keep arriving', async () => {
    await watchDrawing();
    await signIn();
    await goLive();
    assert.equal(await page.evaluate(() => window.lifelineVideoPath), 'main thread');
    // Something else on the page keeps its main thread busy 70 ms of every 100.
    await page.evaluate(() => {
      setInterval(() => {
        const end = performance.now() + 70;
        while (performance.now() < end);
      }, 100);
    });
    await page.waitForFunction(() => window.lifelineVideoPath === 'worker', undefined, { timeout: 30_000 });
    const before = await page.evaluate(() => window.lifelineStats!.framesDecoded);
    const drawnBefore = (await seenDrawing()).drawn.length;
    await page.waitForFunction((count) => window.lifelineStats!.framesDecoded >= count + 10, before, {
      timeout: 30_000,
    });
    await page.waitForFunction(
      (count) =>
        (window as unknown as { seen: { drawn: string[] } }).seen.drawn.slice(count).includes('ImageData'),
      drawnBefore,
      { timeout: 30_000 },
    );
    assert.equal(await page.evaluate(() => window.lifelineVideoPath), 'worker');
    const seen = await seenDrawing();
    assert.ok(
      seen.drawn.slice(drawnBefore).every((name) => name === 'ImageData'),
      seen.drawn.slice(drawnBefore).join(),
    );
  });

  it('a page pinned to the worker decodes and converts there: the page decodes nothing and only puts ImageData', async () => {
    await page.addInitScript(() => {
      window.lifelineVideoPathPinned = 'worker';
    });
    await watchDrawing();
    await signIn();
    await goLive();
    await page.waitForFunction(() => (window.lifelineStats?.framesDecoded ?? 0) >= 5);
    const seen = await seenDrawing();
    assert.equal(await page.evaluate(() => window.lifelineVideoPath), 'worker');
    assert.equal(seen.pageDecodes, 0, 'the page itself decoded');
    assert.ok(seen.drawn.length > 0 && seen.drawn.every((name) => name === 'ImageData'), seen.drawn.join());
    const pictures = await page.evaluate(() => window.lifelineVideoTimings?.take() ?? []);
    assert.ok(pictures.length > 0, 'no stage stamps published');
    for (const p of pictures) {
      assert.ok(
        p.received <= p.decodeCalled &&
          p.decodeCalled <= p.output &&
          p.output <= p.converted &&
          p.converted <= p.drawn,
        JSON.stringify(p),
      );
    }
    const colours = await page.evaluate(() => {
      const element = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')!;
      const pixels = element.getContext('2d')!.getImageData(0, 0, element.width, element.height).data;
      const set = new Set<number>();
      for (let i = 0; i < pixels.length; i += 4)
        set.add((pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!);
      return set.size;
    });
    assert.ok(colours > 50, `the canvas has ${colours} colours`);
  });

  it("the worker's pixels on the canvas are the picture the page itself would draw", async () => {
    await page.addInitScript(() => {
      window.lifelineVideoPathPinned = 'worker';
    });
    await watchDrawing();
    await signIn();
    const peer = await connect();
    acceptAndConfigure(peer, VIEW_AND_CONTROL, VIDEO);
    const shown = units.slice(0, 10);
    for (const unit of shown) peer.sendVideo(unit);
    // The fake peer numbers a connection's units from 0.
    const last = shown.length - 1;
    await page.waitForFunction(
      (sequence) => window.lifelineVideoTimings?.take().some((p) => p.sequence === sequence) ?? false,
      last,
    );
    assert.equal(await page.evaluate(() => window.lifelineVideoPath), 'worker');
    assert.ok((await seenDrawing()).drawn.includes('ImageData'));
    // The same units decoded on the page and drawn there as a VideoFrame: the reference picture.
    const difference = await page.evaluate(
      async (encoded) => {
        const screen = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]')!;
        const { width, height } = screen;
        const onScreen = screen.getContext('2d')!.getImageData(0, 0, width, height).data;
        const reference = new OffscreenCanvas(width, height);
        const context = reference.getContext('2d')!;
        const frames: VideoFrame[] = [];
        // Callbacks as array elements: tsx would name them as properties with a helper the page lacks.
        const [output, error] = [(frame: VideoFrame) => frames.push(frame), () => {}];
        const decoder = new VideoDecoder({ output: output!, error: error! });
        decoder.configure({ codec: 'avc1.42E01F', optimizeForLatency: true });
        for (const [i, unit] of encoded.entries()) {
          decoder.decode(
            new EncodedVideoChunk({
              type: unit.keyframe ? 'key' : 'delta',
              timestamp: i * 1000,
              data: Uint8Array.from(unit.data),
            }),
          );
        }
        await decoder.flush();
        context.drawImage(frames.at(-1)!, 0, 0);
        for (const frame of frames) frame.close();
        const expected = context.getImageData(0, 0, width, height).data;
        let sum = 0;
        let swapped = 0;
        for (let i = 0; i < expected.length; i += 4) {
          for (let c = 0; c < 3; c++) sum += Math.abs(onScreen[i + c]! - expected[i + c]!);
          // The same channels read in BGRA order, to tell a swizzle mistake from a small difference.
          swapped += Math.abs(onScreen[i]! - expected[i + 2]!) + Math.abs(onScreen[i + 2]! - expected[i]!);
        }
        const channels = (expected.length / 4) * 3;
        return { mean: sum / channels, swappedMean: swapped / ((expected.length / 4) * 2), width, height };
      },
      shown.map((unit) => ({ keyframe: unit.keyframe, data: [...unit.data] })),
    );
    assert.deepEqual([difference.width, difference.height], [VIDEO.width, VIDEO.height]);
    // The page draws with Skia and the worker converts with libyuv: a rounding apart, not a colour.
    assert.ok(difference.mean < 3, JSON.stringify(difference));
    assert.ok(difference.swappedMean > 10, JSON.stringify(difference));
  });

  it('decodes on the page when the video worker cannot load', async () => {
    await plane.stop();
    plane = await FakeControlPlane.start({ js: assets.js, css: assets.css });
    await page.addInitScript(() => {
      window.lifelineVideoPathPinned = 'worker';
    });
    await signIn();
    await goLive();
    await page.waitForFunction(() => window.lifelineVideoPath === 'main thread');
    const drawn = await page.evaluate(() => window.lifelineStats!.lastFrameAt);
    await page.waitForFunction((before) => window.lifelineStats!.lastFrameAt > before, drawn);
  });

  it('a burst of pictures is not drawn late one by one: the older are skipped and the newest is shown', async () => {
    await signIn();
    const peer = await connect();
    acceptAndConfigure(peer, VIEW_AND_CONTROL, VIDEO);
    peer.sendVideo(units[0]!);
    await page.waitForFunction(() => (window.lifelineStats?.framesDecoded ?? 0) === 1);
    await page.evaluate(() => window.lifelineVideoTimings?.take());
    // The page is busy while 29 more units arrive, so they reach the console all at once.
    const busy = page.evaluate(() => {
      const end = performance.now() + 1500;
      while (performance.now() < end);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const unit of units.slice(1, 30)) peer.sendVideo(unit);
    await busy;
    await page.waitForFunction(() => window.lifelineStats?.framesDecoded === 30);
    await page.waitForFunction(
      () => window.lifelineVideoTimings?.take().some((p) => p.sequence === 29) ?? false,
    );
    const stats = await page.evaluate(() => window.lifelineStats!);
    assert.ok(stats.picturesSkipped > 0, JSON.stringify(stats));
    assert.equal(stats.framesDropped, 0, JSON.stringify(stats));
  });

  it('in control, sends normalised pointer, wheel and key input; revoking control ends control mode', async () => {
    await signIn();
    const peer = await goLive();
    await page.click('[data-testid=take-control]');
    await page.waitForSelector('[data-testid=release-control]');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'screen');

    const box = (await page.locator('canvas[data-testid=screen]').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.75);
    await page.mouse.down({ button: 'right' });
    await page.mouse.up({ button: 'right' });
    await page.mouse.wheel(0, 300);
    await page.keyboard.down('Tab');
    await page.keyboard.down('ShiftLeft');
    await page.keyboard.up('Tab');
    await peer.waitFor(
      'input',
      (message) => message.event.kind === 'key' && message.event.code === 'Tab' && !message.event.down,
    );

    const events = inputs(peer);
    const move = events.find((event) => event.kind === 'move');
    assert.ok(move && Math.abs(move.x - 0.25) < 0.01 && Math.abs(move.y - 0.75) < 0.01, JSON.stringify(move));
    const buttons = events.filter((event) => event.kind === 'button');
    assert.deepEqual(
      buttons.map((event) => [event.button, event.down]),
      [
        ['right', true],
        ['right', false],
      ],
    );
    assert.deepEqual(
      events.find((event) => event.kind === 'wheel'),
      { kind: 'wheel', dx: 0, dy: 3 },
    );

    // The user revokes control while Shift is still held: control ends, Shift is released remotely.
    peer.send({ type: 'permissions', permissions: { ...VIEW_AND_CONTROL, control: false } });
    await page.waitForSelector('[data-testid=take-control]:disabled');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=notice]')?.textContent?.includes('took back control'),
    );
    assert.equal(await page.getAttribute('[data-testid=permission-control]', 'data-state'), 'off');
    await peer.waitFor(
      'input',
      (message) => message.event.kind === 'key' && message.event.code === 'ShiftLeft' && !message.event.down,
    );
    const count = inputs(peer).length;
    await page.mouse.move(box.x + 10, box.y + 10);
    await page.keyboard.press('KeyA');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(inputs(peer).length, count, 'no input is sent out of control mode');
  });

  it('End session tells the relay and the control plane, then shows why it ended', async () => {
    await signIn();
    const peer = await goLive();
    await page.click('[data-testid=end-session]');
    assert.deepEqual(await peer.waitFor('end'), { type: 'end', reason: 'operator-ended' });
    await page.waitForSelector('[data-testid=ended]');
    assert.match(
      (await page.textContent('[data-testid=ended]')) ?? '',
      /You ended the session\..*operator-ended/,
    );
    assert.ok(
      plane.requests.some(
        (request) => request.method === 'POST' && request.url === '/api/sessions/sess-1/end',
      ),
    );
    await page.click('[data-testid=back]');
    await page.waitForSelector('body[data-view=dashboard]');
  });

  it('says so when the user ends the session', async () => {
    await signIn();
    const peer = await goLive();
    peer.send({ type: 'end', reason: 'user-ended' });
    await page.waitForSelector('[data-testid=ended]');
    assert.match(
      (await page.textContent('[data-testid=ended]')) ?? '',
      /The user ended the session\..*user-ended/,
    );
    assert.equal(await status(), 'Session ended');
  });

  it('says so when the user declines', async () => {
    await signIn();
    const peer = await connect();
    peer.send({ type: 'consent', accepted: false, permissions: ALL_OFF });
    await page.waitForSelector('[data-testid=ended]');
    assert.match((await page.textContent('[data-testid=ended]')) ?? '', /The user declined/);
    assert.equal(await status(), 'The user declined');
  });

  it('a dropped connection offers Reconnect, which rejoins the session with a new grant', async () => {
    await signIn();
    const first = await goLive();
    first.drop();
    await page.waitForSelector('[data-testid=connection-lost]');
    assert.equal(await status(), 'Connection lost');
    await page.click('[data-testid=reconnect]');
    const second = await plane.peer(1);
    assert.equal((await second.waitFor('hello')).token, RELAY_TOKEN);
    assert.ok(
      plane.requests.some(
        (request) => request.method === 'POST' && request.url === '/api/sessions/sess-1/join',
      ),
    );
    second.send({ type: 'welcome', protocol: 1, sessionId: 'sess-1' });
    acceptAndConfigure(second, VIEW_AND_CONTROL, VIDEO);
    stream(second);
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=session-status]')?.textContent?.includes('Connected'),
    );
  });

  it("after a restart of the control plane (close 1012) it rejoins by itself once the user's device is back", async () => {
    await signIn();
    const first = await goLive();
    first.closeWith(CloseCode.serviceRestart, 'server restarting');
    await page.waitForSelector('[data-testid=connection-lost]');
    // The relay is back before the user's device: the first rejoin is refused, a later one gets in.
    const second = await plane.peer(1, 15_000);
    assert.equal((await second.waitFor('hello')).token, RELAY_TOKEN);
    second.send({ type: 'error', code: 'AGENT_OFFLINE', message: "The user's device is not connected." });
    second.closeWith(CloseCode.policy, 'AGENT_OFFLINE');
    const third = await plane.peer(2, 15_000);
    await third.waitFor('hello');
    third.send({ type: 'welcome', protocol: 1, sessionId: 'sess-1' });
    acceptAndConfigure(third, VIEW_AND_CONTROL, VIDEO);
    stream(third);
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=session-status]')?.textContent?.includes('Connected'),
    );
    const joins = plane.requests.filter(
      (request) => request.method === 'POST' && request.url === '/api/sessions/sess-1/join',
    );
    assert.equal(joins.length, 2, 'one join per attempt, none by hand');
  });

  it('a relay refusal shows its reason with Try again', async () => {
    await signIn();
    await page.fill('[data-testid=code-input]', CODE);
    await page.click('[data-testid=connect]');
    const peer = await plane.peer(0);
    await peer.waitFor('hello');
    peer.send({ type: 'error', code: 'AGENT_OFFLINE', message: "The user's device went offline." });
    assert.equal(await page.textContent('[data-testid=error]'), "The user's device went offline.");
    await page.click('text=Try again');
    await (await plane.peer(1)).waitFor('hello');
  });

  it('lists active sessions and rejoins one', async () => {
    plane.activeSessions = [plane.session('active')];
    await signIn();
    await page.click('[data-testid=rejoin]');
    await page.waitForSelector('body[data-view=session]');
    await (await plane.peer(0)).waitFor('hello');
    assert.ok(
      plane.requests.some(
        (request) => request.method === 'POST' && request.url === '/api/sessions/sess-1/join',
      ),
    );
  });
});
