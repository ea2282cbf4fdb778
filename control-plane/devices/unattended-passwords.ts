import { hashPassword, verifyPassword } from '../auth/passwords.ts';

interface Entry {
  grant: string;
  /** The dynamic password's scrypt hash (auth/passwords.ts); the password itself is never kept. */
  hash: string;
}

/**
 * The dynamic passwords of unattended access on this node, by device: a slow hash and the grant it
 * opens, never the password. One per device (a new start replaces it). The device is the authority
 * on whether a grant is still in force; a grant it reports expired is forgotten here. Held in
 * memory, like the device's socket: after a restart the operator starts unattended access again.
 */
export class UnattendedPasswords {
  private readonly entries = new Map<string, Entry>();

  /** Keeps the hash of `password` for the device's `grant`, replacing any earlier one. */
  async remember(deviceId: string, grant: string, password: string): Promise<void> {
    this.entries.set(deviceId, { grant, hash: await hashPassword(password) });
  }

  /**
   * The grant `password` opens on the device, or undefined when it is wrong or none is in force.
   * A device without a password costs a hash all the same (`dummyHash`), so timing tells nothing.
   */
  async check(deviceId: string, password: string, dummyHash: string): Promise<string | undefined> {
    const entry = this.entries.get(deviceId);
    const right = await verifyPassword(password, entry?.hash ?? dummyHash);
    return right && entry ? entry.grant : undefined;
  }

  /** The device said `grant` is over: its password dies. */
  forget(deviceId: string, grant: string): void {
    if (this.entries.get(deviceId)?.grant === grant) this.entries.delete(deviceId);
  }
}
