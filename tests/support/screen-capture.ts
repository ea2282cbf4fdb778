import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolveFfmpeg } from '../../agent/media/ffmpeg-path.ts';
import { createLinuxPlatform } from '../../agent/platform/linux.ts';
import type { Platform, ScreenSize } from '../../agent/platform/platform.ts';
import { runX, type Xvfb } from './xvfb.ts';

// What the screen-capture tests share: the agent's real Linux platform on an Xvfb display, and a
// decoder that turns the H.264 it produced back into small pictures whose colours can be checked.

/** Decoded frames are shrunk to this size so that a whole recording fits in a few KB. */
export const THUMB = { width: 32, height: 18 };

/**
 * The real Linux platform for this display, except that the screen size comes from the X server
 * through xdpyinfo: robotjs would keep an X connection open in this process, and Xlib exits the
 * process when that server is stopped. The input tests cover robotjs's screen size.
 */
export async function platformFor(xvfb: Xvfb): Promise<Platform> {
  const info = await runX('xdpyinfo', [], xvfb.display);
  const match = /dimensions:\s+(\d+)x(\d+) pixels/.exec(info);
  assert.ok(match, info);
  const size: ScreenSize = { width: Number(match[1]), height: Number(match[2]) };
  return { ...createLinuxPlatform({ DISPLAY: xvfb.display }), screenSize: () => size };
}

/** Decodes Annex-B H.264 access units with ffmpeg into RGB thumbnails, one per frame. */
export function decodeThumbnails(units: readonly Uint8Array[]): Uint8Array[] {
  const result = spawnSync(
    resolveFfmpeg().path,
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'h264', '-i', 'pipe:0'],
      ...['-vsync', '0', '-vf', `scale=${THUMB.width}:${THUMB.height}`],
      ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    ],
    { input: Buffer.concat(units), maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(result.status, 0, result.stderr.toString());
  const frameBytes = THUMB.width * THUMB.height * 3;
  const frames: Uint8Array[] = [];
  for (let at = 0; at + frameBytes <= result.stdout.byteLength; at += frameBytes) {
    frames.push(result.stdout.subarray(at, at + frameBytes));
  }
  return frames;
}

/** The colour of the thumbnail's top-left corner, away from the pointer Xvfb puts in the middle. */
export function cornerColour(frame: Uint8Array | undefined): [number, number, number] {
  assert.ok(frame);
  const at = (2 * THUMB.width + 2) * 3;
  return [frame[at] ?? -1, frame[at + 1] ?? -1, frame[at + 2] ?? -1];
}

/**
 * The colour of one pixel of the X display as a viewer sees it (every window composed, the pointer
 * left out), grabbed with ffmpeg's x11grab.
 */
export function screenPixel(display: string, x: number, y: number): [number, number, number] {
  const result = spawnSync(
    resolveFfmpeg().path,
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'x11grab', '-draw_mouse', '0'],
      ...['-video_size', '1x1', '-i', `${display}+${x},${y}`, '-frames:v', '1'],
      ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    ],
    { maxBuffer: 1024 * 1024 },
  );
  assert.equal(result.status, 0, result.stderr.toString());
  return [result.stdout[0] ?? -1, result.stdout[1] ?? -1, result.stdout[2] ?? -1];
}

/** Whether a pixel is the red guidance marks are painted in (agent/platform/x11-overlay.ts). */
export function isMarkRed([r, g, b]: [number, number, number]): boolean {
  return r > 200 && g < 80 && b < 80;
}
