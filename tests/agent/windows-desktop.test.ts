import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startWindowsCapture } from '../../agent/platform/windows-capture.ts';
import {
  CAPTURE_HEADER_BYTES,
  CAPTURE_MAGIC,
  CAPTURE_WHOLE,
  CaptureStreamError,
  CaptureStreamReader,
  CURSOR_POSITION_MAGIC,
  CURSOR_SHAPE_MAGIC,
} from '../../agent/platform/windows-capture-stream.ts';
import {
  overlayLine,
  parseMonitorsLine,
  parseWindowStateLine,
  parseWindowsLine,
} from '../../agent/platform/windows-desktop.ts';
import { waitFor } from '../support/processes.ts';
import { rawVideoSink } from '../support/raw-video-stream.ts';

// What lifeline-desktop.exe (agent/platform/windows/desktop-helper.c) prints, read by the agent.
describe("the Windows desktop helper's lines", () => {
  it('monitors are read with their device name, rectangle (negative left of the primary) and primary flag', () => {
    const line =
      '{"monitors":[{"name":"\\\\\\\\.\\\\DISPLAY1","primary":true,"x":0,"y":0,"width":1920,"height":1080},' +
      '{"name":"\\\\\\\\.\\\\DISPLAY2","primary":false,"x":-1280,"y":56,"width":1280,"height":1024}]}';
    assert.deepEqual(parseMonitorsLine(line), [
      { name: '\\\\.\\DISPLAY1', primary: true, x: 0, y: 0, width: 1920, height: 1080 },
      { name: '\\\\.\\DISPLAY2', primary: false, x: -1280, y: 56, width: 1280, height: 1024 },
    ]);
  });

  it('windows keep their handle and title; untitled or empty ones are left out, long titles cut to 200', () => {
    const line = JSON.stringify({
      windows: [
        { id: 65630, title: 'note.txt - Notepad', x: 10, y: 20, width: 486, height: 364 },
        { id: 65632, title: '   ', x: 0, y: 0, width: 100, height: 100 },
        { id: 65634, title: 'Empty', x: 0, y: 0, width: 0, height: 100 },
        { id: 65636, title: 'é'.repeat(300), x: 0, y: 0, width: 10, height: 10 },
      ],
    });
    const windows = parseWindowsLine(line);
    assert.deepEqual(
      windows.map((w) => [w.id, w.title.length]),
      [
        [65630, 18],
        [65636, 200],
      ],
    );
    assert.deepEqual(windows[0], {
      id: 65630,
      title: 'note.txt - Notepad',
      x: 10,
      y: 20,
      width: 486,
      height: 364,
    });
  });

  it('a watched window\'s line is its state, and {"gone":true} is undefined', () => {
    const state = {
      area: { x: 96, y: 127, width: 486, height: 364 },
      hidden: false,
      covered: [{ x: 0, y: 0, width: 160, height: 226 }],
    };
    assert.deepEqual(parseWindowStateLine(JSON.stringify(state)), state);
    assert.equal(parseWindowStateLine('{"gone":true}'), undefined);
  });

  it('anything else is refused rather than guessed at', () => {
    for (const line of [
      '',
      'not json',
      '{"monitors":[{"name":"x","primary":"yes","x":0,"y":0,"width":1,"height":1}]}',
      '{"monitors":[{"name":"x","primary":true,"x":0.5,"y":0,"width":1,"height":1}]}',
    ])
      assert.throws(() => parseMonitorsLine(line), Error, line);
    assert.throws(() =>
      parseWindowsLine('{"windows":[{"id":-1,"title":"x","x":0,"y":0,"width":1,"height":1}]}'),
    );
    assert.throws(() => parseWindowStateLine('{"gone":false}'));
    assert.throws(() =>
      parseWindowStateLine('{"area":{"x":0,"y":0,"width":-5,"height":1},"hidden":false,"covered":[]}'),
    );
  });

  it('guidance layers are written as one line of colours and rectangles; none is an empty line', () => {
    assert.equal(
      overlayLine([
        { colour: 0xff0000, rectangles: [{ x: 10, y: 20, width: 3, height: 4 }] },
        { colour: 0x00ff00, rectangles: [] },
      ]),
      '16711680 1 10 20 3 4 65280 0\n',
    );
    assert.equal(overlayLine([]), '\n');
  });
});

/** A 24-byte header of `lifeline-desktop.exe capture`: six little-endian 32-bit words. */
function header(...words: number[]): Buffer {
  const bytes = Buffer.alloc(CAPTURE_HEADER_BYTES);
  for (const [i, word] of words.entries()) bytes.writeUInt32LE(word, i * 4);
  return bytes;
}

/** A message of `lifeline-desktop.exe capture`: the header, then `rowCount` rows of `fill`. */
function captureMessage(
  size: { width: number; height: number },
  firstRow: number,
  rowCount: number,
  flags: number,
  fill: number,
): Buffer {
  return Buffer.concat([
    header(CAPTURE_MAGIC, size.width, size.height, firstRow, rowCount, flags),
    Buffer.alloc(rowCount * size.width * 4, fill),
  ]);
}

// What `lifeline-desktop.exe capture` (agent/platform/windows/capture.c) writes, read by the agent.
describe("the Windows desktop helper's capture stream", () => {
  const size = { width: 4, height: 3 };

  it('pictures, bands of changed rows and the cursor apart are read, however the pipe cuts them', () => {
    const bytes = Buffer.concat([
      captureMessage(size, 0, 3, CAPTURE_WHOLE, 7),
      header(CURSOR_SHAPE_MAGIC, 5, 2, 1, 1, 0),
      Buffer.from([255, 0, 0, 255, 0, 0, 0, 0]),
      header(CURSOR_POSITION_MAGIC, -3 >>> 0, 2, 0, 0, 0),
      captureMessage(size, 1, 2, 0, 9),
    ]);
    for (const cut of [1, 5, CAPTURE_HEADER_BYTES, 50, bytes.byteLength]) {
      const reader = new CaptureStreamReader(size);
      const messages = [];
      for (let at = 0; at < bytes.byteLength; at += cut)
        messages.push(...reader.push(bytes.subarray(at, at + cut)));
      assert.deepEqual(
        messages.map((m) =>
          m.kind === 'band'
            ? [m.firstRow, m.rowCount, m.whole, m.rows.byteLength, m.rows[0]]
            : m.kind === 'cursor-shape'
              ? { ...m.shape, rgba: [...m.shape.rgba] }
              : m.position,
        ),
        [
          [0, 3, true, 48, 7],
          { serial: 5, width: 2, height: 1, hotX: 1, hotY: 0, rgba: [255, 0, 0, 255, 0, 0, 0, 0] },
          { x: -3, y: 2 },
          [1, 2, false, 32, 9],
        ],
        `cut every ${cut} bytes`,
      );
    }
  });

  it('a header out of step is refused with CaptureStreamError rather than read as pixels', () => {
    const bad = [
      Buffer.concat([Buffer.from('not a header at all.....'), Buffer.alloc(48)]),
      captureMessage({ width: 5, height: 3 }, 0, 3, CAPTURE_WHOLE, 0),
      captureMessage(size, 2, 2, 0, 0),
      captureMessage(size, 0, 0, 0, 0),
      captureMessage(size, 1, 2, CAPTURE_WHOLE, 0),
      captureMessage(size, 0, 3, 4, 0),
      Buffer.concat([header(CURSOR_SHAPE_MAGIC, 1, 97, 1, 0, 0), Buffer.alloc(97 * 4)]),
      Buffer.concat([header(CURSOR_SHAPE_MAGIC, 1, 2, 2, 3, 0), Buffer.alloc(16)]),
    ];
    for (const bytes of bad)
      assert.throws(
        () => new CaptureStreamReader(size).push(bytes),
        CaptureStreamError,
        bytes.toString('hex', 0, 24),
      );
  });

  it('a helper that writes nonsense stops the capture with a clear error, and no frame reaches the encoder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-capture-'));
    try {
      const helper = join(dir, 'lifeline-desktop');
      // Stays running, as a real helper would, until the capture stops it.
      writeFileSync(
        helper,
        '#!/bin/sh\nprintf "HTTP/1.1 400 Bad Request\\r\\n\\r\\n"\nexec cat >/dev/null\n',
      );
      chmodSync(helper, 0o755);
      const sink = rawVideoSink();
      const error = await new Promise<string>((resolve) => {
        startWindowsCapture(helper, {
          area: { x: 0, y: 0, ...size },
          framerate: 30,
          stdin: sink.stdin,
          hooks: { onError: resolve },
        });
      });
      assert.match(error, /the screen capture stopped: the capture helper wrote no frame header/);
      assert.deepEqual(sink.frames(), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("frames reach the encoder whole, the helper's whole pictures after the first marked keyframes; commands reach it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-capture-'));
    try {
      const helper = join(dir, 'lifeline-desktop');
      const commands = join(dir, 'commands');
      const whole = captureMessage(size, 0, 3, CAPTURE_WHOLE, 0x11).toString('base64');
      const band = captureMessage(size, 2, 1, 0, 0x22).toString('base64');
      // A whole picture and a band, then the picture whole again on each "keyframe", as the helper does.
      writeFileSync(
        helper,
        [
          '#!/bin/sh',
          `echo "$@" > '${commands}'`,
          `echo ${whole} | base64 -d`,
          `echo ${band} | base64 -d`,
          'while read -r line; do',
          `  echo "$line" >> '${commands}'`,
          `  if [ "$line" = keyframe ]; then echo ${whole} | base64 -d; fi`,
          'done',
          '',
        ].join('\n'),
      );
      chmodSync(helper, 0o755);
      const sink = rawVideoSink();
      const errors: string[] = [];
      const feed = startWindowsCapture(helper, {
        area: { x: -10, y: 20, ...size },
        framerate: 30,
        stdin: sink.stdin,
        hooks: { onError: (message) => errors.push(message) },
      });
      await waitFor('two frames', () => (sink.frames().length >= 2 ? true : undefined), 30_000);
      feed.requestKeyframe();
      feed.setFrameRate?.(5);
      await waitFor(
        'the helper to hear both commands',
        () => (readFileSync(commands, 'utf8').includes('fps 5') ? true : undefined),
        30_000,
      );
      await waitFor('the keyframe', () => (sink.frames().length >= 3 ? true : undefined), 30_000);
      feed.stop();
      const frames = sink.frames();
      // The first frame is at 0, a keyframe whatever its mark (see RawVideoWriter).
      assert.equal(frames[0]!.timestamp, 0);
      assert.deepEqual(
        frames.map((f) => [f.keyframe, f.data.byteLength, f.data[0], f.data[2 * 16]]),
        [
          [false, 48, 0x11, 0x11],
          [false, 48, 0x11, 0x22],
          [true, 48, 0x11, 0x11],
        ],
      );
      assert.equal(readFileSync(commands, 'utf8'), 'capture -10 20 4 3 30\nkeyframe\nfps 5\n');
      assert.deepEqual(errors, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
