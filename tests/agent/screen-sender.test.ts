import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import type { AccessUnit, VideoConfig } from '../../agent/core/ports.ts';
import { ScreenSender } from '../../agent/core/screen-sender.ts';
import { MAX_AGENT_BUFFERED_BYTES } from '../../agent/core/uplink.ts';
import { NalType, nalUnits } from '../../agent/media/annexb.ts';
import { resolveFfmpeg } from '../../agent/media/ffmpeg-path.ts';
import { encodedScreenSource } from '../../agent/node/screen-source.ts';
import { installWebSocket } from '../../agent/node/websocket.ts';
import { decodeFrame, type VideoFrame } from '../../protocol/index.ts';
import { waitFor } from '../support/processes.ts';
import { cornerColour, decodeThumbnails, platformFor } from '../support/screen-capture.ts';
import { runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

/** The relay's side of the agent's socket: every video frame the sender put on the wire, in order. */
interface Wire {
  frames: VideoFrame[];
  /** The agent's end, as the sender sees it. */
  socket: WebSocket;
}

/** A WebSocket server on loopback standing in for the relay, and sockets to it from this process. */
async function wireServer() {
  await installWebSocket();
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  assert.ok(typeof address === 'object' && address);
  const url = `ws://127.0.0.1:${address.port}`;
  const sockets: WebSocket[] = [];
  return {
    async connect(): Promise<Wire> {
      const frames: VideoFrame[] = [];
      const accepted = new Promise<void>((resolve) =>
        server.once('connection', (peer) => {
          peer.on('message', (data: Buffer) => {
            const decoded = decodeFrame(data);
            if (decoded.ok && decoded.frame.kind === 'video') frames.push(decoded.frame);
          });
          resolve();
        }),
      );
      const socket = new WebSocket(url);
      socket.binaryType = 'arraybuffer';
      sockets.push(socket);
      await new Promise((resolve, reject) => {
        socket.addEventListener('open', resolve, { once: true });
        socket.addEventListener('error', reject, { once: true });
      });
      await accepted;
      return { frames, socket };
    },
    async close(): Promise<void> {
      for (const socket of sockets) socket.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The real ScreenSender streaming a real Xvfb display through real ffmpeg over a real WebSocket. The
 * link lets a test take the socket away or report it full, which the sender cannot tell from a
 * real relay that is gone or slow.
 */
describe('ScreenSender on a real display', () => {
  let xvfb: Xvfb;
  let wires: Awaited<ReturnType<typeof wireServer>>;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    xvfb = await startXvfb({ width: 640, height: 360 });
    wires = await wireServer();
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await wires.close();
    await xvfb.stop();
  });

  const connect = () => wires.connect();

  /** A sender on this display whose socket the test controls. */
  async function sender(link: { socket(): WebSocket | undefined }) {
    const configs: VideoConfig[] = [];
    const screen = new ScreenSender(
      encodedScreenSource({
        ffmpegPath: resolveFfmpeg().path,
        platform: await platformFor(xvfb),
        framerate: 30,
      }),
      {
        socket: () => link.socket(),
        viewing: () => true,
        send: (message) => {
          if (message.type === 'video-config') configs.push(message);
          return true;
        },
        status: (text) => assert.fail(`unexpected status: ${text}`),
      },
    );
    cleanups.push(() => screen.stop());
    await screen.start();
    return screen;
  }

  /** Waits until no frame has come for a while: the screen is still and nothing is on its way. */
  async function settle(wire: Wire): Promise<number> {
    return waitFor(
      'the stream to fall silent on a still screen',
      async () => {
        const before = wire.frames.length;
        await sleep(700);
        return wire.frames.length === before ? before : undefined;
      },
      10_000,
    );
  }

  function colourOf(frames: readonly VideoFrame[]): [number, number, number] {
    return cornerColour(decodeThumbnails(frames.map((frame) => frame.data)).at(-1));
  }

  it('a keyframe request on a still screen is answered at once by one new keyframe of the current picture', async () => {
    await runX('xsetroot', ['-solid', '#ff0000'], xvfb.display);
    const wire = await connect();
    const screen = await sender({ socket: () => wire.socket });
    await waitFor('the first keyframe', () => wire.frames[0]);
    await runX('xsetroot', ['-solid', '#0000ff'], xvfb.display);
    await waitFor('frames after the colour change', () => wire.frames.length > 1);
    const sent = await settle(wire);

    // The screen stays still: the encoder makes the keyframe from the last picture, unasked for a change.
    screen.requestKeyframe();
    const answer = await waitFor('the answer to the request', () => wire.frames[sent]);
    assert.equal(answer.keyframe, true, 'the answer is a keyframe');
    assert.ok(
      nalUnits(answer.data).some((nal) => nal.type === NalType.idr),
      'the keyframe is an IDR picture',
    );
    assert.equal(
      await settle(wire),
      sent + 1,
      'one keyframe answers the request, not the frames since the last one',
    );
    const sequences = wire.frames.map((frame) => frame.sequence);
    assert.deepEqual(
      sequences,
      sequences.map((_, index) => index),
      'sequence numbers keep counting up',
    );
    const [r, g, b] = colourOf([answer]);
    assert.ok(
      b > 200 && r < 60 && g < 60,
      `the keyframe alone decodes to the blue screen, got rgb(${r}, ${g}, ${b})`,
    );
    await screen.stop();
  });

  it('after the socket was away, a new connection starts from the keyframe and shows the current screen', async () => {
    await runX('xsetroot', ['-solid', '#ff0000'], xvfb.display);
    const first = await connect();
    let current: WebSocket | undefined = first.socket;
    const screen = await sender({ socket: () => current });
    await waitFor('the first keyframe', () => first.frames[0]);
    await settle(first);

    current = undefined;
    await runX('xsetroot', ['-solid', '#00c000'], xvfb.display);
    await sleep(1000);
    const second = await connect();
    current = second.socket;
    screen.resume();
    await waitFor('frames on the new connection', () => second.frames[0]);
    await settle(second);
    assert.equal(second.frames[0]?.keyframe, true, 'the new connection starts with a keyframe');
    const [r, g, b] = colourOf(second.frames);
    assert.ok(
      g > 150 && r < 60 && b < 60,
      `the new connection shows the green screen, got rgb(${r}, ${g}, ${b})`,
    );
    await screen.stop();
  });

  it('frames dropped while the socket was full are made up from the keyframe once it drains, on a still screen too', async () => {
    await runX('xsetroot', ['-solid', '#ff0000'], xvfb.display);
    const wire = await connect();
    let full = false;
    // The real socket, except that it can claim to hold more than the sender's limit.
    const socket = new Proxy(wire.socket, {
      get: (target, key) => {
        if (key === 'bufferedAmount') return full ? MAX_AGENT_BUFFERED_BYTES + 1 : target.bufferedAmount;
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const screen = await sender({ socket: () => socket });
    await waitFor('the first keyframe', () => wire.frames[0]);
    const sent = await settle(wire);

    full = true;
    await runX('xsetroot', ['-solid', '#ffff00'], xvfb.display);
    await waitFor('a frame dropped', () => screen.dropped > 0);
    await sleep(1000);
    assert.equal(wire.frames.length, sent, 'nothing is queued on a full socket');

    full = false;
    await waitFor('frames once the socket drained', () => wire.frames.length > sent);
    await settle(wire);
    assert.equal(wire.frames[sent]?.keyframe, true, 'the stream starts over with a keyframe');
    const [r, g, b] = colourOf(wire.frames.slice(sent));
    assert.ok(r > 200 && g > 200 && b < 60, `the viewer gets the yellow screen, got rgb(${r}, ${g}, ${b})`);
    await screen.stop();
  });
});

/**
 * The sender's choice between replaying and waiting, with units of known sizes: which units a real
 * encoder makes, and when, cannot be arranged. The socket is the agent's end of a real WebSocket.
 */
describe('ScreenSender replays a group only while it is cheap', () => {
  let wires: Awaited<ReturnType<typeof wireServer>>;

  before(async () => {
    wires = await wireServer();
  });

  after(async () => {
    await wires.close();
  });

  /** A sender fed by hand, and what reached the other end of its socket. */
  async function handFed(options: { keyframesOnRequest?: boolean } = {}) {
    const { frames, socket } = await wires.connect();
    let feed: ((unit: AccessUnit) => void) | undefined;
    const asked = { keyframes: 0 };
    const screen = new ScreenSender(
      {
        start: async (sink) => {
          feed = (unit) => sink.onAccessUnit(unit);
          return {
            stop: async () => {},
            requestKeyframe: () => {
              asked.keyframes++;
            },
            keyframesOnRequest: options.keyframesOnRequest ?? false,
          };
        },
      },
      { socket: () => socket, viewing: () => true, send: () => true, status: () => {} },
    );
    await screen.start();
    let marker = 0;
    const unit = (keyframe: boolean) => {
      const data = new Uint8Array(1000).fill(++marker);
      feed?.({ keyframe, data, captureTime: Date.now() });
    };
    return { screen, frames, unit, asked };
  }

  it('while the screen moves, a request for a group larger than two keyframes is answered by the next keyframe', async () => {
    const { screen, frames, unit } = await handFed();
    unit(true);
    for (let i = 0; i < 5; i++) unit(false);
    await waitFor('the live units', () => frames.length === 6);
    // One call after another: the request comes while the screen is moving.
    unit(false);
    screen.requestKeyframe();
    unit(false);
    unit(true);
    await waitFor('the next keyframe', () => frames.length > 7);
    await sleep(500);
    assert.deepEqual(
      frames.slice(7).map((frame) => [frame.keyframe, frame.data[0]]),
      [[true, 9]],
      'only the new keyframe follows the request; the delta before it is not sent',
    );
  });

  it('once the screen is still, the group is replayed whatever its size', async () => {
    const { screen, frames, unit } = await handFed();
    unit(true);
    for (let i = 0; i < 5; i++) unit(false);
    await waitFor('the live units', () => frames.length === 6);
    screen.requestKeyframe();
    await waitFor('the replay', () => frames.length === 12);
    assert.deepEqual(
      frames.slice(6).map((frame) => [frame.keyframe, frame.data[0]]),
      frames.slice(0, 6).map((frame) => [frame.keyframe, frame.data[0]]),
    );
  });

  it('from a source that makes keyframes on request, a new connection with a large group asks for one keyframe instead of replaying', async () => {
    const { screen, frames, unit, asked } = await handFed({ keyframesOnRequest: true });
    unit(true);
    for (let i = 0; i < 5; i++) unit(false);
    await waitFor('the live units', () => frames.length === 6);
    screen.resume();
    screen.resume();
    assert.equal(asked.keyframes, 1, 'one keyframe is asked for, however often the group is wanted');
    unit(true);
    await waitFor('the new keyframe', () => frames.length > 6);
    await sleep(500);
    assert.deepEqual(
      frames.slice(6).map((frame) => [frame.keyframe, frame.data[0]]),
      [[true, 7]],
      'the new keyframe alone follows, not the frames since the old one',
    );
  });

  it('from a source that makes keyframes on request, a viewer asking for a picture gets a new keyframe, not a replay', async () => {
    const { screen, frames, unit, asked } = await handFed({ keyframesOnRequest: true });
    unit(true);
    unit(false);
    await waitFor('the live units', () => frames.length === 2);
    screen.requestKeyframe();
    assert.equal(asked.keyframes, 1);
    await sleep(500);
    assert.equal(frames.length, 2, 'nothing is replayed');
  });
});
