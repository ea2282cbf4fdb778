import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JWK } from 'jose';

/** What the resident agent needs to prove who it is, and to whom. */
export interface DeviceCredentials {
  server: string;
  deviceId: string;
  groupId: string;
  privateJwk: JWK;
  /** The HTTP proxy the device reaches the server through (it may hold the proxy's password). */
  proxy?: string;
  /**
   * The pin of the server's TLS key (`serverKeyPin`, protocol/agent-stamp.ts) the enrolment connection saw, for an
   * https server: the service and its session hosts accept no other key afterwards.
   */
  serverKey?: string;
  /**
   * The control plane's public signing keys, received at enrolment: orders are verified with these
   * only, never with keys that arrive over the hub link. Absent for devices enrolled before orders.
   */
  serverKeys?: { keys: JWK[] };
}

/** Writes the credentials readable by root only (the folder 0700, the file 0600, both owned by root). */
export function writeCredentials(path: string, credentials: DeviceCredentials): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  // The mode given at creation is masked by the umask; set it outright.
  chmodSync(dirname(path), 0o700);
  chmodSync(path, 0o600);
  chownSync(dirname(path), 0, 0);
  chownSync(path, 0, 0);
}

/** The credentials at `path`, or an error that says what to do. */
export function readCredentials(path: string): DeviceCredentials {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `This device is not enrolled (${path} is missing): run lifeline-agent install --key KEY.`,
      {
        cause: error,
      },
    );
  }
  const value = JSON.parse(text) as Partial<DeviceCredentials>;
  if (
    typeof value.server !== 'string' ||
    typeof value.deviceId !== 'string' ||
    typeof value.groupId !== 'string' ||
    typeof value.privateJwk !== 'object' ||
    (value.proxy !== undefined && typeof value.proxy !== 'string') ||
    (value.serverKey !== undefined && typeof value.serverKey !== 'string')
  )
    throw new Error(`${path} is damaged: run lifeline-agent uninstall, then install again.`);
  return value as DeviceCredentials;
}
