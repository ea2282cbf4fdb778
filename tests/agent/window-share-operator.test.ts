import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentSession } from '../../agent/core/agent-session.ts';
import type { MonitorLayout, ScreenSource, UserInterface } from '../../agent/core/ports.ts';
import { installWebSocket } from '../../agent/node/websocket.ts';
import type { MessageOf } from '../../protocol/index.ts';
import { craftedRelay } from '../support/crafted-relay.ts';
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

describe('while the end user shares one window, operators cannot widen what they see', () => {
  before(() => installWebSocket());
  let relay: Awaited<ReturnType<typeof craftedRelay>>;
  after(() => relay?.close());

  it('an operator’s monitor choice is refused and answered with the shared window, and the capture is not restarted', async () => {
    // A modified console asks for the whole desktop, then for a monitor.
    relay = await craftedRelay([
      { type: 'select-monitor', monitor: null },
      { type: 'select-monitor', monitor: 1 },
    ]);
    const monitorsSent = () =>
      relay.received.filter((m): m is MessageOf<'monitors'> => m.type === 'monitors');
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
      monitorsSent().length >= 3 ? monitorsSent() : undefined,
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
