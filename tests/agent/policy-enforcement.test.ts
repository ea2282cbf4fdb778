import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { AgentSession } from '../../agent/core/agent-session.ts';
import { verifyPolicyToken } from '../../agent/core/policy.ts';
import type { InputSink, ScreenSource, UserInterface } from '../../agent/core/ports.ts';
import { installWebSocket } from '../../agent/node/websocket.ts';
import { ALL_PERMISSIONS, DEFAULT_POLICY, type InputEvent, type Policy } from '../../protocol/index.ts';
import { useRelayPlane } from '../control-plane/relay-client.ts';
import { craftedRelay } from '../support/crafted-relay.ts';
import { signedPolicyFor } from '../support/policies.ts';
import { waitFor } from '../support/processes.ts';

/** The end user who says yes to everything the operator asks for. */
const yesUser: UserInterface = {
  showCode: () => {},
  askConsent: async (_operator, requested) => ({
    accepted: true,
    permissions: { ...requested, ...ALL_PERMISSIONS },
  }),
  status: () => {},
  permissionsChanged: () => {},
  ended: () => {},
};

const noScreen: ScreenSource = { start: async () => ({ stop: async () => {}, requestKeyframe: () => {} }) };

describe('the agent enforces the signed session policy', () => {
  const plane = useRelayPlane();
  before(() => installWebSocket());

  /** Sets the default group's policy, registers an agent, and verifies the policy it receives. */
  async function registeredWith(policy: Policy) {
    return signedPolicyFor(plane.cp, plane.cookie, policy);
  }

  async function runAgainstCraftedRelay(policy: Policy) {
    const applied: InputEvent[] = [];
    const input: InputSink = { apply: (event) => applied.push(event), releaseAll: () => {} };
    const events: InputEvent[] = [
      { kind: 'move', x: 0.9, y: 0.9 },
      { kind: 'key', code: 'KeyA', down: true },
      { kind: 'key', code: 'KeyA', down: false },
    ];
    const relay = await craftedRelay(events.map((event) => ({ type: 'input' as const, event })));
    const session = new AgentSession({
      relayUrl: relay.url,
      token: 't',
      client: { name: 'a', version: '0' },
      ui: yesUser,
      screen: noScreen,
      input,
      policy,
    });
    await session.connect();
    await waitFor('the input to arrive', () => applied.length + session.droppedInputEvents >= events.length);
    await session.end();
    await relay.close();
    return { applied, dropped: session.droppedInputEvents, consent: relay.consents[0] };
  }

  it('a policy that forbids control makes the agent drop crafted input, even after the user said yes', async () => {
    const policy = await registeredWith({
      ...DEFAULT_POLICY,
      modes: { ...DEFAULT_POLICY.modes, control: false },
    });
    assert.equal(policy.modes.control, false);
    const result = await runAgainstCraftedRelay(policy);
    assert.deepEqual(result.applied, []);
    assert.equal(result.dropped, 3);
    assert.equal(result.consent?.control, false, 'the consent the agent reports leaves control off');
  });

  it('with control allowed by the policy, the same input is applied (the check above can fail)', async () => {
    const policy = await registeredWith({ ...DEFAULT_POLICY });
    const result = await runAgainstCraftedRelay(policy);
    assert.equal(result.applied.length, 3);
    assert.equal(result.consent?.control, true);
  });

  it('a policy token that was tampered with is refused', async () => {
    const response = await fetch(`${plane.cp.url}/api/agent/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'test-agent', version: '0.0.0' }),
    });
    const registration = await response.json();
    const [header, payload, signature] = registration.policyToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.pol.modes.shell = true;
    claims.pol.consentRequired = false;
    const forged = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
    await assert.rejects(
      verifyPolicyToken(plane.cp.url, registration.sessionId, forged),
      /not validly signed/,
    );
    await assert.rejects(
      verifyPolicyToken(plane.cp.url, 'another-session', registration.policyToken),
      /not validly signed/,
    );
  });
});
