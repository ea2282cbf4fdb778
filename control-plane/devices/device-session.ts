import { type RunsAs, runsAsSchema } from '../../protocol/api/devices.ts';
import { inertDeviceText } from '../../protocol/device-text.ts';
import type {
  JoinSessionOrder,
  OrderOperator,
  OrderResult,
  Policy,
  SessionAccess,
} from '../../protocol/index.ts';
import type { Services } from '../services.ts';
import { agentGrant } from '../sessions/agent-grant.ts';
import type { SessionRow } from '../sessions/session-store.ts';
import type { DeviceRow } from './device-store.ts';
import { sendOrder } from './send-order.ts';

/**
 * The policy of a session opened on a device with `access`: the group's, narrowed to what that
 * access is. Background access shares no screen, takes no input and has no chat; shells and files
 * as far as the group allows them, granted without asking (the group's background-access switch
 * was the consent); an `elevated` one (the administrator shell) has no files. The session host and
 * the relay both enforce it.
 */
export function devicePolicy(policy: Policy, access: SessionAccess, elevated = false): Policy {
  if (access === 'background')
    return {
      ...policy,
      modes: {
        view: false,
        control: false,
        chat: false,
        clipboard: false,
        guidance: false,
        shell: policy.modes.shell,
        // The administrator shell is a shell only.
        files: policy.modes.files && !elevated,
      },
      consentRequired: false,
    };
  // Unattended access was granted by the operator's start and the group's switch: no prompt.
  if (access === 'unattended') return { ...policy, consentRequired: false };
  // Offered help is the user's to accept, whatever the group says for kiosks.
  if (access === 'offer') return { ...policy, consentRequired: true };
  return policy;
}

/**
 * How long the control plane waits for a device to answer a `join-session` order, in milliseconds:
 * the device answers once its session host reached the relay (it gives a host 30 s to report itself
 * and 30 s more to connect), so the answer is whether the session has its device side.
 */
export const JOIN_ORDER_TIMEOUT_MS = 70_000;

/**
 * Opens a session on a resident device: an operator-first session of the device's group (the
 * operator joins it like any other) whose device side is a session host the device starts when
 * ordered to (see send-order.ts), answered once that host reached the relay. Resolves with the
 * session and the device's answer; a session the device did not take (or whose host never
 * connected) is ended at once.
 */
export async function openDeviceSession(
  services: Services,
  device: DeviceRow,
  operator: OrderOperator,
  access: SessionAccess,
  extra: Pick<JoinSessionOrder, 'grant' | 'reason' | 'elevated'> = {},
): Promise<{ session: SessionRow; result: OrderResult }> {
  const group = await services.groups.get(device.deviceGroupId);
  if (!group) throw new Error(`device ${device.id} has no group`);
  const { session } = await services.store.createWithCode({
    agentInfo: null,
    node: null,
    organisationId: device.organisationId,
    deviceGroupId: group.id,
    policy: devicePolicy(group.policy, access, extra.elevated),
    initiator: 'operator',
    createdById: operator.id,
    device: { id: device.id, access },
  });
  const grant = await agentGrant(services, session);
  const result = await sendOrder(
    services,
    device.id,
    {
      kind: 'join-session',
      access,
      sessionId: session.id,
      relay: grant.relay,
      policyToken: grant.policyToken,
      operator,
      ...extra,
    },
    JOIN_ORDER_TIMEOUT_MS,
  );
  if (!result.ok) await services.store.markEnded(session.id, 'error');
  return { session, result };
}

/**
 * Whose session it is, from a device's answer to `join-session` (`runsAs`, `elevated`); the user
 * name shown inert, as everything a device reports. Undefined from a device that does not say.
 */
export function runsAsOf(detail: Record<string, unknown> | undefined): { runsAs?: RunsAs } {
  const parsed = runsAsSchema.safeParse({ user: detail?.['runsAs'], elevated: detail?.['elevated'] });
  if (!parsed.success) return {};
  return { runsAs: { user: inertDeviceText(parsed.data.user, 100), elevated: parsed.data.elevated } };
}
