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
