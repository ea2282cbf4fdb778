import type { ActorType } from '../audit/audit-log.ts';
import type { DeviceRemoval } from '../db/schema.ts';
import type { Services } from '../services.ts';
import type { DeviceRow } from './device-store.ts';

const AUDIT_ACTIONS: Record<DeviceRemoval, string> = {
  uninstalled: 'device.uninstall',
  forgotten: 'device.forget',
};

/**
 * Ends a device's identity (uninstalled by itself, or forgotten by an operator), closes its link
 * and audits it. False when it was removed already.
 */
export async function removeDevice(
  services: Services,
  device: DeviceRow,
  removal: DeviceRemoval,
  actor: { actorType: ActorType; actorId: string },
  address: string,
): Promise<boolean> {
  if (!(await services.devices.store.remove(device.id, removal))) return false;
  services.devices.hub.drop(device.id);
  await services.audit.record({
    ...actor,
    action: AUDIT_ACTIONS[removal],
    organisationId: device.organisationId,
    address,
    details: { deviceId: device.id, hostname: device.hostname },
  });
  return true;
}
