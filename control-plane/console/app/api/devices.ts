import { apiRequest } from './client.ts';
import { ROUTES } from './routes.ts';
import type { Device, Page } from './types.ts';

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
