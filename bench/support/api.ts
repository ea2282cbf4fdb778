import { Agent, request } from 'node:http';
import type { AgentRegistration, SessionJoin } from '../../protocol/api/index.ts';

/** What `POST /api/agent/register` returns. */
export type Registration = AgentRegistration;

/** What `POST /api/sessions/redeem` returns. */
export type Redemption = SessionJoin;

/**
 * Connection pools per source address. No keep-alive: each synthetic agent is another machine with
 * a connection of its own, and a pooled connection the server closed while idle fails as a hang-up.
 */
const agents = new Map<string, Agent>();

function agentFor(localAddress: string): Agent {
  let agent = agents.get(localAddress);
  if (!agent) {
    agent = new Agent({ keepAlive: false, localAddress });
    agents.set(localAddress, agent);
  }
  return agent;
}

/** Closes the pooled connections, so no socket outlives a part. */
export function closeApiConnections(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

/**
 * One JSON request to the control plane over loopback, from `localAddress` (any 127.x.y.z).
 * Rejects with the status and body when the answer is not 2xx.
 */
export function apiRequest<T>(
  baseUrl: string,
  path: string,
  options: { body?: unknown; cookie?: string; localAddress?: string } = {},
): Promise<{ body: T; headers: Record<string, string | string[] | undefined> }> {
  const url = new URL(path, baseUrl);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: payload === undefined ? 'GET' : 'POST',
        agent: agentFor(options.localAddress ?? '127.0.0.1'),
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.cookie ? { cookie: options.cookie, origin: new URL(baseUrl).origin } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            reject(new Error(`${url.pathname} answered ${status}: ${text.slice(0, 300)}`));
            return;
          }
          try {
            resolve({ body: JSON.parse(text) as T, headers: res.headers });
          } catch (error) {
            reject(new Error(`${url.pathname} answered with invalid JSON`, { cause: error }));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Logs in as the admin and returns the cookie header to send. */
export async function login(baseUrl: string, username: string, password: string): Promise<string> {
  const { headers } = await apiRequest(baseUrl, '/api/auth/login', { body: { username, password } });
  const setCookie = headers['set-cookie'];
  const cookie = (Array.isArray(setCookie) ? setCookie[0] : setCookie)?.split(';')[0];
  if (!cookie) throw new Error('login set no cookie');
  return cookie;
}

/** Registers a synthetic agent, as `agent/main.ts` does. */
export async function register(baseUrl: string, localAddress: string): Promise<Registration> {
  const { body } = await apiRequest<Registration>(baseUrl, '/api/agent/register', {
    localAddress,
    body: { name: 'lifeline-bench', version: '0.0.0', hostname: 'bench-host', os: 'linux' },
  });
  return body;
}

/** Redeems a connection code as the logged-in operator. */
export async function redeem(baseUrl: string, cookie: string, code: string): Promise<Redemption> {
  const { body } = await apiRequest<Redemption>(baseUrl, '/api/sessions/redeem', {
    cookie,
    body: { code },
  });
  return body;
}
