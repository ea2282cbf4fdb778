import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inertDeviceText } from '../../protocol/index.ts';
import { expectJson } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { HOSTILE_DEVICE } from '../support/hostile-device.ts';
import { auditOf, connectOperator, RelayClient, relayUrl } from './relay-client.ts';

/** C0 and C1 controls, DEL, bidi marks, embeddings, overrides and isolates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

function assertInert(info: Record<string, unknown> | null | undefined, where: string): void {
  assert.ok(info, `${where}: the device info is there`);
  const fields: Record<string, unknown> = info;
  for (const field of ['hostname', 'user', 'os'] as const) {
    const value = fields[field];
    assert.equal(typeof value, 'string', `${where}: ${field} is kept`);
    assert.doesNotMatch(value as string, UNSAFE, `${where}: ${field} carries no control or bidi character`);
    assert.ok(
      (value as string).includes('\ufffd'),
      `${where}: ${field} shows where a character was taken out`,
    );
  }
  assert.ok((fields['hostname'] as string).startsWith('desk-42'), `${where}: the readable part is kept`);
}

describe('what a device says about itself is made inert where it comes in', () => {
  let cp: TestControlPlane;
  let cookie: string;

  before(async () => {
    cp = await startControlPlane({ listen: true });
    cookie = await loginCookie(cp.app);
  });

  after(async () => {
    await cp?.stop();
  });

  it('inertDeviceText replaces controls, bidi characters and lone surrogates, and caps the length', () => {
    assert.equal(inertDeviceText('desk\u202Egnp.exe', 64), 'desk\ufffdgnp.exe');
    assert.equal(
      inertDeviceText('a\u0000b\u001bc\u007fd\u0085e\u2066f\u200Eg\ud800h', 64),
      'a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg\ufffdh',
    );
    assert.equal(inertDeviceText('Zoë 😀 desk', 64), 'Zoë 😀 desk', 'ordinary text, emoji included, is kept');
    assert.equal(inertDeviceText('x'.repeat(300), 100), `${'x'.repeat(99)}…`);
    assert.equal(inertDeviceText('😀'.repeat(5), 3), '😀😀…', 'the cap counts characters, not UTF-16 units');
  });

  it('registration and the relay hello store and pass on the names inert, and the API returns them so', async () => {
    const registered = await cp.app.request('/api/agent/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(HOSTILE_DEVICE),
    });
    const registration = await expectJson<{ sessionId: string; code: string; relay: { token: string } }>(
      registered,
      201,
    );
    const fetched = async () =>
      expectJson<{ agent: Record<string, unknown> | null }>(
        await cp.app.request(`/api/sessions/${registration.sessionId}`, { headers: { cookie } }),
        200,
      );
    assertInert((await fetched()).agent, 'after registration');
    const [event] = await auditOf(cp, cookie, registration.sessionId, 'agent.register');
    assertInert(event?.details as Record<string, unknown>, 'the audit event');

    // The hello says it all again, and that is what the relay records and shows operators.
    const agent = await RelayClient.connect(relayUrl(cp), {
      hello: { role: 'agent', token: registration.relay.token, client: HOSTILE_DEVICE },
    });
    try {
      await agent.next('welcome');
      assertInert((await fetched()).agent, 'after the hello');
      const { operator, welcome } = await connectOperator(cp, registration.code, { cookie });
      assertInert(welcome.agent, "the operator's welcome");
      await operator.close();
    } finally {
      await agent.close();
    }
  });
});
