import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import type { AgentRegistration, DeviceGroup, Operator, Page, Session } from '../../protocol/api/index.ts';
import { type Problem, problemSchema } from '../../protocol/api/problem.ts';
import type { Policy } from '../../protocol/index.ts';
import { loginCookie, type StartOptions, startControlPlane, type TestControlPlane } from './control-plane.ts';

/** The HTTP API's shapes, as protocol/api/ declares them for the server and every client. */
export type {
  AgentRegistration,
  AuditEvent,
  DeviceGroup as GroupView,
  Operator as OperatorView,
  Page,
  Problem,
  Session as SessionView,
} from '../../protocol/api/index.ts';

/**
 * Asserts that a response is the API's one error shape, with this status and code, and returns it.
 * @example await assertProblem(await api.get('/api/operators', admin), 403, 'FORBIDDEN');
 */
export async function assertProblem(response: Response, status: number, code: string): Promise<Problem> {
  const text = await response.text();
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${text}`);
  assert.equal(response.headers.get('content-type'), 'application/problem+json', text);
  const body = problemSchema.strict().parse(JSON.parse(text));
  assert.equal(body.status, status);
  assert.equal(body.code, code);
  assert.equal(body.type, `https://lifeline.invalid/problems/${code.toLowerCase().replaceAll('_', '-')}`);
  assert.ok(body.title.length > 0, 'a problem has a title');
  assert.ok(body.detail.length > 0, 'a problem has a detail');
  return body;
}

/** Reads a JSON body after asserting the status, so a failure shows what the server said. */
export async function expectJson<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

let addresses = 0;
/**
 * A client address no other request of the run used, so the per-address throttles (code guesses,
 * registrations, logins) of one test never reach another. Only ever a value for `getConnInfo`: no
 * traffic goes to it.
 */
export function freshAddress(): string {
  addresses++;
  return `10.1.${(addresses >> 8) & 0xff}.${addresses & 0xff}`;
}

/** How a request authenticates: a console login cookie, an API token, or nothing. */
export type Credentials = { cookie: string } | { token: string } | undefined;

function authHeaders(credentials: Credentials): Record<string, string> {
  if (!credentials) return {};
  return 'cookie' in credentials
    ? { cookie: credentials.cookie }
    : { authorization: `Bearer ${credentials.token}` };
}

export interface RequestOptions {
  /** The client address `getConnInfo` reports; `local` (no socket) when unset. */
  address?: string;
  headers?: Record<string, string>;
}

/** Where `apiClient` sends its requests: a test control plane's app in-process, or a real process over HTTP. */
export interface ApiTarget {
  app: Pick<TestControlPlane['app'], 'request'>;
}

/** Requests to a test control plane (`app.request`), as a console or a script sends them. */
export function apiClient(cp: ApiTarget) {
  function request(
    method: string,
    path: string,
    credentials: Credentials,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...authHeaders(credentials), ...options.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    // The Node bindings getConnInfo reads, so a request can come from its own client address.
    const env = options.address
      ? {
          incoming: {
            socket: {
              remoteAddress: options.address,
              remotePort: 40_000,
              remoteFamily: isIP(options.address) === 6 ? 'IPv6' : 'IPv4',
            },
          },
        }
      : undefined;
    return Promise.resolve(
      cp.app.request(
        path,
        {
          method,
          headers,
          ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        },
        env,
      ),
    );
  }
  return {
    request,
    get: (path: string, credentials: Credentials, options?: RequestOptions) =>
      request('GET', path, credentials, undefined, options),
    post: (path: string, credentials: Credentials, body: unknown = {}, options?: RequestOptions) =>
      request('POST', path, credentials, body, options),
    put: (path: string, credentials: Credentials, body: unknown, options?: RequestOptions) =>
      request('PUT', path, credentials, body, options),
    patch: (path: string, credentials: Credentials, body: unknown, options?: RequestOptions) =>
      request('PATCH', path, credentials, body, options),
    delete: (path: string, credentials: Credentials, options?: RequestOptions) =>
      request('DELETE', path, credentials, undefined, options),
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

/** A password long enough for the policy (12 characters or more). */
export const OPERATOR_PASSWORD = 'a long enough passphrase';

/** Logs in with an optional second-factor code; returns the response (the cookie is in `set-cookie`). */
export function login(
  api: ApiClient,
  username: string,
  password: string,
  totp?: string,
  address = freshAddress(),
): Promise<Response> {
  return api.post(
    '/api/auth/login',
    undefined,
    { username, password, ...(totp ? { totp } : {}) },
    { address },
  );
}

/** The `name=value` of the login cookie a response set. */
export function cookieOf(response: Response): string {
  const header = response.headers.get('set-cookie');
  assert.ok(header, 'the login set a cookie');
  return header.split(';')[0]!;
}

/** Creates an operator as the administrator `admin` and logs them in. */
export async function createOperator(
  api: ApiClient,
  admin: Credentials,
  input: { username: string; role: string; organisationId: string; name?: string },
): Promise<{ operator: Operator; cookie: string }> {
  const operator = await expectJson<Operator>(
    await api.post('/api/operators', admin, {
      name: input.name ?? input.username,
      password: OPERATOR_PASSWORD,
      ...input,
    }),
    201,
  );
  const response = await login(api, input.username, OPERATOR_PASSWORD);
  await expectJson(response, 200);
  return { operator, cookie: cookieOf(response) };
}

/** The operator signed in with `credentials`, as who-am-I (`/api/auth/me`) answers. */
export async function whoAmI(api: ApiClient, credentials: Credentials): Promise<Operator> {
  return (await expectJson<{ operator: Operator }>(await api.get('/api/auth/me', credentials), 200)).operator;
}

/** Creates an API token with these scopes for the operator behind `owner`. */
export async function createToken(
  api: ApiClient,
  owner: Credentials,
  scopes: string[],
  name = `script ${scopes.join(' ')}`,
): Promise<{ id: string; token: string; scopes: string[] }> {
  return expectJson(await api.post('/api/tokens', owner, { name, scopes }), 201);
}

/** Reads every page of a list, following `nextCursor`. */
export async function readAllPages<T>(
  api: ApiClient,
  path: string,
  credentials: Credentials,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const url: string = cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path;
    const page: Page<T> = await expectJson<Page<T>>(await api.get(url, credentials), 200);
    items.push(...page.items);
    pages++;
    cursor = page.nextCursor;
    assert.ok(pages < 1000, 'paging ends');
  } while (cursor !== null);
  return { items, pages };
}

/** A test control plane, an API client for it, and its administrator signed in. */
export interface AdminPlane {
  cp: TestControlPlane;
  api: ApiClient;
  admin: { cookie: string };
  /** The administrator, as who-am-I answers. */
  me: Operator;
}

/**
 * Starts a control plane (see `startControlPlane`) and signs its administrator in.
 * @example ({ cp, api, admin } = await startWithAdmin({ listen: true }));
 */
export async function startWithAdmin(options: StartOptions = {}): Promise<AdminPlane> {
  const cp = await startControlPlane(options);
  const api = apiClient(cp);
  const admin = { cookie: await loginCookie(cp.app) };
  return { cp, api, admin, me: await whoAmI(api, admin) };
}

/**
 * An agent's user-first registration (`POST /api/agent/register`) from a client address of its own;
 * `fields` add to or replace the agent's description (`registrationKey` enrols it in that key's group).
 */
export function postAgentRegistration(
  api: ApiClient,
  fields: Record<string, unknown> = {},
): Promise<Response> {
  return api.post(
    '/api/agent/register',
    undefined,
    { name: 'test-agent', version: '0.0.0', ...fields },
    { address: freshAddress() },
  );
}

/** The agent's registration, granted: `postAgentRegistration` answered 201. */
export async function registeredAgent(
  api: ApiClient,
  fields: Record<string, unknown> = {},
): Promise<AgentRegistration> {
  return expectJson<AgentRegistration>(await postAgentRegistration(api, fields), 201);
}

/** Redeems a connection code as `who`, from a client address of its own (the response is the caller's to read). */
export function postRedeem(api: ApiClient, who: Credentials, code: string): Promise<Response> {
  return api.post('/api/sessions/redeem', who, { code }, { address: freshAddress() });
}

/** A new device group named `name` with `policy`, made by `admin`, and a key that enrols agents in it. */
export async function groupWithKey(
  api: ApiClient,
  admin: Credentials,
  name: string,
  policy: Policy,
): Promise<{ group: DeviceGroup; key: string }> {
  const group = await expectJson<DeviceGroup>(await api.post('/api/groups', admin, { name, policy }), 201);
  const { registrationKey } = await expectJson<{ registrationKey: string }>(
    await api.post(`/api/groups/${group.id}/registration-key`, admin),
    200,
  );
  return { group, key: registrationKey };
}

/** Holds the API's long-poll until the session has ended (ten seconds at most), asserts it did, and returns it. */
export async function waitUntilEnded(api: ApiClient, who: Credentials, sessionId: string): Promise<Session> {
  const session = await expectJson<Session & { reached: boolean }>(
    await api.get(`/api/sessions/${sessionId}/wait?until=ended&timeout=10`, who),
    200,
  );
  assert.equal(session.reached, true, 'the session ended');
  return session;
}
