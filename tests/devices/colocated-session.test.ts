import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, describe, it, mock } from 'node:test';
import type { Page } from 'playwright-core';
import { presencePath } from '../../agent/device/presence.ts';
import { DEFAULT_POLICY, PRESENCE_LIFETIME_SECONDS } from '../../protocol/index.ts';
import { enterCode, signIn } from '../console/real-console.ts';
import { shownCode, spawnAgent } from '../support/agent-process.ts';
import {
  createOperator,
  expectJson,
  freshAddress,
  OPERATOR_PASSWORD,
  type SessionView,
} from '../support/api.ts';
import type { TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, spawnCollecting, waitFor } from '../support/processes.ts';
import {
  type DeviceFixture,
  devicesApi,
  ELEVATED_POLICY,
  endSleepInConsole,
  useRunningDeviceConsole,
} from './device-support.ts';

/** The resident agent's current presence proof, read from its file as a one-shot agent does. */
function currentProof(at: DeviceFixture): string {
  return readFileSync(presencePath(at.device.layout.root), 'utf8').trim();
}

/** Registers as a one-shot agent would (user-first), with `presence`; the session as the API shows it. */
async function registerWith(at: DeviceFixture, presence: string, registrationKey?: string) {
  const { sessionId } = await expectJson<{ sessionId: string }>(
    await at.api.post(
      '/api/agent/register',
      undefined,
      {
        name: 'lifeline-agent',
        version: '0.1.0',
        hostname: 'desk',
        presence,
        ...(registrationKey ? { registrationKey } : {}),
      },
      { address: freshAddress() },
    ),
    201,
  );
  return expectJson<SessionView>(await at.api.get(`/api/sessions/${sessionId}`, at.admin), 200);
}

/**
 * Registers with the device's presence proof until the session is linked (the file is written a
 * moment before the hub hears of the proof); the proof that linked it.
 */
async function linkedRegistration(at: DeviceFixture): Promise<string> {
  return waitFor('a session linked by the presence proof', async () => {
    const proof = currentProof(at);
    const session = await registerWith(at, proof);
    return session.deviceId === at.device.deviceId ? proof : undefined;
  });
}

/** Starts the real one-shot agent as a user of the device's machine would; its connection code. */
function startOneShot(at: DeviceFixture & { cp: TestControlPlane }, agents: Spawned[]) {
  const agent = spawnAgent({
    server: at.cp.url,
    display: at.xvfb.display,
    // The resident agent's files live under its test root: the one-shot agent looks there.
    env: { LIFELINE_AGENT_ROOT: at.device.layout.root },
  });
  agents.push(agent);
  return shownCode(agent, 30_000);
}

/**
 * Connects to the one-shot agent's session in the console and waits until the session view has
 * fetched what decides the Elevated tools menu (the device and its group).
 */
async function connectAndSettle(page: Page, code: string): Promise<void> {
  const groupsFetched = page.waitForResponse((r) => r.url().includes('/api/groups'), { timeout: 30_000 });
  await enterCode(page, code);
  await groupsFetched;
  // The answer is rendered on the next frames at the latest.
  for (let frame = 0; frame < 2; frame++)
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
}

// A real resident agent and a real one-shot agent from source on the same machine, the console in
// real headless Chromium.
describe('an attended session on a resident device whose policy enables elevated tools', {
  timeout: 300_000,
}, () => {
  const ui = useRunningDeviceConsole({ group: 'Colocated', policy: ELEVATED_POLICY, display: true });
  const agents: Spawned[] = [];
  let sleeper: Spawned | undefined;

  after(async () => {
    for (const agent of agents) await agent.kill();
    await sleeper?.kill();
  });

  it("the one-shot agent's session is linked to the device, its Elevated tools menu names it, and End task kills a real process", async () => {
    sleeper = spawnCollecting('sleep', ['1000'], { PATH: process.env['PATH'] });
    const pid = sleeper.child.pid!;
    const code = await startOneShot(ui, agents);
    const { page } = await ui.open();
    await signIn(page, ui.cp);
    await connectAndSettle(page, code.replaceAll(' ', ''));
    const device = await devicesApi(ui.cp, ui.admin).get(ui.device.deviceId);
    const menu = page.locator('[data-testid=session-elevated-menu]');
    assert.match(
      (await menu.textContent()) ?? '',
      new RegExp(`Elevated tools on ${device.reported.hostname}`),
    );
    await menu.click();
    await endSleepInConsole(page, pid);

    const linked = await devicesApi(ui.cp, ui.admin).audit('session.device-linked');
    assert.ok(
      linked.some((event) => event.details?.['deviceId'] === ui.device.deviceId),
      'the link is audited with the device',
    );
    const used = await devicesApi(ui.cp, ui.admin).audit('device.elevated-tool');
    assert.ok(
      used.some((event) => event.details?.['tool'] === 'end-process' && event.details['pid'] === pid),
    );
  });

  it('a technician in the same linked session gets no Elevated tools menu (the role may not)', async () => {
    const organisationId = (await devicesApi(ui.cp, ui.admin).get(ui.device.deviceId)).organisationId;
    await createOperator(ui.api, ui.admin, {
      username: 'tech-colocated',
      role: 'technician',
      organisationId,
    });
    const linkedBefore = (await devicesApi(ui.cp, ui.admin).audit('session.device-linked')).length;
    const code = await startOneShot(ui, agents);
    const { page } = await ui.open();
    await signIn(page, ui.cp, 'tech-colocated', OPERATOR_PASSWORD);
    await connectAndSettle(page, code.replaceAll(' ', ''));
    assert.equal(await page.locator('[data-testid=session-elevated-tools]').count(), 0);
    const linked = await devicesApi(ui.cp, ui.admin).audit('session.device-linked');
    assert.equal(linked.length, linkedBefore + 1, 'the session is linked: only the role keeps the menu away');
  });

  it("an agent that joins an operator's session with its code and the live proof is linked too", async () => {
    const linked = await waitFor('a joined session linked by the presence proof', async () => {
      const { session, code } = await expectJson<{ session: SessionView; code: string }>(
        await ui.api.post('/api/sessions', ui.admin, {}),
        201,
      );
      await expectJson(
        await ui.api.post(
          '/api/agent/join',
          undefined,
          { code, name: 'lifeline-agent', version: '0.1.0', hostname: 'desk', presence: currentProof(ui) },
          { address: freshAddress() },
        ),
        200,
      );
      const view = await expectJson<SessionView>(
        await ui.api.get(`/api/sessions/${session.id}`, ui.admin),
        200,
      );
      return view.deviceId === ui.device.deviceId ? view : undefined;
    });
    assert.equal(linked.access, null, 'an attended session, not one the device was ordered to open');
  });

  it('a forged proof, a replayed one, an expired one and one sent for another organisation link nothing and refuse nothing', async () => {
    const forged = await registerWith(ui, randomBytes(32).toString('base64url'));
    assert.equal(forged.deviceId, null);
    const malformed = await registerWith(ui, 'not a proof');
    assert.equal(malformed.deviceId, null);

    const spent = await linkedRegistration(ui);
    const replayed = await registerWith(ui, spent);
    assert.equal(replayed.deviceId, null, 'a proof links one session only');

    // Another organisation's group, its agent sending this device's live proof.
    const { id: elsewhere } = await expectJson<{ id: string }>(
      await ui.api.post('/api/organisations', ui.admin, { name: 'Elsewhere' }),
      201,
    );
    const group = await expectJson<{ id: string }>(
      await ui.api.post('/api/groups', ui.admin, { name: 'Elsewhere desks', organisationId: elsewhere }),
      201,
    );
    const key = await devicesApi(ui.cp, ui.admin).issueKey(group.id);
    const proof = await waitFor('a new proof after the spent one', () => {
      const current = currentProof(ui);
      return current !== spent ? current : undefined;
    });
    const foreign = await registerWith(ui, proof, key);
    assert.equal(foreign.organisationId, elsewhere);
    assert.equal(foreign.deviceId, null, "another organisation's session is not linked");

    // A live proof past its lifetime (the clock moved on, nothing else did).
    const aged = await waitFor('a new proof after the foreign attempt', () => {
      const current = currentProof(ui);
      return current !== proof ? current : undefined;
    });
    mock.timers.enable({ apis: ['Date'], now: Date.now() + (PRESENCE_LIFETIME_SECONDS + 1) * 1000 });
    try {
      const expired = await registerWith(ui, aged);
      assert.equal(expired.deviceId, null, 'an expired proof links nothing');
    } finally {
      mock.timers.reset();
    }
    // The device still links a session with its newest proof: the refusals above harmed nothing.
    await linkedRegistration(ui);
  });
});

describe('an attended session on a resident device whose policy does not enable elevated tools', {
  timeout: 300_000,
}, () => {
  const ui = useRunningDeviceConsole({ group: 'Colocated plain', policy: DEFAULT_POLICY, display: true });
  const agents: Spawned[] = [];

  after(async () => {
    for (const agent of agents) await agent.kill();
  });

  it('is linked to the device but shows no Elevated tools menu', async () => {
    const code = await startOneShot(ui, agents);
    const { page } = await ui.open();
    await signIn(page, ui.cp);
    await connectAndSettle(page, code.replaceAll(' ', ''));
    assert.equal(await page.locator('[data-testid=session-elevated-tools]').count(), 0);
    const linked = await devicesApi(ui.cp, ui.admin).audit('session.device-linked');
    assert.ok(linked.some((event) => event.details?.['deviceId'] === ui.device.deviceId));
  });
});
