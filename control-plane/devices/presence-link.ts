import type { Services } from '../services.ts';
import type { SessionRow } from '../sessions/session-store.ts';

/**
 * Links a session a one-shot agent started (register) or joined (join) to the resident device of
 * the same machine, when the agent sent that device's live presence proof (protocol/device.ts) and
 * the device is of the session's organisation: the console then offers the device's Elevated tools
 * in the session (README, "Elevated tools during any session on the device"). Anything else (no
 * proof, an unknown, spent or expired one, another organisation's device) links nothing and fails
 * nothing: the user's session goes on as any attended one. Audited `session.device-linked`.
 * Resolves with the session as it is now.
 */
export async function linkPresence(
  services: Services,
  session: SessionRow,
  presence: string | undefined,
  address: string,
): Promise<SessionRow> {
  if (!presence) return session;
  const deviceId = services.devices.hub.claimPresence(presence);
  const device = deviceId ? await services.devices.store.get(deviceId) : undefined;
  if (!device || device.removedAt || device.organisationId !== session.organisationId) {
    services.logger.info(
      { event: 'presence-unmatched', sessionId: session.id, address },
      'a presence proof matched no device of the session',
    );
    return session;
  }
  const linked = await services.store.linkDevice(session.id, device.id);
  if (!linked) return session;
  await services.audit.record({
    actorType: 'agent',
    actorId: session.id,
    action: 'session.device-linked',
    sessionId: session.id,
    organisationId: device.organisationId,
    address,
    details: { deviceId: device.id, groupId: device.deviceGroupId },
  });
  return linked;
}
