import { fileURLToPath } from 'node:url';
import { redeem } from '../support/api.ts';
import { BenchFailure, ensure } from '../support/failure.ts';
import { type BenchChild, startChild } from './child-process.ts';
import { OperatorClient } from './operator-client.ts';

const AGENT_ENTRY = fileURLToPath(new URL('./agent-main.ts', import.meta.url));
const DIRECT_ENTRY = fileURLToPath(new URL('./direct-server-main.ts', import.meta.url));
const LOCAL_EXEC_ENTRY = fileURLToPath(new URL('./local-exec-main.ts', import.meta.url));

/** What agent-main.ts says once the relay welcomed it. */
interface AgentReady {
  sessionId: string;
  code: string;
}

/** What agent-main.ts says as it stops. */
export interface AgentStopped {
  type: 'stopped';
  runningAtEnd: number;
  malformedFrames: number;
  statusLines: number;
}

/** A real agent in its own process and one operator joined to it through the relay. */
export interface ChannelSession {
  agent: BenchChild<AgentReady>;
  operator: OperatorClient;
  sessionId: string;
  /** Closes the operator and stops the agent; resolves with what the agent reported. */
  close(): Promise<AgentStopped | undefined>;
}

/**
 * Starts the agent (agent-main.ts) sharing `root`, redeems its code as `cookie`'s operator, joins
 * the relay and waits for the end user's automatic consent with files and shell allowed.
 */
export async function openChannelSession(
  baseUrl: string,
  cookie: string,
  root: string,
): Promise<ChannelSession> {
  const agent = await startChild<AgentReady>('the agent', AGENT_ENTRY, {
    LIFELINE_BENCH_SERVER: baseUrl,
    LIFELINE_BENCH_FILES_ROOT: root,
  });
  let operator: OperatorClient | undefined;
  try {
    const redemption = await redeem(baseUrl, cookie, agent.ready.code);
    operator = await OperatorClient.viaRelay(redemption.relay.url, redemption.relay.token);
    const consent = await operator.nextControl((m) => m.type === 'consent', "the end user's consent");
    ensure(
      consent.type === 'consent' &&
        consent.accepted &&
        consent.permissions.files &&
        consent.permissions.shell,
      `the agent did not allow files and shell: ${JSON.stringify(consent)}`,
    );
  } catch (error) {
    await operator?.close();
    await agent.stop();
    throw error;
  }
  const joined = operator;
  return {
    agent,
    operator: joined,
    sessionId: agent.ready.sessionId,
    async close() {
      await joined.close();
      const last = await agent.stop();
      return (last as { type?: string } | undefined)?.type === 'stopped' ? (last as AgentStopped) : undefined;
    },
  };
}

/** The baseline server (direct-server-main.ts) serving `root`, and an operator connected to it. */
export async function openDirectSession(
  root: string,
): Promise<{ operator: OperatorClient; close(): Promise<void> }> {
  const server = await startChild<{ url: string }>('the baseline server', DIRECT_ENTRY, {
    LIFELINE_BENCH_FILES_ROOT: root,
  });
  let operator: OperatorClient;
  try {
    operator = await OperatorClient.direct(server.ready.url);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    operator,
    async close() {
      await operator.close();
      await server.stop();
    },
  };
}

/** The baseline for commands: local-exec-main.ts, spawning in `cwd`. */
export async function startLocalCommands(
  cwd: string,
): Promise<{ run(): Promise<number>; close(): Promise<void> }> {
  const child = await startChild('the local command runner', LOCAL_EXEC_ENTRY, { LIFELINE_BENCH_CWD: cwd });
  let nextId = 1;
  return {
    async run() {
      const answer = await child.request<{ ms?: number; error?: string }>({ type: 'exec', id: nextId++ });
      if (answer.ms === undefined) throw new BenchFailure(`local command: ${answer.error}`);
      return answer.ms;
    },
    async close() {
      await child.stop();
    },
  };
}
