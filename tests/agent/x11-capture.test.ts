import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RowBand } from '../../agent/media/changed-rows.ts';
import { X264FrameWriter } from '../../agent/media/x264-stream.ts';
import type { CursorShape, FrameFeed, PointerPosition } from '../../agent/platform/platform.ts';
import { rowsOf, startX11Capture } from '../../agent/platform/x11-capture.ts';
import { openX11 } from '../../agent/platform/x11-connection.ts';
import { waitFor } from '../support/processes.ts';
import { rawVideoSink } from '../support/raw-video-stream.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

const SIZE = { width: 320, height: 200 };

/** The colour of a frame's top-left pixel, as `#rrggbb`. */
function cornerColour(frame: Buffer | undefined): string {
  assert.ok(frame);
  const hex = (n: number | undefined) => (n ?? 0).toString(16).padStart(2, '0');
  return `#${hex(frame[2])}${hex(frame[1])}${hex(frame[0])}`;
}

describe('X11 capture on X DAMAGE (real Xvfb)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function display(): Promise<Xvfb> {
    const xvfb = await startXvfb(SIZE);
    cleanups.push(() => xvfb.stop());
    return xvfb;
  }

  function capture(
    xvfb: Xvfb,
    hooks: { onCursorShape?: (shape: CursorShape) => void; onPointer?: (position: PointerPosition) => void },
    area = { x: 0, y: 0, ...SIZE },
  ) {
    const sink = rawVideoSink();
    const errors: string[] = [];
    const feed: FrameFeed = startX11Capture({
      display: xvfb.display,
      area,
      framerate: 30,
      stdin: sink.stdin,
      hooks: { onError: (message) => errors.push(message), ...hooks },
    });
    cleanups.push(() => feed.stop());
    return { frames: () => sink.frames(), errors, feed };
  }

  /** The capture writing to `lifeline-x264`'s framing (bands of changed rows) on `stdin`. */
  function bandCapture(xvfb: Xvfb, stdin: Writable, onRowsRead?: (rows: RowBand) => void) {
    const errors: string[] = [];
    const feed: FrameFeed = startX11Capture({
      display: xvfb.display,
      area: { x: 0, y: 0, ...SIZE },
      framerate: 30,
      stdin,
      framing: new X264FrameWriter(),
      hooks: { onError: (message) => errors.push(message) },
      ...(onRowsRead ? { onRowsRead } : {}),
    });
    cleanups.push(() => feed.stop());
    return { errors, feed };
  }

  it('reads the screen at start, never while it is still, and again as soon as it changes', async () => {
    const xvfb = await display();
    await runX('xsetroot', ['-solid', '#00a000'], xvfb.display);
    const { frames, errors } = capture(xvfb, {});
    const first = await waitFor('the first frame', () => frames()[0]);
    assert.equal(first.data.byteLength, SIZE.width * SIZE.height * 4);
    assert.equal(cornerColour(first.data), '#00a000');

    // Let anything still settling on the display (the pointer appearing) come through first.
    await sleep(1000);
    const framesWhenStill = frames().length;
    // Grabbing on a clock (x11grab at 30 fps) would read about 60 frames here.
    await sleep(2000);
    assert.equal(frames().length, framesWhenStill, 'nothing is read while nothing changes');

    await runX('xsetroot', ['-solid', '#a000a0'], xvfb.display);
    await waitFor('the changed screen', () =>
      cornerColour(frames().at(-1)?.data) === '#a000a0' ? true : undefined,
    );
    const timestamps = frames().map((frame) => frame.timestamp);
    assert.deepEqual(
      timestamps,
      [...timestamps].sort((a, b) => a - b),
      'timestamps grow',
    );
    assert.deepEqual(errors, []);
  });

  it('a keyframe request on a still screen writes the last frame again at once, marked, and only that one', async () => {
    const xvfb = await display();
    await runX('xsetroot', ['-solid', '#0050c0'], xvfb.display);
    const { frames, errors, feed } = capture(xvfb, {});
    await waitFor('the first frame', () => frames()[0]);
    await sleep(1000);
    const still = frames();
    assert.ok(
      still.every((frame) => !frame.keyframe),
      'nothing is marked a keyframe unasked (the encoder makes the first one anyway)',
    );

    feed.requestKeyframe();
    // The screen does not change: without the request nothing would be written at all.
    const answer = await waitFor('the frame written for the request', () => frames()[still.length]);
    assert.equal(answer.keyframe, true, 'the frame is marked a keyframe');
    assert.ok(answer.data.equals(still.at(-1)?.data ?? Buffer.alloc(0)), 'it is the last picture again');
    await sleep(1000);
    assert.equal(frames().length, still.length + 1, 'one frame answers one request');

    await runX('xsetroot', ['-solid', '#c05000'], xvfb.display);
    await waitFor('the changed screen', () =>
      cornerColour(frames().at(-1)?.data) === '#c05000' ? true : undefined,
    );
    assert.ok(
      frames()
        .slice(still.length + 1)
        .every((frame) => !frame.keyframe),
      'frames after the answer are not marked',
    );
    assert.deepEqual(errors, []);
  });

  it('a read that shows nothing new is not written', async () => {
    const xvfb = await display();
    await runX('xsetroot', ['-solid', '#305030'], xvfb.display);
    const { frames, errors } = capture(xvfb, {});
    await waitFor('the first frame', () => frames()[0]);
    await sleep(1000);
    const still = frames().length;
    // Painting the root the colour it already has damages the whole screen and changes no pixel.
    for (let i = 0; i < 3; i++) await runX('xsetroot', ['-solid', '#305030'], xvfb.display);
    await runX('xsetroot', ['-solid', '#503050'], xvfb.display);
    await waitFor('the changed screen', () =>
      cornerColour(frames().at(-1)?.data) === '#503050' ? true : undefined,
    );
    assert.equal(frames().length, still + 1, 'only the real change was written');
    assert.deepEqual(errors, []);
  });

  it('where the encoder keeps its picture, a change to a few rows is written as a band of only those rows', async () => {
    const xvfb = await display();
    await runX('xsetroot', ['-solid', '#203040'], xvfb.display);
    const chunks: Buffer[] = [];
    const stdin = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(Buffer.from(chunk));
        callback();
      },
    });
    const { errors } = bandCapture(xvfb, stdin);
    /** What was written: each frame's mark, first row and rows (the header says; the payload agrees). */
    const written = () => {
      const stream = Buffer.concat(chunks);
      const bands: { mark: string; first: number; rows: number }[] = [];
      for (let at = 0; at + 16 <= stream.byteLength; ) {
        const bytes = stream.readUInt32LE(at + 4);
        bands.push({
          mark: stream.toString('latin1', at, at + 4),
          first: stream.readUInt16LE(at + 10),
          rows: bytes / (SIZE.width * 4),
        });
        at += 16 + bytes;
      }
      return bands;
    };
    await waitFor('the first frame', () => written()[0]);
    await sleep(1000);
    assert.deepEqual(written()[0], { mark: 'LLF2', first: 0, rows: SIZE.height }, 'the first frame is whole');
    const before = written().length;

    // A small window at y = 100 changes the rows it covers and none above them.
    const xterm = spawn('xterm', ['-geometry', '6x1+0+100', '-e', 'sleep', '60'], {
      env: { ...process.env, DISPLAY: xvfb.display },
      stdio: 'ignore',
    });
    cleanups.push(() => {
      xterm.kill();
    });
    await waitFor('the window drawn', () => (written().length > before ? true : undefined));
    await sleep(1000);
    const bands = written().slice(before);
    for (const band of bands) {
      assert.equal(band.mark, 'LLF2');
      assert.ok(band.first >= 100, `the band starts at row ${band.first}, inside the window`);
      assert.ok(
        band.rows > 0 && band.first + band.rows < 160,
        `the band ends at row ${band.first + band.rows}`,
      );
    }
    assert.deepEqual(errors, []);
  });

  it('a change confined to a few rows is read as only those rows, and the picture written stays the screen', async () => {
    const xvfb = await display();
    await runX('xsetroot', ['-solid', '#402030'], xvfb.display);
    // The pointer, drawn by Xvfb into its framebuffer, rests below the rows the window will cover.
    await runX('xdotool', ['mousemove', '300', '190'], xvfb.display);
    const rowBytes = SIZE.width * 4;
    /** The encoder's picture, rebuilt from the bands written ("LLF2": first row, then whole rows). */
    const picture = Buffer.alloc(SIZE.height * rowBytes);
    let pending = Buffer.alloc(0);
    let bandsWritten = 0;
    const stdin = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        pending = Buffer.concat([pending, chunk]);
        while (pending.byteLength >= 16 && pending.byteLength >= 16 + pending.readUInt32LE(4)) {
          const bytes = pending.readUInt32LE(4);
          pending.copy(picture, pending.readUInt16LE(10) * rowBytes, 16, 16 + bytes);
          pending = pending.subarray(16 + bytes);
          bandsWritten++;
        }
        callback();
      },
    });
    const reads: RowBand[] = [];
    const { errors } = bandCapture(xvfb, stdin, (rows) => reads.push(rows));
    const screen = await openX11(xvfb.display);
    cleanups.push(() => screen.client.terminate());
    const screenNow = () =>
      new Promise<Buffer>((resolve, reject) =>
        screen.client.GetImage(
          2,
          screen.screen.root,
          0,
          0,
          SIZE.width,
          SIZE.height,
          0xffffffff,
          (e, image) => (e || !image ? reject(e ?? new Error('no image')) : resolve(image.data)),
        ),
      );

    await waitFor('the first frame', () => (bandsWritten > 0 ? true : undefined));
    await sleep(1000);
    assert.deepEqual(reads[0], { first: 0, end: SIZE.height }, 'the first read is the whole area');
    assert.ok((await screenNow()).equals(picture), 'the first picture is the screen');
    const readsBefore = reads.length;
    const bandsBefore = bandsWritten;

    // A small terminal at y = 100, typed into, draws on the rows it covers and on no other.
    const xterm = spawn('xterm', ['-geometry', '20x1+0+100', '-e', 'cat'], {
      env: { ...process.env, DISPLAY: xvfb.display },
      stdio: 'ignore',
    });
    cleanups.push(() => {
      xterm.kill();
    });
    await waitFor('the window written', () => (bandsWritten > bandsBefore ? true : undefined));
    const id = (
      await runX('xdotool', ['search', '--sync', '--onlyvisible', '--class', 'xterm'], xvfb.display)
    )
      .trim()
      .split('\n')[0];
    assert.ok(id);
    await runX('xdotool', ['windowfocus', '--sync', id], xvfb.display);
    await sleep(1000);
    const untyped = Buffer.from(picture);
    await runX('xdotool', ['type', '--delay', '30', 'typed, read'], xvfb.display);
    await sleep(1000);
    assert.ok(!picture.equals(untyped), 'the typed text was written');
    const windowReads = reads.slice(readsBefore);
    assert.ok(windowReads.length > 0);
    for (const rows of windowReads)
      assert.ok(
        rows.first >= 100 && rows.end <= 160,
        `rows ${rows.first} to ${rows.end} were read, outside the window's`,
      );
    assert.ok((await screenNow()).equals(picture), 'the picture written is the screen with the typed text');

    // The whole root repainted: every row is read again, and the picture follows.
    await runX('xsetroot', ['-solid', '#304020'], xvfb.display);
    await waitFor('the whole screen read', () =>
      reads.some((rows) => rows.first === 0 && rows.end === SIZE.height && rows !== reads[0])
        ? true
        : undefined,
    );
    await sleep(1000);
    assert.ok((await screenNow()).equals(picture), 'the picture written is the repainted screen');
    assert.deepEqual(errors, []);
  });

  it('after a pause, a change right after a read is read at once; the next one waits for the frame interval', async () => {
    const xvfb = await display();
    // Everything that settles on a new display (the pointer appearing) before the capture starts.
    await runX('xdotool', ['mousemove', '300', '190'], xvfb.display);
    await runX('xsetroot', ['-solid', '#102030'], xvfb.display);
    await sleep(500);
    const reads: RowBand[] = [];
    const sink = rawVideoSink();
    const errors: string[] = [];
    // One read every 30 s at most, on average: far from what any wait on a loaded machine can reach.
    const feed = startX11Capture({
      display: xvfb.display,
      area: { x: 0, y: 0, ...SIZE },
      framerate: 1 / 30,
      stdin: sink.stdin,
      hooks: { onError: (message) => errors.push(message) },
      onRowsRead: (rows) => reads.push(rows),
    });
    cleanups.push(() => feed.stop());
    await waitFor('the first frame', () => sink.frames()[0]);
    await sleep(1000);
    assert.equal(reads.length, 1, 'nothing but the first read while the screen is still');

    // The first read used the interval's slot: the change is read in advance, not 30 s later (a
    // client's paint caught half-drawn by the first read of a change has its rest read so).
    await runX('xsetroot', ['-solid', '#a0b0c0'], xvfb.display);
    await waitFor('the change read at once', () =>
      cornerColour(sink.frames().at(-1)?.data) === '#a0b0c0' ? true : undefined,
    );
    // The read in advance is spent: steady changes are read `framerate` times a second at most.
    await runX('xsetroot', ['-solid', '#c0b0a0'], xvfb.display);
    await sleep(3000);
    assert.equal(reads.length, 2, 'the next change waits for the interval');
    assert.equal(cornerColour(sink.frames().at(-1)?.data), '#a0b0c0');
    assert.deepEqual(errors, []);
  });

  it('a damaged rectangle counts as the rows of the captured area it covers, and outside it as none', () => {
    const monitor = { x: 100, y: 50, width: 200, height: 150 };
    assert.deepEqual(rowsOf({ x: 150, y: 40, w: 10, h: 20 }, monitor), { first: 0, end: 10 });
    assert.deepEqual(rowsOf({ x: 0, y: 190, w: 500, h: 100 }, monitor), { first: 140, end: 150 });
    assert.equal(rowsOf({ x: 0, y: 60, w: 100, h: 10 }, monitor), undefined, 'left of the area');
    assert.equal(rowsOf({ x: 300, y: 60, w: 10, h: 10 }, monitor), undefined, 'right of the area');
    assert.equal(rowsOf({ x: 150, y: 0, w: 10, h: 50 }, monitor), undefined, 'above the area');
  });

  it('a resting pointer is read about once a second, not ten times, and a move from rest is still reported', async () => {
    const xvfb = await display();
    await runX('xdotool', ['mousemove', '40', '30'], xvfb.display);
    const positions: PointerPosition[] = [];
    let reads = 0;
    const feed = startX11Capture({
      display: xvfb.display,
      area: { x: 0, y: 0, ...SIZE },
      framerate: 30,
      stdin: rawVideoSink().stdin,
      hooks: {
        onError: (message) => assert.fail(message),
        onPointer: (position) => positions.push(position),
      },
      onPointerRead: () => reads++,
    });
    cleanups.push(() => feed.stop());
    await waitFor('the pointer position', () => positions[0]);
    const before = reads;
    // A load only makes the reads fewer: polled ten times a second it would be read about 30 times.
    await sleep(3_000);
    assert.ok(reads - before <= 6, `the resting pointer was read ${reads - before} times in 3 s`);
    // XTest's motion, as robotjs makes it, wakes the polling through XInput 2's raw motion.
    await runX('xdotool', ['mousemove', '200', '150'], xvfb.display);
    await waitFor('the move', () => positions.some((p) => p.x === 200 && p.y === 150) || undefined);
    assert.deepEqual(positions[0], { x: 40, y: 30 });
  });

  it("reports the cursor's shape when it changes (root cross, then xterm's I-beam) and where the pointer is", async () => {
    const xvfb = await display();
    await runX('xdotool', ['mousemove', '300', '180'], xvfb.display);
    const shapes: CursorShape[] = [];
    const positions: PointerPosition[] = [];
    // The captured area starts at (100, 50): positions are reported in its pixels.
    const { errors } = capture(
      xvfb,
      { onCursorShape: (shape) => shapes.push(shape), onPointer: (position) => positions.push(position) },
      { x: 100, y: 50, width: 200, height: 150 },
    );
    const rootCursor = await waitFor('the first cursor shape', () => shapes[0]);
    assert.equal(rootCursor.rgba.byteLength, rootCursor.width * rootCursor.height * 4);
    assert.ok(
      rootCursor.rgba.some((byte, i) => i % 4 === 3 && byte === 255),
      'the cursor has opaque pixels',
    );
    await waitFor('the pointer position', () =>
      positions.some((p) => p.x === 200 && p.y === 130) ? true : undefined,
    );

    const xterm: ChildProcess = spawn('xterm', ['-geometry', '20x5+0+0'], {
      env: { ...process.env, DISPLAY: xvfb.display },
      stdio: 'ignore',
    });
    cleanups.push(() => {
      xterm.kill('SIGKILL');
    });
    await runX('xdotool', ['search', '--sync', '--onlyvisible', '--class', 'xterm'], xvfb.display);
    await runX('xdotool', ['mousemove', '30', '20'], xvfb.display);
    const iBeam = await waitFor('a new cursor shape over the xterm', () =>
      shapes.find((shape) => shape.serial !== rootCursor.serial),
    );
    assert.notDeepEqual(
      { width: iBeam.width, height: iBeam.height, hotX: iBeam.hotX, hotY: iBeam.hotY, rgba: iBeam.rgba },
      {
        width: rootCursor.width,
        height: rootCursor.height,
        hotX: rootCursor.hotX,
        hotY: rootCursor.hotY,
        rgba: rootCursor.rgba,
      },
      'the I-beam does not look like the root cursor',
    );
    await waitFor('the pointer outside the area', () =>
      positions.some((p) => p.x === -70 && p.y === -30) ? true : undefined,
    );
    const serials = shapes.map((shape) => shape.serial);
    assert.deepEqual(
      serials.filter((serial, i) => serial === serials[i - 1]),
      [],
      'a shape is never reported twice in a row',
    );
    assert.deepEqual(errors, []);
  });
});
