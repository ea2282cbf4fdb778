import { AgentSession } from '../../agent/core/agent-session.ts';
import type { InputSink, ScreenSource, UserInterface } from '../../agent/core/ports.ts';

/** The real agent core in the test process, with a user who accepts everything and no input; no screen unless given. */
export interface AgentCore {
  session: AgentSession;
  /** Every status line the agent showed its user, in order. */
  statuses: string[];
}

/**
 * Creates the real `AgentSession` for `relayUrl` (call `installWebSocket()` first, and
 * `session.connect()` after).
 * @example
 * const { session, statuses } = agentCore(`ws://127.0.0.1:${proxy.port}/ws`, registration.relay.token, 10_000);
 * await session.connect();
 */
export function agentCore(
  relayUrl: string,
  token: string,
  reconnectGraceMs: number,
  screen: ScreenSource = { start: async () => ({ stop: async () => {}, requestKeyframe: () => {} }) },
): AgentCore {
  const statuses: string[] = [];
  const ui: UserInterface = {
    showCode: () => {},
    askConsent: async (_operator, requested) => ({ accepted: true, permissions: requested }),
    status: (text) => statuses.push(text),
    permissionsChanged: () => {},
    ended: () => {},
  };
  const input: InputSink = { apply: () => {}, releaseAll: () => {} };
  const session = new AgentSession({
    relayUrl,
    token,
    client: { name: 'agent', version: '0' },
    ui,
    screen,
    input,
    reconnectGraceMs,
  });
  return { session, statuses };
}
