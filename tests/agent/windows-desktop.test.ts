import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  overlayLine,
  parseMonitorsLine,
  parseWindowStateLine,
  parseWindowsLine,
} from '../../agent/platform/windows-desktop.ts';

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
