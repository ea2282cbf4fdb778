import assert from 'node:assert/strict';
import { verifyPolicyToken } from '../../agent/core/policy.ts';
import type { Policy } from '../../protocol/index.ts';
import type { TestControlPlane } from './control-plane.ts';

/** Puts `policy` on the default device group, as an administrator with `cookie`. */
export async function setDefaultGroupPolicy(
  cp: TestControlPlane,
  cookie: string,
  policy: Policy,
): Promise<void> {
  const groups = await (await cp.app.request('/api/groups', { headers: { cookie } })).json();
  const group = groups.items.find((g: { isDefault: boolean }) => g.isDefault);
  const put = await cp.app.request(`/api/groups/${group.id}/policy`, {
    method: 'PUT',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify(policy),
  });
  assert.equal(put.status, 200, await put.clone().text());
}

/**
 * Sets the default group's policy, registers an agent (the control plane must listen), and returns
 * the policy the agent verified from its signed token: what the device enforces.
 */
export async function signedPolicyFor(cp: TestControlPlane, cookie: string, policy: Policy): Promise<Policy> {
  await setDefaultGroupPolicy(cp, cookie, policy);
  const response = await fetch(`${cp.url}/api/agent/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'test-agent', version: '0.0.0' }),
  });
  const registration = await response.json();
  return verifyPolicyToken(cp.url, registration.sessionId, registration.policyToken);
}
