import { apiRequest } from './client.ts';
import { ROUTES } from './routes.ts';
import type { DeviceGroup, Page, Policy } from './types.ts';

export async function listGroups(): Promise<DeviceGroup[]> {
  return (await apiRequest<Page<DeviceGroup>>(ROUTES.listGroups)).items;
}

/** A new group, in the operator's organisation unless an administrator names another. */
export function createGroup(name: string, organisationId?: string): Promise<DeviceGroup> {
  return apiRequest(ROUTES.createGroup, {
    body: organisationId ? { name, organisationId } : { name },
    idempotent: true,
  });
}

export function renameGroup(id: string, name: string): Promise<DeviceGroup> {
  return apiRequest(ROUTES.renameGroup, { params: { id }, body: { name } });
}

/** Replaces the group's policy; sessions created afterwards get it. */
export function setGroupPolicy(id: string, policy: Policy): Promise<DeviceGroup> {
  return apiRequest(ROUTES.setGroupPolicy, { params: { id }, body: policy });
}

/** A new key that enrols agents into the group; the previous one stops working. Shown once. */
export async function issueRegistrationKey(id: string): Promise<string> {
  const { registrationKey } = await apiRequest<{ registrationKey: string }>(ROUTES.issueRegistrationKey, {
    params: { id },
  });
  return registrationKey;
}
