import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALL_PERMISSIONS,
  DEFAULT_OFFER,
  decodeFrame,
  encodeControl,
  NO_PERMISSIONS,
  offerModes,
} from '../../protocol/index.ts';

const ASKS_CONTROL = { ...DEFAULT_OFFER, control: true };

describe('the order of session modes', () => {
  it('a session asking for control starts in control when the policy allows it', () => {
    const modes = offerModes(ASKS_CONTROL, ALL_PERMISSIONS);
    assert.equal(modes.asked, 'control');
    assert.equal(modes.starts, 'control');
    assert.equal(modes.offer.control, true);
  });

  it('a policy forbidding control starts the session in guidance, then view, chat and file transfer', () => {
    const noControl = { ...ALL_PERMISSIONS, control: false };
    assert.equal(offerModes(ASKS_CONTROL, noControl).starts, 'guidance');
    assert.equal(offerModes(ASKS_CONTROL, noControl).offer.control, false);
    assert.equal(offerModes(ASKS_CONTROL, { ...noControl, guidance: false }).starts, 'view');
    const onlyFiles = { ...NO_PERMISSIONS, files: true };
    const files = offerModes(ASKS_CONTROL, onlyFiles);
    assert.equal(files.starts, 'files');
    // The next allowed mode is offered even though the operator did not name it.
    assert.deepEqual(files.offer, onlyFiles);
    assert.deepEqual(files.allowed, ['files']);
  });

  it('nothing allowed starts no mode and offers nothing', () => {
    const modes = offerModes(ASKS_CONTROL, NO_PERMISSIONS);
    assert.equal(modes.starts, undefined);
    assert.deepEqual(modes.offer, NO_PERMISSIONS);
  });

  it('a guidance mark round-trips and an out-of-screen point is refused', () => {
    const mark = { kind: 'arrow', from: { x: 0.1, y: 0.2 }, to: { x: 0.5, y: 0.5 } } as const;
    const decoded = decodeFrame(encodeControl({ type: 'guidance', mark }));
    assert.ok(decoded.ok && decoded.frame.kind === 'control');
    assert.deepEqual(decoded.frame.message, { type: 'guidance', mark });
    const offScreen = { type: 'guidance', mark: { kind: 'pointer', at: { x: 2, y: 0 } } } as const;
    assert.equal(decodeFrame(encodeControl(offScreen)).ok, false);
  });
});
