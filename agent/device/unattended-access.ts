import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UNATTENDED_PASSWORD_MIN_CHARS } from '../../protocol/index.ts';
import type { SessionHosts } from './session-host-launcher.ts';

/** The environment variable that shortens how long unattended access outlives its last session (tests). */
export const UNATTENDED_LINGER_ENV = 'LIFELINE_UNATTENDED_LINGER_MS';
/** How long unattended access outlives its last session, in milliseconds (README, "Unattended access"). */
export const DEFAULT_UNATTENDED_LINGER_MS = 15 * 60_000;

/** Bytes of randomness in a dynamic password: 12 bytes are 16 base64url characters, 96 bits. */
const PASSWORD_BYTES = 12;

/** The linger of unattended access: {@link UNATTENDED_LINGER_ENV} when set, else 15 minutes. */
export function unattendedLingerMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[UNATTENDED_LINGER_ENV];
  if (text === undefined) return DEFAULT_UNATTENDED_LINGER_MS;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${UNATTENDED_LINGER_ENV} must be a whole number of milliseconds, e.g. 900000.`);
  return value;
}

export interface UnattendedAccessOptions {
  /**
   * Where each grant unpacks its session host, in a folder of its own: the service's state directory
   * on Linux and macOS (the host starts as root); on Windows a folder the console user, as whom the
   * host runs, may read and run from but not change (windowsLayout's `unattendedDir`).
   */
  folder: string;
  /** The installed agent executable, copied (under its own name) into each grant's folder as its session host. */
  executable: string;
  lingerMs: number;
  hosts: SessionHosts;
  log: (fields: Record<string, unknown>, message: string) => void;
}

interface Grant {
  id: string;
  folder: string;
  executable: string;
  /** The sessions of the grant whose session hosts are starting or still run. */
  running: Set<string>;
  expiry: NodeJS.Timeout | undefined;
}

/**
 * The device's side of unattended access: one grant at a time, started by a `start-unattended`
 * order. A grant unpacks its own session host, lets `join-session` orders of that grant start it,
 * and expires `lingerMs` after its last session ends (or after it was started, when nobody
 * connects): its hosts are stopped, its folder removed and its id forgotten, so later orders for it
 * are refused. The dynamic password is made here and handed back once; the device keeps no copy.
 *
 * @example
 * const { grant, password } = access.start();   // answer the control plane
 * const executable = access.executableFor(grant); // undefined once expired
 */
export class UnattendedAccess {
  private grant: Grant | undefined;

  constructor(private readonly options: UnattendedAccessOptions) {}

  /** Starts a new grant, ending the one before (its sessions too): a new password every time. */
  start(): { grant: string; password: string } {
    if (this.grant) this.expire(this.grant, 'replaced');
    const id = randomUUID();
    const folder = join(this.options.folder, id);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    // Its own name: `lifeline-agent.exe` on Windows, whose CreateProcess wants the suffix.
    const executable = join(folder, basename(this.options.executable));
    copyFileSync(this.options.executable, executable);
    chmodSync(executable, 0o700);
    const grant: Grant = { id, folder, executable, running: new Set(), expiry: undefined };
    this.grant = grant;
    this.armExpiry(grant);
    this.options.log({ event: 'unattended-start', grant: id }, 'unattended access started');
    const password = randomBytes(PASSWORD_BYTES).toString('base64url');
    if (password.length < UNATTENDED_PASSWORD_MIN_CHARS) throw new Error('dynamic password too short');
    return { grant: id, password };
  }

  /** The session host of grant `id` while it is in force, else undefined. */
  executableFor(id: string | undefined): string | undefined {
    return id !== undefined && this.grant?.id === id ? this.grant.executable : undefined;
  }

  /**
   * A session host of grant `id` is starting for `sessionId` (told before it is launched, so the
   * grant cannot expire while the host starts): the grant lasts at least until the session ends.
   */
  sessionStarted(id: string, sessionId: string): void {
    const grant = this.grant;
    if (grant?.id !== id) return;
    grant.running.add(sessionId);
    clearTimeout(grant.expiry);
    grant.expiry = undefined;
  }

  /** The session host of `sessionId` ended (or never started): the last one to end starts the linger. */
  sessionEnded(id: string, sessionId: string): void {
    const grant = this.grant;
    if (grant?.id !== id || !grant.running.delete(sessionId)) return;
    if (grant.running.size === 0) this.armExpiry(grant);
  }

  /** Ends the grant in force at once (the service is stopping). */
  stop(): void {
    if (this.grant) this.expire(this.grant, 'stopped');
  }

  private armExpiry(grant: Grant): void {
    clearTimeout(grant.expiry);
    grant.expiry = setTimeout(() => this.expire(grant, 'expired'), this.options.lingerMs);
    grant.expiry.unref();
  }

  private expire(grant: Grant, why: 'expired' | 'replaced' | 'stopped'): void {
    clearTimeout(grant.expiry);
    if (this.grant === grant) this.grant = undefined;
    for (const sessionId of grant.running) this.options.hosts.stop(sessionId);
    try {
      // Windows removes no running program: a host just told to stop may hold its file a moment.
      rmSync(grant.folder, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch (error) {
      this.options.log(
        { event: 'unattended-cleanup-failed', grant: grant.id },
        `the grant's folder could not be removed: ${(error as Error).message}`,
      );
    }
    this.options.log({ event: 'unattended-end', grant: grant.id, why }, 'unattended access ended');
  }
}
