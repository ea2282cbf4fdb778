import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { connect, createServer, Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
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
    .object({
      user: z.string(),
      uid: z.number().int(),
      gid: z.number().int(),
      /** Every group of the user, supplementary ones included (the primary group alone without). */
      groups: z.array(z.number().int()).default([]),
      home: z.string(),
    })
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
export const HOST_REPORT_TIMEOUT_MS = 30_000;

/** The environment variable that shortens how long a host has to reach the relay (tests). */
export const HOST_CONNECT_ENV = 'LIFELINE_HOST_CONNECT_MS';
/** How long a host that reported itself has to reach the relay before it is stopped, in milliseconds. */
export const DEFAULT_HOST_CONNECT_MS = 30_000;

/** The connect bound: {@link HOST_CONNECT_ENV} when set, else {@link DEFAULT_HOST_CONNECT_MS}. */
export function hostConnectMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[HOST_CONNECT_ENV];
  if (text === undefined) return DEFAULT_HOST_CONNECT_MS;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${HOST_CONNECT_ENV} must be a whole, positive number of milliseconds, e.g. 30000.`);
  return value;
}

/** What a host says on its report socket once it has its spec: it reached the relay, or why not. */
const hostOutcomeSchema = z.union([
  z.object({ connected: z.literal(true) }),
  z.object({ failed: z.string().max(500) }),
]);
type HostOutcome = z.infer<typeof hostOutcomeSchema>;

/** A host that reported itself: its own pid, and the connection that closes when it ends. */
interface RunningHost {
  sessionId: string;
  pid: number;
  connection: Duplex;
}

/**
 * What a host is given instead of a socket's path on Windows: its report channel is its C runtime
 * descriptor 3, an anonymous pipe inherited from the service (through `run-in-session`).
 */
export const INHERITED_REPORT = 'fd:3';
/** The descriptor {@link INHERITED_REPORT} names. */
const INHERITED_REPORT_FD = 3;

/**
 * Starts and keeps track of the session hosts the resident service runs: the same agent executable
 * in its `session-host` mode, started by the service (and so running as the service's user), each
 * attached to one session on the relay as its device side. Each host is given only its report
 * channel, which no other local user can open: on Linux and macOS the path of a socket of the
 * service's (in a 0700 folder, so only the service's user may connect); on Windows, where the host
 * runs as the console user and the service as SYSTEM, {@link INHERITED_REPORT}, an anonymous pipe
 * only the processes started with it hold (passed on by the service host's `run-in-session`). It
 * reports its own pid there, is answered with its spec (which holds the session's relay token),
 * says once it reached the relay (or why it could not), and holds the connection open: the socket
 * closing is the host ending, whatever the command that showed it did (a terminal such as
 * `tmux new-session -d` returns at once). The spec never travels in the environment or on the
 * command line: a terminal server (tmux) keeps the environment of the first host it started and
 * would hand it to the next. A host that does not reach the relay within the connect bound is
 * killed: its session is not left waiting for a device side that never comes.
 *
 * @example
 * const hosts = new SessionHosts(workDir, hostConnectMs());
 * const pid = await hosts.launch(spec, { terminal: ['xterm', '-e'] }); // connected to the relay
 * hosts.stopAll(); // the service is stopping
 */
export class SessionHosts {
  private readonly running = new Set<RunningHost>();
  private readonly starting = new Set<ChildProcess>();

  /**
   * `workDir`: the service's state directory (mode 0700), where the report sockets are made;
   * `connectMs`: how long a host that reported itself has to reach the relay.
   */
  constructor(
    private readonly workDir: string,
    private readonly connectMs = DEFAULT_HOST_CONNECT_MS,
  ) {}

  /**
   * Starts a host; resolves with the host's own pid once it reached the relay. Rejects when it
   * cannot be started, exits or fails first (with the host's reason), does not report within
   * {@link HOST_REPORT_TIMEOUT_MS}, or does not reach the relay within the connect bound (it is
   * then killed).
   */
  async launch(spec: SessionHostSpec, options: LaunchOptions = {}): Promise<number> {
    // Windows: an anonymous pipe the host inherits as descriptor 3 (through the service host's
    // run-in-session), held by no other process. Elsewhere: a socket in the service's 0700 folder.
    const inherited = process.platform === 'win32';
    const path = inherited ? INHERITED_REPORT : this.reportPath();
    const server = inherited ? undefined : createServer();
    if (server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, resolve);
      });
    const self = options.executable ? { command: options.executable, args: [] } : agentCommandLine();
    const words = [...(options.terminal ?? []), self.command, ...self.args, 'session-host', path];
    const child = spawn(words[0]!, words.slice(1), {
      // A host in a terminal talks to the user there; a hidden one writes to the service's log.
      stdio: [
        'ignore',
        options.terminal && !inherited ? 'ignore' : 'inherit',
        options.terminal && !inherited ? 'ignore' : 'inherit',
        ...(inherited ? (['pipe'] as const) : []),
      ],
      windowsHide: true,
    });
    this.starting.add(child);
    const sessionId = spec.attachment.sessionId;
    const closeServer = () => {
      this.starting.delete(child);
      if (!server) return;
      server.close();
      rmSync(path, { force: true });
    };
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout;
      const settle = (error: Error | undefined, pid = 0) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(pid);
      };
      const fail = (error: Error) => {
        closeServer();
        child.kill('SIGTERM');
        settle(error);
      };
      timer = setTimeout(
        () => fail(new Error(`it did not start within ${HOST_REPORT_TIMEOUT_MS / 1000} s`)),
        HOST_REPORT_TIMEOUT_MS,
      );
      child.once('error', fail);
      // A terminal that detaches exits at once with status 0; anything else before the report failed.
      child.once('exit', (code, signal) => {
        if (this.starting.has(child) && code !== 0)
          fail(new Error(`it exited (${signal ?? `status ${code}`}) before it started`));
      });
      // The one connection expected: the socket is gone once it came, so no other gets the spec.
      // The report timer runs on until the host said its pid.
      const reported = (connection: Duplex) => {
        closeServer();
        let text = '';
        let host: RunningHost | undefined;
        const line = (words: string) => {
          if (!host) {
            const pid = Number(words);
            if (!Number.isInteger(pid) || pid <= 0) {
              connection.destroy();
              return settle(new Error('it reported no pid'));
            }
            clearTimeout(timer);
            host = { sessionId, pid, connection };
            this.running.add(host);
            connection.write(`${JSON.stringify(spec)}\n`);
            // Killed, not asked: a host that has not reached the relay may be stuck anywhere.
            const killed = host;
            timer = setTimeout(() => {
              kill(killed.pid, 'SIGKILL');
              settle(
                new Error(
                  `it did not connect to the relay within ${this.connectMs / 1000} s and was stopped`,
                ),
              );
            }, this.connectMs);
            return;
          }
          const outcome = parseOutcome(words);
          if (!outcome) return;
          if ('connected' in outcome) return settle(undefined, host.pid);
          settle(new Error(outcome.failed));
        };
        connection.setEncoding('utf8');
        connection.on('data', (chunk: string) => {
          text += chunk;
          for (let end = text.indexOf('\n'); end >= 0 && !settled; end = text.indexOf('\n')) {
            const words = text.slice(0, end);
            text = text.slice(end + 1);
            line(words);
          }
          // Past its outcome the host says nothing more: what it sends is not kept.
          if (settled) text = '';
        });
        connection.on('error', () => {});
        connection.once('close', () => {
          if (!host) return settle(new Error('it ended before it started'));
          this.running.delete(host);
          settle(new Error('it ended before it joined the session'));
          options.onExit?.(host.pid);
        });
      };
      if (server) server.once('connection', reported);
      else reported(child.stdio[3] as Duplex);
    });
  }

  /** A new report socket's path, in the 0700 work folder. */
  private reportPath(): string {
    const name = randomBytes(6).toString('hex');
    const folder = join(this.workDir, 'hosts');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    // Short: a socket's path has at most ~104 bytes.
    return join(folder, `${name}.sock`);
  }

  /** Ends every host still running (SIGTERM: each ends its session politely). */
  stopAll(): void {
    for (const host of this.running) kill(host.pid, 'SIGTERM');
    for (const child of this.starting) child.kill('SIGTERM');
  }

  /** Ends the host of session `sessionId`, when it still runs. */
  stop(sessionId: string): void {
    for (const host of this.running) if (host.sessionId === sessionId) kill(host.pid, 'SIGTERM');
  }
}

function parseOutcome(text: string): HostOutcome | undefined {
  try {
    const parsed = hostOutcomeSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Signals a host that still holds its report socket (so its pid is still its own). */
function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Ended in the meantime: its socket's close is on its way.
  }
}

/** The session host's line back to the service once it has its spec. */
export interface ServiceReport {
  spec: z.output<typeof sessionHostSpecSchema>;
  /** Tells the service the outcome of joining the session: connected, or why not (said once). */
  tell(outcome: HostOutcome): void;
}

/**
 * The session host's side of the report socket at `path`: says its pid, reads its spec (one line of
 * JSON), and keeps the connection open, unreferenced, until this process ends (the kernel then
 * closes it, which tells the service the host ended); `tell` says whether it reached the relay.
 */
export function reportToService(path: string): Promise<ServiceReport> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket =
      path === INHERITED_REPORT
        ? new Socket({ fd: INHERITED_REPORT_FD, readable: true, writable: true })
        : connect(path);
    if (path === INHERITED_REPORT) socket.write(`${process.pid}\n`);
    else socket.once('connect', () => socket.write(`${process.pid}\n`));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end < 0) return;
      socket.removeAllListeners('data');
      socket.removeAllListeners('end');
      socket.unref();
      try {
        const spec = sessionHostSpecSchema.parse(JSON.parse(text.slice(0, end)));
        resolve({ spec, tell: (outcome) => socket.write(`${JSON.stringify(outcome)}\n`) });
      } catch (error) {
        reject(error);
      }
    });
    socket.once('end', () => reject(new Error('The service closed the report socket without a spec.')));
    socket.once('error', reject);
  });
}
