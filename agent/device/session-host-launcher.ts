import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { agentCommandLine } from './agent-command.ts';

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
  /**
   * The account the host drops to once it has its spec, before it joins the session (its shells
   * and file transfers run as that user); without it the host keeps the service's user.
   */
  runAs: z
    .object({ user: z.string(), uid: z.number().int(), gid: z.number().int(), home: z.string() })
    .optional(),
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
   * started with no further arguments than `session-host` and the report socket's path.
   */
  executable?: string;
  /** Told when the host ends, with its own process id. */
  onExit?: (pid: number) => void;
}

/** How long a started host has to report itself before it counts as failed, in milliseconds. */
export const HOST_REPORT_TIMEOUT_MS = 60_000;

/** A host that reported itself: its own pid, and the connection that closes when it ends. */
interface RunningHost {
  sessionId: string;
  pid: number;
  connection: Socket;
}

/**
 * Starts and keeps track of the session hosts the resident service runs: the same agent executable
 * in its `session-host` mode, started by the service (and so running as the service's user), each
 * attached to one session on the relay as its device side. Each host is given only the path of a
 * report socket of the service's (in a 0700 folder, so only the service's user may connect): it
 * reports its own pid there, is answered with its spec (which holds the session's relay token), and
 * holds the connection open: the socket closing is the host ending, whatever the command that showed
 * it did (a terminal such as `tmux new-session -d` returns at once). The spec never travels in the
 * environment or on the command line: a terminal server (tmux) keeps the environment of the first
 * host it started and would hand it to the next.
 *
 * @example
 * const hosts = new SessionHosts(workDir);
 * const pid = await hosts.launch(spec, { terminal: ['xterm', '-e'] });
 * hosts.stopAll(); // the service is stopping
 */
export class SessionHosts {
  private readonly running = new Set<RunningHost>();
  private readonly starting = new Set<ChildProcess>();

  /** `workDir`: the service's state directory (mode 0700), where the report sockets are made. */
  constructor(private readonly workDir: string) {}

  /**
   * Starts a host; resolves with the host's own pid once it reported itself, rejects when it cannot
   * be started, exits before reporting, or does not report within {@link HOST_REPORT_TIMEOUT_MS}.
   */
  async launch(spec: SessionHostSpec, options: LaunchOptions = {}): Promise<number> {
    const folder = join(this.workDir, 'hosts');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    // Short: a socket's path has at most ~104 bytes.
    const path = join(folder, `${randomBytes(6).toString('hex')}.sock`);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    const self = options.executable ? { command: options.executable, args: [] } : agentCommandLine();
    const words = [...(options.terminal ?? []), self.command, ...self.args, 'session-host', path];
    const child = spawn(words[0]!, words.slice(1), {
      // A host in a terminal talks to the user there; a hidden one writes to the service's log.
      stdio: options.terminal ? 'ignore' : ['ignore', 'inherit', 'inherit'],
    });
    this.starting.add(child);
    const sessionId = spec.attachment.sessionId;
    const closeServer = () => {
      this.starting.delete(child);
      server.close();
      rmSync(path, { force: true });
    };
    return new Promise<number>((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(timer);
        closeServer();
        child.kill('SIGTERM');
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new Error(`the session host did not start within ${HOST_REPORT_TIMEOUT_MS} ms`)),
        HOST_REPORT_TIMEOUT_MS,
      );
      child.once('error', fail);
      // A terminal that detaches exits at once with status 0; anything else before the report failed.
      child.once('exit', (code, signal) => {
        if (this.starting.has(child) && code !== 0)
          fail(new Error(`it exited (${signal ?? `status ${code}`}) before it started`));
      });
      // The one connection expected: the socket is gone once it came, so no other gets the spec.
      server.once('connection', (connection) => {
        clearTimeout(timer);
        closeServer();
        let text = '';
        connection.setEncoding('utf8');
        connection.on('data', (chunk: string) => {
          text += chunk;
          if (!text.includes('\n') || this.hostOf(connection)) return;
          const pid = Number(text.split('\n')[0]);
          if (!Number.isInteger(pid) || pid <= 0) {
            connection.destroy();
            return reject(new Error('the session host reported no pid'));
          }
          this.running.add({ sessionId, pid, connection });
          connection.write(`${JSON.stringify(spec)}\n`);
          resolve(pid);
        });
        connection.on('error', () => {});
        connection.once('close', () => {
          const host = this.hostOf(connection);
          if (!host) return reject(new Error('the session host ended before it started'));
          this.running.delete(host);
          options.onExit?.(host.pid);
        });
      });
    });
  }

  /** Ends every host still running (SIGTERM: each ends its session politely). */
  stopAll(): void {
    for (const host of this.running) signal(host.pid);
    for (const child of this.starting) child.kill('SIGTERM');
  }

  /** Ends the host of session `sessionId`, when it still runs. */
  stop(sessionId: string): void {
    for (const host of this.running) if (host.sessionId === sessionId) signal(host.pid);
  }

  private hostOf(connection: Socket): RunningHost | undefined {
    for (const host of this.running) if (host.connection === connection) return host;
    return undefined;
  }
}

/** SIGTERM to a host that still holds its report socket (so its pid is still its own). */
function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // Ended in the meantime: its socket's close is on its way.
  }
}

/**
 * The session host's side of the report socket at `path`: says its pid, reads its spec (one line of
 * JSON), and keeps the connection open, unreferenced, until this process ends (the kernel then
 * closes it, which tells the service the host ended).
 */
export function reportToService(path: string): Promise<z.output<typeof sessionHostSpecSchema>> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(path, () => socket.write(`${process.pid}\n`));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end < 0) return;
      socket.removeAllListeners('data');
      socket.removeAllListeners('end');
      socket.unref();
      try {
        resolve(sessionHostSpecSchema.parse(JSON.parse(text.slice(0, end))));
      } catch (error) {
        reject(error);
      }
    });
    socket.once('end', () => reject(new Error('The service closed the report socket without a spec.')));
    socket.once('error', reject);
  });
}
