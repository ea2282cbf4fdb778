import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseListMonitors } from '../../agent/platform/xrandr-monitors.ts';

describe('the monitors xrandr lists', () => {
  it('are read with their name, size, position and which is primary, in order', () => {
    const output = [
      'Monitors: 2',
      ' 0: +*DP-1 1920/527x1080/296+0+0  DP-1',
      ' 1: +HDMI-1 1280/338x1024/270+1920+56  HDMI-1',
      '',
    ].join('\n');
    assert.deepEqual(parseListMonitors(output), [
      { name: 'DP-1', primary: true, width: 1920, height: 1080, x: 0, y: 0 },
      { name: 'HDMI-1', primary: false, width: 1280, height: 1024, x: 1920, y: 56 },
    ]);
  });

  it('a layout set with --setmonitor (no output of its own) is a monitor too; other lines are not', () => {
    const output = 'Monitors: 1\n 0: RIGHT 640/169x480/127+640+0 \nsomething else\n';
    assert.deepEqual(parseListMonitors(output), [
      { name: 'RIGHT', primary: false, width: 640, height: 480, x: 640, y: 0 },
    ]);
  });
});
