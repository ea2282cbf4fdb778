import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ENTER_AFTER_MS,
  LEAVE_AFTER_MS,
  MOTION_GAP_MS,
  VideoModePolicy,
} from '../../agent/media/video-mode.ts';

const FULL_HD = { width: 1920, height: 1080 };
/** A picture every 40 ms (25 a second), ms. */
const PICTURE_MS = 40;

/** Pictures of `rows` changed rows every PICTURE_MS from `from` for `forMs`; the verdict of the last. */
function pictures(mode: VideoModePolicy, rows: number, from: number, forMs: number): boolean {
  let reduced = false;
  for (let t = from; t < from + forMs; t += PICTURE_MS) reduced = mode.picture(rows, t);
  return reduced;
}

describe('video mode', () => {
  it('a 1080p screen in full motion for a second is encoded at reduced size', () => {
    const mode = new VideoModePolicy(FULL_HD);
    assert.equal(pictures(mode, 1080, 0, ENTER_AFTER_MS - PICTURE_MS), false, 'not before a second');
    assert.equal(mode.picture(1080, ENTER_AFTER_MS), true);
    assert.equal(mode.reduced, true);
  });

  it('typing, a small window or a cursor blink never enters it, however long', () => {
    const mode = new VideoModePolicy(FULL_HD);
    assert.equal(pictures(mode, 14, 0, 10_000), false);
    assert.equal(pictures(mode, 500, 10_000, 10_000), false, 'a window under half the height');
  });

  it('motion broken by pauses longer than the gap does not add up', () => {
    const mode = new VideoModePolicy(FULL_HD);
    let t = 0;
    for (let burst = 0; burst < 10; burst++) {
      assert.equal(pictures(mode, 1080, t, ENTER_AFTER_MS / 2), false);
      t += ENTER_AFTER_MS / 2 + MOTION_GAP_MS + 50;
    }
  });

  it("full motion at a thin link's lowest rate (3 pictures a second) enters it too", () => {
    const mode = new VideoModePolicy(FULL_HD);
    let reduced = false;
    for (let t = 0; t <= 2_000; t += 333) reduced = mode.picture(1080, t);
    assert.equal(reduced, true);
  });

  it('two whole-screen changes a second apart (a window switched, a page loaded) do not enter it', () => {
    const mode = new VideoModePolicy(FULL_HD);
    assert.equal(mode.picture(1080, 0), false);
    assert.equal(mode.picture(1080, ENTER_AFTER_MS), false);
    assert.equal(mode.picture(1080, 1.5 * ENTER_AFTER_MS), true, 'a third, and it is motion');
  });

  it('a screen at 1280x720 or less is always encoded whole', () => {
    const mode = new VideoModePolicy({ width: 1280, height: 720 });
    assert.equal(pictures(mode, 720, 0, 5_000), false);
  });

  it('small changes keep it while motion pauses less than a second, then it ends', () => {
    const mode = new VideoModePolicy(FULL_HD);
    pictures(mode, 1080, 0, 2_000);
    const last = 2_000 - PICTURE_MS;
    assert.equal(mode.leaveAt(), last + LEAVE_AFTER_MS);
    assert.equal(pictures(mode, 20, 2_000, LEAVE_AFTER_MS - 2 * PICTURE_MS), true, 'a pause under a second');
    assert.equal(mode.picture(20, last + LEAVE_AFTER_MS), false, 'a second after the last motion');
    assert.equal(mode.leaveAt(), undefined);
  });

  it('a still screen leaves it a second after the last moving picture (no picture needed to tell)', () => {
    const mode = new VideoModePolicy(FULL_HD);
    pictures(mode, 1080, 0, 2_000);
    const leaveAt = mode.leaveAt() ?? Number.NaN;
    assert.equal(mode.reducedAt(leaveAt - 1), true);
    assert.equal(mode.reducedAt(leaveAt), false);
    assert.equal(mode.reduced, false);
  });

  it('after leaving, entering again takes another second of motion', () => {
    const mode = new VideoModePolicy(FULL_HD);
    pictures(mode, 1080, 0, 2_000);
    assert.equal(mode.reducedAt(5_000), false);
    assert.equal(pictures(mode, 1080, 5_000, ENTER_AFTER_MS - PICTURE_MS), false);
    assert.equal(mode.picture(1080, 5_000 + ENTER_AFTER_MS), true);
  });
});
