/** An HTTP route of the control plane, spelled as its OpenAPI document spells it. */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The OpenAPI path, with `{name}` placeholders. */
  path: string;
}

/**
 * Every control-plane route the console calls. The console uses the same documented API as scripts:
 * a test checks that each of these is in the served `/openapi.json`.
 */
export const ROUTES = {
  login: { method: 'POST', path: '/api/auth/login' },
  logout: { method: 'POST', path: '/api/auth/logout' },
  me: { method: 'GET', path: '/api/auth/me' },
  totpSetup: { method: 'POST', path: '/api/auth/totp/setup' },
  totpEnable: { method: 'POST', path: '/api/auth/totp/enable' },

  createSession: { method: 'POST', path: '/api/sessions' },
  listSessions: { method: 'GET', path: '/api/sessions' },
  getSession: { method: 'GET', path: '/api/sessions/{id}' },
  renewCode: { method: 'POST', path: '/api/sessions/{id}/code' },
  extendCode: { method: 'POST', path: '/api/sessions/{id}/extend' },
  redeemCode: { method: 'POST', path: '/api/sessions/redeem' },
  joinSession: { method: 'POST', path: '/api/sessions/{id}/join' },
  waitForSession: { method: 'GET', path: '/api/sessions/{id}/wait' },
  endSession: { method: 'POST', path: '/api/sessions/{id}/end' },
  invitationStatus: { method: 'GET', path: '/api/invitations/{id}' },
  openInvitation: { method: 'POST', path: '/api/invitations/{id}/open' },

  listGroups: { method: 'GET', path: '/api/groups' },
  createGroup: { method: 'POST', path: '/api/groups' },
  renameGroup: { method: 'PATCH', path: '/api/groups/{id}' },
  setGroupPolicy: { method: 'PUT', path: '/api/groups/{id}/policy' },
  issueRegistrationKey: { method: 'POST', path: '/api/groups/{id}/registration-key' },

  listDevices: { method: 'GET', path: '/api/devices' },
  getDevice: { method: 'GET', path: '/api/devices/{id}' },
  forgetDevice: { method: 'DELETE', path: '/api/devices/{id}' },
  startUnattended: { method: 'POST', path: '/api/devices/{id}/unattended' },
  connectUnattended: { method: 'POST', path: '/api/devices/{id}/unattended/sessions' },
  offerHelp: { method: 'POST', path: '/api/devices/{id}/offer-help' },
  backgroundAccess: { method: 'POST', path: '/api/devices/{id}/background-access' },
  adminShell: { method: 'POST', path: '/api/devices/{id}/admin-shell' },
  listProcesses: { method: 'GET', path: '/api/devices/{id}/processes' },
  endProcess: { method: 'POST', path: '/api/devices/{id}/processes/{pid}/end' },
  listServices: { method: 'GET', path: '/api/devices/{id}/services' },
  serviceAction: { method: 'POST', path: '/api/devices/{id}/services/{name}/{action}' },
  readRegistry: { method: 'GET', path: '/api/devices/{id}/registry' },
  changeRegistry: { method: 'POST', path: '/api/devices/{id}/registry' },

  listOperators: { method: 'GET', path: '/api/operators' },
  createOperator: { method: 'POST', path: '/api/operators' },
  updateOperator: { method: 'PATCH', path: '/api/operators/{id}' },

  listOrganisations: { method: 'GET', path: '/api/organisations' },
  createOrganisation: { method: 'POST', path: '/api/organisations' },

  listTokens: { method: 'GET', path: '/api/tokens' },
  createToken: { method: 'POST', path: '/api/tokens' },
  revokeToken: { method: 'DELETE', path: '/api/tokens/{id}' },

  listAuditEvents: { method: 'GET', path: '/api/audit-events' },
} as const satisfies Record<string, ApiRoute>;

export type Query = Record<string, string | number | undefined>;

/**
 * The URL of a route: placeholders filled (encoded) from `params`, then the query without its
 * undefined and empty values, in the order given.
 * @example urlOf(ROUTES.waitForSession, { id: 's1' }, { until: 'active', timeout: 25 })
 * // '/api/sessions/s1/wait?until=active&timeout=25'
 */
export function urlOf(route: ApiRoute, params: Record<string, string> = {}, query: Query = {}): string {
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${route.path}: no value for {${name}}`);
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') search.append(name, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
