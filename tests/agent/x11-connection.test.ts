import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { openX11 } from '../../agent/platform/x11-connection.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

describe('one X connection for capture, window list and guidance (real Xvfb)', () => {
  let xvfb: Xvfb | undefined;
  after(async () => {
    await xvfb?.stop();
  });

  it('a display nobody serves is refused with a message that names it', async () => {
    const display = ':250';
    assert.equal(existsSync('/tmp/.X11-unix/X250'), false, 'the display must not exist for this test');
    await assert.rejects(openX11(display), (error: Error) => {
      assert.match(error.message, /^cannot open the X display :250: /);
      assert.ok(error.cause instanceof Error, 'the socket error is kept as the cause');
      return true;
    });
  });

  it('opens the first screen and loads each extension once, on demand', async () => {
    xvfb = await startXvfb({ width: 320, height: 200 });
    const connection = await openX11(xvfb.display);
    try {
      assert.equal(connection.screen.pixel_width, 320);
      assert.equal(connection.screen.pixel_height, 200);
      assert.equal(connection.screen.root_depth, 24);
      const shape = await connection.extension('shape');
      assert.equal(typeof shape.Rectangles, 'function');
      assert.equal(await connection.extension('shape'), shape, 'the second ask gets the loaded extension');
      const damage = await connection.extension('damage');
      assert.equal(typeof damage.Create, 'function');
    } finally {
      connection.client.terminate();
    }
  });
});
