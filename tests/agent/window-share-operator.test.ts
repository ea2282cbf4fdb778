import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { AgentSession } from '../../agent/core/agent-session.ts';
import type { MonitorLayout, ScreenSource, UserInterface } from '../../agent/core/ports.ts';
import { installWebSocket } from '../../agent/node/websocket.ts';
import {
  ALL_PERMISSIONS,
  type ControlMessage,
  decodeFrame,
  encodeControl,
  type MessageOf,
  PROTOCOL_VERSION,
} from '../../protocol/index.ts';
import { waitFor } from '../support/processes.ts';

const yesUser: UserInterface = {
  showCode: () => {},
  askConsent: async (_operator, requested) => ({ accepted: true, permissions: requested }),
  status: () => {},
  permissionsChanged: () => {},
  ended: () => {},
};

/** Two monitors, and the one window the end user shares. */
class SharedWindowLayout implements MonitorLayout {
  selected: number | null = null;
  selections: Array<number | null> = [];
  window = { title: 'Invoice.ods - LibreOffice Calc', hidden: false };
  list() {
    return [
      { name: 'A', x: 0, y: 0, width: 640, height: 480, primary: true },
      { name: 'B', x: 640, y: 0, width: 640, height: 480, primary: false },
    ];
  }
  select(index: number | null): boolean {
    this.selections.push(index);
    this.selected = index;
    return true;
  }
}

/**
 * A crafted relay that lets an operator in at once and then asks for the whole desktop and a monitor,
 * as a modified console could: the agent alone decides what is shared.
 */
async function craftedRelay() {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const received: ControlMessage[] = [];
  server.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => {
      const decoded = decodeFrame(new Uint8Array(data));
      if (!decoded.ok || decoded.frame.kind !== 'control') return;
      const message = decoded.frame.message;
      received.push(message);
      if (message.type === 'hello') {
        socket.send(encodeControl({ type: 'welcome', protocol: PROTOCOL_VERSION, sessionId: 'crafted' }));
        socket.send(
          encodeControl({
            type: 'operator-joined',
            operator: { id: 'mallory', name: 'Mallory' },
            requested: ALL_PERMISSIONS,
          }),
        );
      }
      if (message.type === 'consent') {
        socket.send(encodeControl({ type: 'select-monitor', monitor: null }));
        socket.send(encodeControl({ type: 'select-monitor', monitor: 1 }));
      }
    });
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    monitors: () => received.filter((m): m is MessageOf<'monitors'> => m.type === 'monitors'),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('while the end user shares one window, operators cannot widen what they see', () => {
  before(() => installWebSocket());
  let relay: Awaited<ReturnType<typeof craftedRelay>>;
  after(() => relay?.close());

  it('an operator’s monitor choice is refused and answered with the shared window, and the capture is not restarted', async () => {
    relay = await craftedRelay();
    const layout = new SharedWindowLayout();
    let starts = 0;
    const screen: ScreenSource = {
      start: async () => {
        starts++;
        return { stop: async () => {}, requestKeyframe: () => {} };
      },
    };
    const session = new AgentSession({
      relayUrl: relay.url,
      token: 't',
      client: { name: 'a', version: '0' },
      ui: yesUser,
      screen,
      input: { apply: () => {}, releaseAll: () => {} },
      monitors: layout,
    });
    await session.connect();
    // The first `monitors` comes with the screen; one answer follows each of the two choices.
    const sent = await waitFor('the agent to answer both choices', () =>
      relay.monitors().length >= 3 ? relay.monitors() : undefined,
    );
    assert.deepEqual(layout.selections, [], 'the layout was never asked to show anything else');
    assert.equal(starts, 1);
    for (const message of sent) {
      assert.deepEqual(message.window, layout.window);
      assert.equal(message.selected, null);
    }
    await session.end();
  });
});
