import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  ALL_PERMISSIONS,
  DEFAULT_POLICY,
  encodeShellData,
  encodeVideo,
  ShellStream,
} from '../../protocol/index.ts';
import { RelayClient } from '../control-plane/relay-client.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { waitFor } from '../support/processes.ts';
import { api, type ConsolePage, launchConsoleBrowser, openConsole, signIn } from './real-console.ts';

// A session recorded by the real relay, played back in the real console with WebCodecs.

const WIDTH = 64;
const HEIGHT = 48;
/** Between the red part and the blue part of the recording, in milliseconds. */
const PAUSE_MS = 1500;
const AUD = [0, 0, 0, 1, 9];
const SHELL_OUTPUT = '$ uptime\r\n 10:00:00 up 1 day\r\n';

/**
 * A solid colour encoded with libx264 as the agent would send it, split into access units; `half`:
 * at half each side, as the agent's video mode sends a screen in full motion (a new SPS, same config).
 */
function solidColour(
  colour: string,
  frames: number,
  half = false,
): { keyframe: boolean; data: Uint8Array }[] {
  const ffmpeg = process.env['FFMPEG_PATH'] ?? 'ffmpeg';
  const result = spawnSync(
    ffmpeg,
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
      ...[
        '-i',
        `color=c=${colour}:size=${half ? `${WIDTH / 2}x${HEIGHT / 2}` : `${WIDTH}x${HEIGHT}`}:rate=10`,
      ],
      ...['-frames:v', String(frames), '-c:v', 'libx264', '-profile:v', 'baseline', '-bf', '0'],
      ...['-g', String(frames), '-pix_fmt', 'yuv420p'],
      ...['-x264-params', 'repeat-headers=1:aud=1', '-f', 'h264', '-'],
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr?.toString()}`);
  const stream = new Uint8Array(result.stdout);
  const starts: number[] = [];
  for (let i = 0; i + AUD.length <= stream.length; i++) {
    if (AUD.every((value, index) => stream[i + index] === value)) starts.push(i);
  }
  return starts.map((start, index) => ({
    keyframe: index === 0,
    data: stream.subarray(start, starts[index + 1] ?? stream.length),
  }));
}

describe('the console plays a session recording', () => {
  let cp: TestControlPlane;
  let browser: Browser;
  let view: ConsolePage | undefined;
  let sessionId: string;

  before(async () => {
    cp = await startControlPlane({ listen: true });
    browser = await launchConsoleBrowser();
    const group = await api<{ id: string }>(cp, 'POST', '/api/groups', {
      body: { name: 'recorded', policy: { ...DEFAULT_POLICY, recordingMandatory: true } },
    });
    const { registrationKey } = await api<{ registrationKey: string }>(
      cp,
      'POST',
      `/api/groups/${group.id}/registration-key`,
    );
    const registered = await cp.app.request('/api/agent/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'test-agent', version: '0.0.0', registrationKey }),
    });
    const grant = (await registered.json()) as {
      sessionId: string;
      code: string;
      relay: { url: string; token: string };
    };
    sessionId = grant.sessionId;
    const agent = await RelayClient.connect(grant.relay.url, {
      hello: { role: 'agent', token: grant.relay.token },
    });
    await agent.next('welcome');
    const redeemed = await api<{ relay: { url: string; token: string } }>(
      cp,
      'POST',
      '/api/sessions/redeem',
      {
        body: { code: grant.code },
      },
    );
    const operator = await RelayClient.connect(redeemed.relay.url, {
      hello: { role: 'operator', token: redeemed.relay.token },
    });
    await operator.next('welcome');
    await agent.next('operator-joined');
    agent.send({ type: 'consent', accepted: true, permissions: ALL_PERMISSIONS });
    await operator.next('consent');
    agent.send({ type: 'video-config', codec: 'avc1.42E01E', width: WIDTH, height: HEIGHT, framerate: 10 });
    let sequence = 0;
    const send = async (units: { keyframe: boolean; data: Uint8Array }[]) => {
      for (const unit of units) {
        await agent.sendBytes(
          encodeVideo({
            keyframe: unit.keyframe,
            sequence: sequence++,
            captureTime: Date.now(),
            data: unit.data,
          }),
        );
      }
    };
    await send(solidColour('red', 5));
    await operator.until(() => operator.videos().length === 5, 'the red frames');
    agent.send({ type: 'chat', id: 'c1', text: 'Is it blue now?' });
    await operator.next('chat');
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    // The blue part in video mode's half size: the player must draw it across the whole screen.
    await send(solidColour('blue', 5, true));
    await operator.until(() => operator.videos().length === 10, 'the blue frames');
    // The cursor, as an agent that leaves it out of the picture sends it: a 2×2 green square at 20,10.
    const green = Buffer.from(Array.from({ length: 4 }, () => [0, 255, 0, 255]).flat()).toString('base64');
    agent.send({ type: 'cursor-shape', width: 2, height: 2, hotX: 0, hotY: 0, rgba: green });
    agent.send({ type: 'cursor-position', x: 20, y: 10 });
    await operator.next('cursor-position');
    // A shell, for the asciicast export.
    const channel = (operator.messages('welcome')[0] as { slot: number }).slot * 65_536 + 1;
    operator.send({ type: 'shell-open', channel, cols: 80, rows: 24 });
    await agent.next('shell-open');
    await agent.sendBytes(
      encodeShellData({
        channel,
        stream: ShellStream.terminal,
        data: new TextEncoder().encode(SHELL_OUTPUT),
      }),
    );
    await operator.until(() => operator.shellData().length === 1, 'the shell output');
    operator.send({ type: 'end', reason: 'operator-ended' });
    await agent.next('end');
    await agent.close();
    await operator.close();
    // The relay finishes the recording's row after the end.
    await waitFor(
      'the recording to be finished',
      async () =>
        (await api<{ endedAt: string | null }>(cp, 'GET', `/api/sessions/${sessionId}/recording`)).endedAt !==
        null,
      10_000,
      50,
    );
  });

  after(async () => {
    await view?.context.close();
    await browser?.close();
    await cp?.stop();
  });

  it('opens from the session history, shows the first picture, seeks, plays, and lists the chat', async () => {
    view = await openConsole(browser, cp);
    const { page } = view;
    await signIn(page, cp);
    await page.click('[data-testid=sessions-filter-ended]');
    const row = page.locator(`[data-testid=session-row][data-id="${sessionId}"]`);
    await row.locator('[data-testid=session-recording]').click();
    await page.waitForSelector('[data-testid=recording-player][data-state=ready]');
    const centre = () =>
      page.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=recording-screen]')!;
        const [r, g, b] = canvas
          .getContext('2d')!
          .getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data;
        return { r: r!, g: g!, b: b!, frames: Number(canvas.getAttribute('data-frames') ?? 0) };
      });
    const isRed = (c: { r: number; g: number; b: number }) => c.r > 180 && c.g < 80 && c.b < 80;
    const isBlue = (c: { r: number; g: number; b: number }) => c.b > 180 && c.r < 80 && c.g < 80;
    await page.waitForFunction(
      () =>
        Number(document.querySelector('[data-testid=recording-screen]')?.getAttribute('data-frames') ?? 0) >
        0,
    );
    assert.ok(isRed(await centre()), `the first picture is red: ${JSON.stringify(await centre())}`);
    assert.match((await page.textContent('[data-testid=recording-track]')) ?? '', /Is it blue now\?/);
    assert.match((await page.textContent('[data-testid=recording-track]')) ?? '', /session\.consent/);

    // Seek to the end: the decoder starts again from the blue part's keyframe.
    await page.$eval('[data-testid=recording-seek]', (input: HTMLInputElement) => {
      input.value = input.max;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForFunction(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=recording-screen]')!;
      const [r, , b] = canvas.getContext('2d')!.getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data;
      return b! > 180 && r! < 80;
    });
    assert.ok(isBlue(await centre()));
    const sizes = () =>
      page.$eval('[data-testid=recording-screen]', (canvas: HTMLCanvasElement) => ({
        canvas: `${canvas.width}x${canvas.height}`,
        picture: canvas.getAttribute('data-picture-size'),
        corner: [...canvas.getContext('2d')!.getImageData(canvas.width - 2, canvas.height - 2, 1, 1).data],
      }));
    const halfPart = await sizes();
    assert.equal(halfPart.picture, `${WIDTH / 2}x${HEIGHT / 2}`, 'the blue part is recorded at half size');
    assert.equal(halfPart.canvas, `${WIDTH}x${HEIGHT}`, "the canvas keeps the screen's size");
    assert.ok(
      isBlue({ r: halfPart.corner[0]!, g: halfPart.corner[1]!, b: halfPart.corner[2]! }),
      'scaled up to the corner',
    );

    // Back to the start, then play: the red part, and after the pause the blue part.
    await page.$eval('[data-testid=recording-seek]', (input: HTMLInputElement) => {
      input.value = '0';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForFunction(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=recording-screen]')!;
      const [r, , b] = canvas.getContext('2d')!.getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data;
      return r! > 180 && b! < 80;
    });
    await page.click('[data-testid=recording-play]');
    await page.waitForFunction(
      () => {
        const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=recording-screen]')!;
        const [r, , b] = canvas
          .getContext('2d')!
          .getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data;
        return b! > 180 && r! < 80;
      },
      undefined,
      { timeout: 20_000 },
    );
    // Played through, one decoder went from the full-size part to the half-size one.
    assert.deepEqual(
      { ...(await sizes()), corner: undefined },
      { canvas: `${WIDTH}x${HEIGHT}`, picture: `${WIDTH / 2}x${HEIGHT / 2}`, corner: undefined },
    );

    const audit = await api<{ items: unknown[] }>(
      cp,
      'GET',
      `/api/audit-events?sessionId=${sessionId}&action=recording.view`,
    );
    assert.equal(audit.items.length, 1, 'opening the player is one audited viewing');
    assert.deepEqual(view.problems, [], 'no page errors and no Content-Security-Policy violations');
  });

  it('the player draws the cursor recorded apart from the picture, from the moment it was recorded', async () => {
    assert.ok(view);
    const { page } = view;
    const seek = (to: 'start' | 'end') =>
      page.$eval(
        '[data-testid=recording-seek]',
        (input: HTMLInputElement, end) => {
          input.value = end ? input.max : '0';
          input.dispatchEvent(new Event('input', { bubbles: true }));
        },
        to === 'end',
      );
    await seek('end');
    await page.waitForSelector('[data-testid=recording-cursor]:not([hidden])');
    const [r, g, b] = await page.$eval('[data-testid=recording-cursor]', (canvas: HTMLCanvasElement) => [
      ...canvas.getContext('2d')!.getImageData(0, 0, 1, 1).data,
    ]);
    assert.deepEqual([r, g, b], [0, 255, 0]);
    await seek('start');
    await page.waitForSelector('[data-testid=recording-cursor][hidden]', { state: 'attached' });
  });

  it("the player's export buttons download the video as MP4 and the shell as asciicast", async () => {
    const exporting = await openConsole(browser, cp);
    try {
      const { page } = exporting;
      await signIn(page, cp);
      await page.click('[data-testid=sessions-filter-ended]');
      await page
        .locator(`[data-testid=session-row][data-id="${sessionId}"] [data-testid=session-recording]`)
        .click();
      await page.waitForSelector('[data-testid=recording-player][data-state=ready]');
      const download = async (testId: string) => {
        const [file] = await Promise.all([
          page.waitForEvent('download'),
          page.click(`[data-testid=${testId}]`),
        ]);
        return { name: file.suggestedFilename(), path: await file.path() };
      };
      const mp4 = await download('recording-export-mp4');
      assert.equal(mp4.name, `${sessionId}.mp4`);
      const probe = spawnSync('ffprobe', [
        ...['-v', 'error', '-select_streams', 'v:0', '-count_packets'],
        ...['-show_entries', 'stream=codec_name,nb_read_packets', '-of', 'csv=p=0', mp4.path],
      ]);
      assert.equal(probe.stdout.toString().trim(), 'h264,10', 'every recorded frame, as H.264');
      const cast = await download('recording-export-asciicast');
      const [header, ...events] = readFileSync(cast.path, 'utf8').trim().split('\n');
      assert.equal(JSON.parse(header!).version, 2);
      assert.deepEqual(
        events.map((line) => (JSON.parse(line) as unknown[])[2]),
        [SHELL_OUTPUT],
      );
      assert.deepEqual(exporting.problems, []);
    } finally {
      await exporting.context.close();
    }
  });
});
