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
