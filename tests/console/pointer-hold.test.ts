import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PointerHold } from '../../console/app/input/pointer-hold.ts';
import type { InputEvent } from '../../protocol/index.ts';

// What reaches the device while the operator switches monitors, on a scripted clock.

const move: InputEvent = { kind: 'move', x: 0.5, y: 0.5 };
const press: InputEvent = { kind: 'button', button: 'left', down: true, x: 0.5, y: 0.5 };
const release: InputEvent = { kind: 'button', button: 'left', down: false, x: 0.5, y: 0.5 };
const wheel: InputEvent = { kind: 'wheel', dx: 0, dy: 1 };
const key: InputEvent = { kind: 'key', code: 'KeyA', key: 'a', down: true };

describe('pointer hold during a monitor switch', () => {
  it('everything passes while no switch is under way', () => {
    const hold = new PointerHold();
    hold.pictureShown();
    for (const event of [move, press, release, wheel, key]) assert.equal(hold.passes(event, 0), true);
    assert.equal(hold.dropped, 0);
  });

  it('moves, presses, their releases and wheel turns wait for the first picture of the new stream; keys pass', () => {
    const hold = new PointerHold();
    hold.start(1000);
    assert.deepEqual(
      [move, press, release, wheel, key].map((event) => hold.passes(event, 1010)),
      [false, false, false, false, true],
    );
    // A picture of the old stream (still on its way) does not end the hold.
    hold.pictureShown();
    assert.equal(hold.passes(press, 1100), false);
    hold.streamStarted();
    assert.equal(hold.passes(press, 1200), false);
    hold.pictureShown();
    assert.equal(hold.passes(press, 1300), true);
    assert.equal(hold.dropped, 6);
  });

  it('a button pressed before the switch is released on the device during it', () => {
    const hold = new PointerHold();
    assert.equal(hold.passes(press, 0), true);
    hold.start(10);
    assert.equal(hold.passes(move, 20), false);
    assert.equal(hold.passes(release, 30), true);
    // Released once: a second release (its press never sent) waits.
    assert.equal(hold.passes(release, 40), false);
  });

  it('a stream that never comes gives the pointer back after 3 seconds', () => {
    const hold = new PointerHold();
    hold.start(0);
    assert.equal(hold.passes(move, 2900), false);
    assert.equal(hold.passes(move, 3100), true);
    assert.equal(hold.passes(press, 3200), true);
  });

  it('a new switch before the first picture holds again until its own stream', () => {
    const hold = new PointerHold();
    hold.start(0);
    hold.streamStarted();
    hold.start(50);
    hold.pictureShown();
    assert.equal(hold.passes(move, 60), false);
    hold.streamStarted();
    hold.pictureShown();
    assert.equal(hold.passes(move, 70), true);
  });
});
