import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VideoReceipts } from '../../console/app/media/video-receipts.ts';
import { type MessageOf, VIDEO_HEADER_BYTES } from '../../protocol/index.ts';

/** A video frame of `bytes` bytes of access unit, as the console gets it from the relay. */
function frame(bytes: number) {
  return {
    kind: 'video',
    keyframe: false,
    sequence: 0,
    captureTime: 0,
    data: new Uint8Array(bytes),
  } as const;
}

describe("the console's video receipts", () => {
  it("carry the console's own word on keeping up with each receipt, and nothing where it has none", () => {
    const sent: Array<MessageOf<'video-received'>> = [];
    let behind: boolean | undefined = true;
    const receipts = new VideoReceipts(
      (message) => sent.push(message),
      () => behind,
    );
    receipts.add(frame(1_000));
    assert.deepEqual(sent, [{ type: 'video-received', bytes: VIDEO_HEADER_BYTES + 1_000, behind: true }]);
    // A new connection sends its first receipt at once.
    receipts.reset();
    behind = undefined;
    receipts.add(frame(500));
    assert.deepEqual(sent.at(-1), { type: 'video-received', bytes: VIDEO_HEADER_BYTES + 500 });
    assert.equal('behind' in (sent.at(-1) ?? {}), false);
    receipts.reset();
  });
});
