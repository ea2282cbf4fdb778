import { apiRequest } from './client.ts';
import { ROUTES } from './routes.ts';
import type { Operator, Organisation, Page, Role } from './types.ts';

export async function listOperators(): Promise<Operator[]> {
  return (await apiRequest<Page<Operator>>(ROUTES.listOperators)).items;
}

export interface NewOperator {
  username: string;
  name: string;
  password: string;
  role: Role;
  organisationId: string;
}

export function createOperator(operator: NewOperator): Promise<Operator> {
  return apiRequest(ROUTES.createOperator, { body: operator, idempotent: true });
}

/** Changes a role, a password or disables an account; the server closes what the old state held. */
export function updateOperator(
  id: string,
  change: { name?: string; role?: Role; password?: string; organisationId?: string; disabled?: boolean },
): Promise<Operator> {
  return apiRequest(ROUTES.updateOperator, { params: { id }, body: change });
}

export async function listOrganisations(): Promise<Organisation[]> {
  return (await apiRequest<Page<Organisation>>(ROUTES.listOrganisations)).items;
}

export function createOrganisation(name: string): Promise<Organisation> {
  return apiRequest(ROUTES.createOrganisation, { body: { name }, idempotent: true });
}
