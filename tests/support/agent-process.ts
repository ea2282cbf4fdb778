import assert from 'node:assert/strict';
import type { MessageOf } from '../../protocol/index.ts';
import { RelayClient } from '../control-plane/relay-client.ts';
import { type ApiClient, type Credentials, expectJson } from './api.ts';
import type { TestControlPlane } from './control-plane.ts';
import { type Spawned, spawnCollecting, waitFor } from './processes.ts';

/** How the real agent (agent/main.ts, as an end user runs it from the source tree) is started. */
export interface AgentRun {
  /** The control plane's base URL. */
  server: string;
  /** The X display it shares. */
  display: string;
  /** An operator-first code to join; without it the agent registers and shows its own code. */
  code?: string;
  /** Accept the operator on the user's behalf (`--accept`). Defaults to true. */
  accept?: boolean;
  /** Capabilities switched on from the start (`--allow`). */
  allow?: readonly string[];
  /** The shared folder (`--files-root`). */
  filesRoot?: string;
  /** Further command-line arguments, passed as they are. */
  args?: readonly string[];
  /** Environment on top of this process's and `DISPLAY`. */
  env?: NodeJS.ProcessEnv;
  /** Keep standard input open to type into the terminal UI; by default it is closed at once. */
  keepInput?: boolean;
}

/** Starts the real agent with `tsx`, collecting what it prints. */
export function spawnAgent(run: AgentRun): Spawned {
  const args = ['--import', 'tsx', 'agent/main.ts', '--server', run.server];
  if (run.code) args.push('--code', run.code);
  if (run.accept ?? true) args.push('--accept');
  if (run.allow?.length) args.push('--allow', run.allow.join(','));
  if (run.filesRoot) args.push('--files-root', run.filesRoot);
  args.push(...(run.args ?? []));
  const agent = spawnCollecting(process.execPath, args, { ...process.env, DISPLAY: run.display, ...run.env });
  if (!run.keepInput) agent.child.stdin?.end();
  return agent;
}

/** The connection code the agent shows the user (`123 456 789`), once it has registered. */
export function shownCode(agent: Spawned, timeoutMs?: number): Promise<string> {
  return waitFor(
    'the agent to show a code',
    () => /(\d{3} \d{3} \d{3})/.exec(agent.output())?.[1],
    timeoutMs,
  );
}

/** A session a script creates through the HTTP API (`POST /api/sessions`): its id and the code an agent joins with. */
export async function createScriptSession(
  api: ApiClient,
  script: Credentials,
): Promise<{ sessionId: string; code: string }> {
  const created = await expectJson<{ session: { id: string }; code: string }>(
    await api.post('/api/sessions', script, {}),
    201,
  );
  return { sessionId: created.session.id, code: created.code };
}

/**
 * The script's side of a session once the real `agent` was started with its code: waits for the
 * agent, connects for `capabilities`, types `consentKeys` into the consent question when given (an
 * agent started with `accept: false, keepInput: true`), and asserts the session is active.
 * @example
 * const { sessionId, code } = await createScriptSession(api, script);
 * agent = spawnAgent({ server: cp.url, display, code, allow: ['files'] });
 * await connectScript(api, script, sessionId, agent, ['files']);
 */
export async function connectScript(
  api: ApiClient,
  script: Credentials,
  sessionId: string,
  agent: Spawned,
  capabilities: readonly string[],
  consentKeys?: string,
): Promise<void> {
  const connected = await expectJson<{ reached: boolean }>(
    await api.get(`/api/sessions/${sessionId}/wait?until=agent-connected&timeout=30`, script),
    200,
  );
  assert.equal(connected.reached, true, agent.output());
  await expectJson(await api.post(`/api/sessions/${sessionId}/connect`, script, { capabilities }), 200);
  if (consentKeys) {
    await waitFor('the consent question', () => agent.output().includes('wants to connect'));
    agent.child.stdin?.write(consentKeys);
  }
  const active = await expectJson<{ status: string }>(
    await api.get(`/api/sessions/${sessionId}/wait?until=active&timeout=30`, script),
    200,
  );
  assert.equal(active.status, 'active', agent.output());
}

/** What `joinAgentSession` waits for once the operator is in. */
export interface JoinUntil {
  /** Wait for the first picture of the screen too. Defaults to true. */
  picture?: boolean;
  /** The relay address the operator dials, from the one the grant names (e.g. past a proxy). */
  relayUrl?: (granted: string) => string;
  /** What to show when consent fails (e.g. the agent's output). */
  context?: () => string;
}

/**
 * The operator's side of a session a real agent process was started to join: joins over the relay
 * once the control plane lets an operator in (the agent has reached the relay), asserts the user's
 * consent was a yes and, unless `picture: false`, waits for the first picture. The operator client
 * is the caller's to close.
 * @example
 * const agent = spawnAgent({ server: cp.url, display, code });
 * const { operator } = await joinAgentSession(cp, sessionId, cookie);
 */
export async function joinAgentSession(
  cp: TestControlPlane,
  sessionId: string,
  cookie: string,
  until: JoinUntil = {},
): Promise<{ operator: RelayClient; welcome: MessageOf<'welcome'> }> {
  const grant = await waitFor(
    'the operator to be let in',
    async () => {
      const joined = await cp.app.request(`/api/sessions/${sessionId}/join`, {
        method: 'POST',
        headers: { cookie },
      });
      return joined.status === 200
        ? ((await joined.json()) as { relay: { url: string; token: string } })
        : undefined;
    },
    30_000,
  );
  const operator = await RelayClient.connect(until.relayUrl?.(grant.relay.url) ?? grant.relay.url, {
    hello: { role: 'operator', token: grant.relay.token },
  });
  const welcome = await operator.next('welcome');
  const consent = await operator.next('consent', 0, 20_000);
  assert.equal(consent.accepted, true, until.context?.());
  if (until.picture ?? true) {
    await operator.until(() => operator.videos().length > 0, 'a picture of the screen', 20_000);
  }
  return { operator, welcome };
}
