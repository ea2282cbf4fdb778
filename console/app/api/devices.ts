import {
  ELEVATED_TOOL_ROLES,
  type ProcessInfo,
  type RegistryChange,
  type RegistryValue,
  type ServiceAction,
  type ServiceInfo,
} from '../../../protocol/device-orders.ts';
import { apiRequest } from './client.ts';
import { ROUTES } from './routes.ts';
import { joinSession, waitForSession } from './sessions.ts';
import type { Device, DeviceGroup, Identity, Page, Policy, SessionGrant, SessionView } from './types.ts';

/** How long the console waits for a device's session host to connect, in seconds. */
const HOST_WAIT_SECONDS = 30;

export interface DeviceFilter {
  search?: string | undefined;
  group?: string | undefined;
  status?: 'online' | 'offline' | undefined;
}

/** One page of enrolled devices, oldest enrolment first; pass the previous `nextCursor` for the next. */
export function listDevices(filter: DeviceFilter, cursor?: string | null, limit = 50): Promise<Page<Device>> {
  return apiRequest(ROUTES.listDevices, {
    query: {
      search: filter.search,
      group: filter.group,
      status: filter.status,
      limit,
      cursor: cursor ?? undefined,
    },
  });
}

/**
 * Whether the operator may open background access on a device of `group`: the group's policy allows
 * it for their role (the server checks again, and so does the device).
 */
export function mayUseBackgroundAccess(identity: Identity, group: DeviceGroup | undefined): boolean {
  const access = group?.policy.backgroundAccess;
  return Boolean(access?.allowed && access.roles.includes(identity.operator.role));
}

/**
 * Whose shell background access on `device` will be, before it starts: the resident service's user
 * (root) where the policy grants the operator elevation, else the user the device reports at its
 * console; null when nobody is (the device refuses it). The device decides again when it starts.
 */
export function backgroundRunsAs(
  identity: Identity,
  group: DeviceGroup | undefined,
  device: Device,
): { user: string; elevated: boolean } | null {
  if (mayUseElevatedTools(identity, group)) return { user: 'root', elevated: true };
  return device.reported.consoleUser ? { user: device.reported.consoleUser, elevated: false } : null;
}

/**
 * Whether the operator may use elevated tools (the task manager) on a device of `group`: the policy
 * enables them and the role is one that may (the server checks again, and so does the device).
 */
export function mayUseElevatedTools(identity: Identity, group: DeviceGroup | undefined): boolean {
  return mayUseElevatedToolsUnder(identity, group?.policy);
}

/** {@link mayUseElevatedTools} under a policy itself (a session's, which is its device group's). */
export function mayUseElevatedToolsUnder(identity: Identity, policy: Policy | null | undefined): boolean {
  return Boolean(policy?.elevatedTools && ELEVATED_TOOL_ROLES.includes(identity.operator.role));
}

/** One device, as the Devices page lists it. */
export function getDevice(id: string): Promise<Device> {
  return apiRequest(ROUTES.getDevice, { params: { id } });
}

/** The device's processes whose name contains `name`, busiest first (bounded; `total` counts all). */
export function listProcesses(
  id: string,
  name: string,
): Promise<{ processes: ProcessInfo[]; total: number }> {
  return apiRequest(ROUTES.listProcesses, { params: { id }, query: { name: name || undefined } });
}

/** Ends a process on the device (SIGTERM, then SIGKILL after a grace). */
export function endProcess(id: string, pid: number): Promise<{ pid: number; name: string; signal: string }> {
  return apiRequest(ROUTES.endProcess, { params: { id, pid: String(pid) } });
}

/** The device's services as its service manager lists them (bounded; `total` counts all). */
export function listServices(id: string): Promise<{ services: ServiceInfo[]; total: number }> {
  return apiRequest(ROUTES.listServices, { params: { id } });
}

/** Starts, stops or restarts a service on the device. */
export function serviceAction(id: string, name: string, action: ServiceAction): Promise<unknown> {
  return apiRequest(ROUTES.serviceAction, { params: { id, name, action } });
}

/** A registry key's subkeys and values, as the device's `reg query` shows them (Windows). */
export function readRegistry(
  id: string,
  key: string,
): Promise<{
  key: string;
  subkeys: string[];
  values: RegistryValue[];
  total: { subkeys: number; values: number };
  /** Under HKCU: the console user whose hive it is. */
  currentUser?: string;
}> {
  return apiRequest(ROUTES.readRegistry, { params: { id }, query: { key } });
}

/** Sets or deletes a registry value, or creates or deletes a key, on the device (Windows). */
export function changeRegistry(id: string, change: RegistryChange): Promise<unknown> {
  return apiRequest(ROUTES.changeRegistry, { params: { id }, body: change });
}

/**
 * Opens background access on a device (shell and files, no screen), or with `elevated` the
 * administrator shell of elevated tools (a shell only), waits for the device's session host to
 * connect, and joins the session: the grant to show it with.
 */
export async function openBackgroundAccess(deviceId: string, elevated = false): Promise<SessionGrant> {
  const route = elevated ? ROUTES.adminShell : ROUTES.backgroundAccess;
  const { session } = await apiRequest<{ session: SessionView }>(route, {
    params: { id: deviceId },
  });
  const waited = await waitForSession(session.id, 'agent-connected', HOST_WAIT_SECONDS);
  if (!waited.agentConnected)
    throw new Error('The device started no session in time. Try again, or look at its service log.');
  return joinSession(session.id);
}

/** Forgets a device: its identity stops working; it must be enrolled again. */
export function forgetDevice(id: string): Promise<void> {
  return apiRequest(ROUTES.forgetDevice, { params: { id } });
}

/** Starts unattended access to a device: its dynamic password, shown this once. */
export function startUnattended(id: string): Promise<{ password: string }> {
  return apiRequest(ROUTES.startUnattended, { params: { id } });
}

/** Opens an unattended session on a device with its dynamic password; join it like any session. */
export function connectUnattended(id: string, password: string): Promise<{ sessionId: string }> {
  return apiRequest(ROUTES.connectUnattended, { params: { id }, body: { password } });
}

/** Offers help to the user at a device; the session starts once they accept. */
export function offerHelp(id: string, reason: string): Promise<{ sessionId: string }> {
  return apiRequest(ROUTES.offerHelp, { params: { id }, body: reason ? { reason } : {} });
}
