import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type WebSocket, WebSocketServer } from 'ws';
import { AgentSession } from '../../agent/core/agent-session.ts';
import type { GuidanceOverlay, InputSink, ScreenSource, UserInterface } from '../../agent/core/ports.ts';
import { installWebSocket } from '../../agent/node/websocket.ts';
import { x11GuidanceOverlay } from '../../agent/platform/x11-overlay.ts';
import {
  type ControlMessage,
  DEFAULT_OFFER,
  DEFAULT_POLICY,
  decodeFrame,
  encodeControl,
  type GuidanceMark,
  type ModeOffer,
  type Permissions,
  type Policy,
  PROTOCOL_VERSION,
} from '../../protocol/index.ts';
import { useRelayPlane } from '../control-plane/relay-client.ts';
import { signedPolicyFor } from '../support/policies.ts';
import { waitFor } from '../support/processes.ts';
import { isMarkRed, screenPixel } from '../support/screen-capture.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

const noScreen: ScreenSource = { start: async () => ({ stop: async () => {}, requestKeyframe: () => {} }) };
const noInput: InputSink = { apply: () => {}, releaseAll: () => {} };
/** What the console's relay asks for on an operator's behalf (relay/admission.ts). */
const ASKS_CONTROL: Permissions = { ...DEFAULT_OFFER, control: true };

/**
 * A relay that plays one operator: it asks for `requested`, and once the agent answered it sends
 * whatever the test puts on `send`. It checks nothing, as a compromised relay would not.
 */
async function scriptedRelay(requested: Permissions) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const consents: Permissions[] = [];
  let agent: WebSocket | undefined;
  server.on('connection', (socket) => {
    agent = socket;
    socket.on('message', (data: Buffer) => {
      const decoded = decodeFrame(new Uint8Array(data));
      if (!decoded.ok || decoded.frame.kind !== 'control') return;
      const message = decoded.frame.message;
      if (message.type === 'hello') {
        socket.send(encodeControl({ type: 'welcome', protocol: PROTOCOL_VERSION, sessionId: 'scripted' }));
        socket.send(
          encodeControl({
            type: 'operator-joined',
            operator: { id: 'op', name: 'Olga' },
            requested,
            slot: 1,
          }),
        );
      }
      if (message.type === 'consent') consents.push(message.permissions);
    });
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    consents,
    send: (message: ControlMessage) => agent?.send(encodeControl(message)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An end user who accepts what they are offered, minus `untick`, and remembers what they were asked. */
function acceptingUser(untick: Partial<Permissions> = {}) {
  const asked: Array<{ requested: Permissions; modes: ModeOffer | undefined }> = [];
  const ui: UserInterface = {
    showCode: () => {},
    askConsent: async (_operator, requested, modes) => {
      asked.push({ requested, modes });
      return { accepted: true, permissions: { ...requested, ...untick } };
    },
    status: () => {},
    permissionsChanged: () => {},
    ended: () => {},
  };
  return { ui, asked };
}

describe('guidance marks on the user screen (Xvfb)', () => {
  let xvfb: Xvfb;

  before(async () => {
    await installWebSocket();
    xvfb = await startXvfb({ width: 400, height: 300 });
  });
  after(() => xvfb.stop());

  async function sessionWith(untick: Partial<Permissions>) {
    const relay = await scriptedRelay(ASKS_CONTROL);
    const overlay: GuidanceOverlay = x11GuidanceOverlay(xvfb.display);
    const session = new AgentSession({
      relayUrl: relay.url,
      token: 't',
      client: { name: 'a', version: '0' },
      ui: acceptingUser(untick).ui,
      screen: noScreen,
      input: noInput,
      guidance: { overlay, area: () => ({ x: 0, y: 0, width: xvfb.width, height: xvfb.height }) },
    });
    await session.connect();
    await waitFor('the consent', () => relay.consents.length > 0);
    return { relay, session };
  }

  // An arrow across the middle of the screen: its shaft passes (200, 150).
  const ARROW: GuidanceMark = { kind: 'arrow', from: { x: 0.25, y: 0.5 }, to: { x: 0.75, y: 0.5 } };

  it('an arrow the operator draws appears on the screen and disappears when they clear it', async () => {
    const { relay, session } = await sessionWith({});
    try {
      assert.equal(relay.consents[0]?.guidance, true);
      assert.equal(isMarkRed(screenPixel(xvfb.display, 200, 150)), false, 'the screen starts without marks');
      relay.send({ type: 'guidance', mark: ARROW, slot: 1 });
      await waitFor('the arrow on the screen', () => isMarkRed(screenPixel(xvfb.display, 200, 150)));
      // Only the marks are painted: the rest of the screen stays as it was.
      assert.equal(isMarkRed(screenPixel(xvfb.display, 200, 50)), false);
      relay.send({ type: 'guidance', mark: { kind: 'clear' }, slot: 1 });
      await waitFor('the arrow gone', () => !isMarkRed(screenPixel(xvfb.display, 200, 150)));
    } finally {
      await session.end();
      await relay.close();
    }
  });

  it('a mark from an operator the user did not allow guidance is not drawn', async () => {
    const { relay, session } = await sessionWith({ guidance: false });
    try {
      assert.equal(relay.consents[0]?.guidance, false);
      relay.send({ type: 'guidance', mark: ARROW, slot: 1 });
      await waitFor('the mark to be dropped', () => session.droppedGuidanceMarks === 1);
      assert.equal(isMarkRed(screenPixel(xvfb.display, 200, 150)), false);
    } finally {
      await session.end();
      await relay.close();
    }
  });
});

describe('the order of session modes on the device', () => {
  const plane = useRelayPlane();
  before(() => installWebSocket());

  /** What the user is asked when an operator asks for control under `modes`. */
  async function consentUnder(modes: Partial<Policy['modes']>) {
    const policy = await signedPolicyFor(plane.cp, plane.cookie, {
      ...DEFAULT_POLICY,
      modes: { ...DEFAULT_POLICY.modes, ...modes },
    });
    const relay = await scriptedRelay(ASKS_CONTROL);
    const user = acceptingUser();
    const session = new AgentSession({
      relayUrl: relay.url,
      token: 't',
      client: { name: 'a', version: '0' },
      ui: user.ui,
      screen: noScreen,
      input: noInput,
      policy,
      guidance: {
        overlay: { show: async () => {}, close: async () => {} },
        area: () => ({ x: 0, y: 0, width: 1, height: 1 }),
      },
    });
    await session.connect();
    await waitFor('the consent', () => relay.consents.length > 0);
    await session.end();
    await relay.close();
    const [asked] = user.asked;
    assert.ok(asked);
    return { ...asked, consent: relay.consents[0] };
  }

  it('a policy forbidding control starts the session in guidance, and the user is told what was asked', async () => {
    const { requested, modes, consent } = await consentUnder({ control: false });
    assert.equal(modes?.asked, 'control');
    assert.equal(modes?.starts, 'guidance');
    assert.deepEqual(modes?.allowed, ['guidance', 'view', 'chat', 'files']);
    assert.equal(requested.control, false);
    assert.equal(requested.guidance, true);
    assert.equal(consent?.control, false);
    assert.equal(consent?.guidance, true);
  });

  it('a policy forbidding control and guidance starts the session in view only', async () => {
    const { requested, modes } = await consentUnder({ control: false, guidance: false });
    assert.equal(modes?.starts, 'view');
    assert.equal(requested.view, true);
    assert.equal(requested.guidance, false);
  });

  it('a policy allowing only file transfer offers file transfer to an operator who asked for control', async () => {
    const { requested, modes } = await consentUnder({
      control: false,
      guidance: false,
      view: false,
      chat: false,
      shell: false,
      clipboard: false,
    });
    assert.equal(modes?.starts, 'files');
    assert.equal(requested.files, true, 'file transfer was not asked for but is the next allowed mode');
  });
});
