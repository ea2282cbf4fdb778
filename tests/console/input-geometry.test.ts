import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containedRect, normalizePoint, wheelPixels, wheelSteps } from '../../console/app/input/geometry.ts';
import { endReasonText, peerLabel } from '../../console/app/session/describe.ts';

describe('pointer geometry', () => {
  it('maps a point to fractions of the displayed picture', () => {
    assert.deepEqual(normalizePoint(150, 100, { left: 100, top: 50, width: 200, height: 100 }), {
      x: 0.25,
      y: 0.5,
    });
  });

  it('clamps points outside the picture to its edges', () => {
    const area = { left: 0, top: 0, width: 100, height: 100 };
    assert.deepEqual(normalizePoint(-20, 250, area), { x: 0, y: 1 });
  });

  it('leaves out the letterbox bars of a picture scaled to fit', () => {
    // A 16:9 picture in a square box: bars above and below.
    const shown = containedRect({ left: 0, top: 0, width: 160, height: 160 }, 1600, 900);
    assert.deepEqual(shown, { left: 0, top: 35, width: 160, height: 90 });
    assert.deepEqual(normalizePoint(80, 35, shown), { x: 0.5, y: 0 });
  });
});

describe('wheel steps', () => {
  it('turns one notch (100 px) into one step and keeps the sign', () => {
    assert.equal(wheelSteps(100), 1);
    assert.equal(wheelSteps(-240), -2);
  });

  it('scrolls at least one step for any movement and never more than 50', () => {
    assert.equal(wheelSteps(3), 1);
    assert.equal(wheelSteps(-100_000), -50);
    assert.equal(wheelSteps(0), 0);
  });

  it('converts line and page deltas to pixels first', () => {
    assert.equal(wheelSteps(wheelPixels(3, 1)), 1);
    assert.equal(wheelSteps(wheelPixels(1, 2)), 8);
  });
});

describe('session wording', () => {
  it('names the user as user@hostname when both are known', () => {
    assert.equal(
      peerLabel({ name: 'lifeline-agent', version: '1', user: 'bob', hostname: 'desk-42' }),
      'bob@desk-42',
    );
    assert.equal(peerLabel({ name: 'lifeline-agent', version: '1', hostname: 'desk-42' }), 'desk-42');
    assert.equal(peerLabel(null), 'the user');
  });

  it('explains every end reason in words and still reads well for an unknown one', () => {
    assert.equal(endReasonText('user-ended'), 'The user ended the session.');
    assert.equal(endReasonText('something-new'), 'The session ended.');
  });
});
