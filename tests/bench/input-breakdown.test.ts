import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inputBreakdown, inputStages, type PressStamps } from '../../bench/parts/input-breakdown.ts';
import type { PictureTimings } from '../../console/app/media/video-timings.ts';

/** A picture the agent sent at `sent`, each later stage 1 ms after the one before. */
function picture(sequence: number, sent: number): PictureTimings {
  return {
    sequence,
    keyframe: false,
    sent,
    received: sent + 1,
    decodeCalled: sent + 2,
    output: sent + 3,
    converted: sent + 4,
    drawn: sent + 5,
  };
}

describe('the input → display breakdown', () => {
  it("splits a press at the test client's arrival and the stamps of the picture that showed it", () => {
    const presses: PressStamps[] = [{ value: 7, keyAt: 1000, seenAt: 1025 }];
    const arrivals = [
      { value: 6, at: 900 },
      { value: 7, at: 1003 },
    ];
    const pictures = [picture(1, 950), picture(2, 1010), picture(3, 1020)];
    const [stages] = inputStages(presses, arrivals, pictures);
    assert.deepEqual(stages, {
      total: 25,
      input: 3,
      desktop: 17,
      toConsole: 1,
      toDecoder: 1,
      decoding: 1,
      converting: 1,
      drawing: 1,
      sincePrevious: 10,
      // The picture sent at 1010, after the press arrived, did not show it: a half-drawn change.
      earlier: 1,
    });
  });

  it('leaves out a press the test client never reported, and one no picture showed', () => {
    const pictures = [picture(1, 1010)];
    const stages = inputStages(
      [
        { value: 1, keyAt: 1000, seenAt: 1015 },
        { value: 2, keyAt: 2000, seenAt: 2015 },
      ],
      [{ value: 2, at: 2002 }],
      pictures,
    );
    assert.deepEqual(stages, []);
  });

  it("sets the median's stages beside the mean of the slowest 5 %", () => {
    const samples = Array.from({ length: 40 }, (_, i) => {
      const slow = i >= 38;
      return {
        total: slow ? 60 : 20,
        input: 3,
        desktop: slow ? 40 : 6,
        toConsole: 2,
        toDecoder: 0,
        decoding: 2,
        converting: 3,
        drawing: slow ? 10 : 4,
        sincePrevious: i === 0 ? Number.NaN : 100,
        earlier: slow ? 1 : 0,
      };
    });
    const breakdown = inputBreakdown(samples);
    assert.ok(breakdown);
    assert.equal(breakdown.slowestCount, 2);
    assert.equal(breakdown.median.desktop, 6);
    assert.equal(breakdown.slowest.desktop, 40);
    assert.equal(breakdown.slowest.earlier, 1);
    assert.equal(breakdown.median.sincePrevious, 100, 'a sample without a picture before it is left out');
    assert.equal(inputBreakdown([]), undefined);
  });
});
