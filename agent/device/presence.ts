import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, win32 } from 'node:path';
import type { AgentPresence } from '../../protocol/api/agent.ts';
import { PRESENCE_ROTATE_SECONDS, presenceProofSchema } from '../../protocol/index.ts';
import { ROOT_ENV } from './layout.ts';
import { fileSecurity, onlySystemMayChange, protectForUsersToRead } from './windows/file-security.ts';

/**
 * Where the resident agent keeps its presence proof (protocol/device.ts), readable by every local
 * user and writable by the service only: Linux `/run/lifeline/presence` (a root-owned 0755 folder,
 * systemd's RuntimeDirectory), macOS `/var/run/lifeline/presence`, Windows
 * `%ProgramData%\Lifeline\presence` (in the service's private folder, but with permissions of its
 * own: owned by Administrators, SYSTEM and Administrators full control, Users read). `root`
 * (tests only) prefixes the path on Linux and macOS, as every installed path.
 */
export function presencePath(root: string, platform = process.platform, env = process.env): string {
  if (platform === 'win32')
    return win32.join(env['ProgramData'] ?? 'C:\\ProgramData', 'Lifeline', 'presence');
  return join(root, platform === 'darwin' ? 'var/run' : 'run', 'lifeline', 'presence');
}

/**
 * The resident agent's side: a new proof every {@link PRESENCE_ROTATE_SECONDS} and whenever the hub
 * says one was spent or the link is (re)welcomed, written for local users to read and handed to
 * `publish` (the hub link). Each write replaces the file at once (rename), so a reader never sees
 * half a proof.
 */
export class PresenceProofs {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly publish: (proof: string) => void,
    private readonly log: (fields: Record<string, unknown>, message: string) => void,
  ) {}

  /** Writes and publishes the first proof, then a new one each interval. */
  start(): void {
    this.rotate();
    this.timer = setInterval(() => this.rotate(), PRESENCE_ROTATE_SECONDS * 1000);
    this.timer.unref();
  }

  /** A new proof now: written, then published; a proof that cannot be written is not published. */
  rotate(): void {
    try {
      this.publish(this.write());
    } catch (error) {
      this.log(
        { event: 'presence-failed' },
        `the presence file cannot be written: ${(error as Error).message}`,
      );
    }
  }

  private write(): string {
    const proof = randomBytes(32).toString('base64url');
    const folder = dirname(this.path);
    mkdirSync(folder, { recursive: true, mode: 0o755 });
    // The service's umask (0077) masks the modes given at creation; set them outright.
    chmodSync(folder, 0o755);
    const fresh = `${this.path}.new`;
    writeFileSync(fresh, `${proof}\n`, { mode: 0o644 });
    chmodSync(fresh, 0o644);
    // Windows: made in the private data folder, it inherits its ACL (SYSTEM and Administrators only);
    // it gets its own before the rename, which keeps it.
    if (process.platform === 'win32') protectForUsersToRead(fresh);
    renameSync(fresh, this.path);
    return proof;
  }

  /** Stops rotating and removes the file: a stopped service is present nowhere. */
  stop(): void {
    clearInterval(this.timer);
    rmSync(this.path, { force: true });
  }
}

/**
 * The one-shot agent's side: the resident agent's current proof on this machine, or undefined when
 * there is none (no resident agent) or it cannot be trusted. On Linux and macOS the file and its
 * folder must be root's and writable by nobody else, so a proof another local user planted (their
 * own device's) cannot link this user's session to a device that is not this machine. On Windows
 * the file must be owned by SYSTEM or Administrators and changeable by them alone (its folder is the
 * service's private one).
 */
export function readPresence(path: string): string | undefined {
  try {
    if (process.platform === 'win32') {
      if (!onlySystemMayChange(fileSecurity(path))) return undefined;
    } else {
      for (const checked of [dirname(path), path]) {
        const stat = statSync(checked);
        if (stat.uid !== 0 || (stat.mode & 0o022) !== 0) return undefined;
      }
    }
    const parsed = presenceProofSchema.safeParse(readFileSync(path, 'utf8').trim());
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a one-shot agent adds to register and join: this machine's presence proof, if a resident
 * agent runs here (under `LIFELINE_AGENT_ROOT` in tests, as the resident agent's own paths).
 */
export function localPresence(): AgentPresence {
  const proof = readPresence(presencePath(resolve(process.env[ROOT_ENV] ?? '/')));
  return proof ? { presence: proof } : {};
}
