import { type ChildProcess, spawn } from 'node:child_process';
import { z } from 'zod';
import { agentCommandLine } from './agent-command.ts';

/**
 * The environment variable that carries a session host's orders from the resident service to the
 * host it starts. Never a command-line argument: argv is world-readable in `ps`, the environment of
 * a root process is not. The host deletes it from its environment as soon as it has read it, so
 * shells it starts do not inherit the relay token.
 */
export const SESSION_HOST_ENV = 'LIFELINE_SESSION_HOST';

/** What a session host needs: the session to join, what it may grant, and how it shows itself. */
export const sessionHostSpecSchema = z.object({
  server: z.string(),
  /** How the service reaches the server (its credentials' proxy and key pin): the host does the same. */
  proxy: z.string().optional(),
  serverKey: z.string().optional(),
  /** The control plane's keys from enrolment, to verify the session's policy token with. */
  serverKeys: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }),
  attachment: z.object({
    sessionId: z.string(),
    relay: z.object({ url: z.string(), token: z.string() }),
    policyToken: z.string(),
  }),
  /**
   * What may be granted (capped again by the session's verified policy): without asking, or, with
   * `consent`, what the user may choose to grant. The screen and input only with `display`.
   */
  allowed: z.object({
    view: z.boolean().default(false),
    control: z.boolean().default(false),
    chat: z.boolean().default(false),
    shell: z.boolean(),
    files: z.boolean(),
  }),
  /** The X display to share (the console user's), when the session shares the screen. */
  display: z.string().optional(),
  /** Offered help: the user is asked (in the notice terminal) and may refuse; `reason` is shown. */
  consent: z.boolean().default(false),
  reason: z.string().optional(),
  /** The folder file transfers are rooted at and shells start in. */
  filesRoot: z.string(),
  /** The operator the session is for, named to the user when the user is told. */
  operator: z.string(),
  /** Whether the host runs in a terminal the user sees (it then shows every action). */
  notify: z.boolean(),
});
export type SessionHostSpec = z.input<typeof sessionHostSpecSchema>;

export interface LaunchOptions {
  /**
   * The words of a command that shows the host to the user, its command line appended (e.g.
   * `['xterm', '-e']`); without it the host runs hidden, its log lines in the service's.
   */
  terminal?: readonly string[] | undefined;
  /**
   * The session host executable to run instead of this agent (an unattended grant's unpacked copy),
   * started with no further arguments than `session-host`.
   */
  executable?: string;
  /** Told when a host exits, with its exit status (null when a signal ended it). */
  onExit?: (pid: number, code: number | null) => void;
}

/**
 * Starts and keeps track of the session hosts the resident service runs: the same agent executable
 * in its `session-host` mode, a child of the service (and so running as the service's user), each
 * attached to one session on the relay as its device side.
 *
 * @example
 * const hosts = new SessionHosts();
 * const pid = await hosts.launch(spec, { terminal: ['xterm', '-e'] });
 * hosts.stopAll(); // the service is stopping
 */
export class SessionHosts {
  private readonly children = new Set<ChildProcess>();

  /** Starts a host; resolves with its pid once it runs, rejects when it cannot be started. */
  launch(spec: SessionHostSpec, options: LaunchOptions = {}): Promise<number> {
    const self = options.executable ? { command: options.executable, args: [] } : agentCommandLine();
    const words = [...(options.terminal ?? []), self.command, ...self.args, 'session-host'];
    const child = spawn(words[0]!, words.slice(1), {
      env: { ...process.env, [SESSION_HOST_ENV]: JSON.stringify(spec) },
      // A host in a terminal talks to the user there; a hidden one writes to the service's log.
      stdio: options.terminal ? 'ignore' : ['ignore', 'inherit', 'inherit'],
    });
    this.children.add(child);
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', (error) => {
        this.children.delete(child);
        reject(error);
      });
      child.once('exit', (code) => {
        this.children.delete(child);
        options.onExit?.(child.pid!, code);
      });
    });
  }

  /** Ends every host still running (SIGTERM: each ends its session politely). */
  stopAll(): void {
    for (const child of this.children) child.kill('SIGTERM');
  }

  /** Ends the host with process id `pid`, when it is one of these and still runs. */
  stop(pid: number): void {
    for (const child of this.children) if (child.pid === pid) child.kill('SIGTERM');
  }
}
