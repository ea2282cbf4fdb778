import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { serverKeyPin } from '../../protocol/agent-stamp.ts';

/** What the agent knows of a server's certificate when it asks the user about it. */
export interface PresentedCertificate {
  /** `host:port` as the agent dialled it. */
  server: string;
  /** SHA-256 of the certificate, `AB:CD:…`: what the control plane prints at start and browsers show. */
  fingerprint: string;
  /** Whether this computer's trusted authorities vouch for it (for this host name). */
  trustedBySystem: boolean;
}

/** Why the agent refused a server. The message is for the end user. */
export class ServerIdentityError extends Error {
  override readonly name = 'ServerIdentityError';
  constructor(
    readonly kind: 'impostor' | 'not-approved',
    message: string,
  ) {
    super(message);
  }
}

export interface ServerTrustOptions {
  /**
   * Asks the user whether to trust a server that no stamp names (resolves true to go on). Without it,
   * an unpinned server is checked like any TLS client does: against the system's authorities.
   */
  approve?: (certificate: PresentedCertificate) => Promise<boolean>;
}

/**
 * Which TLS servers the agent talks to. A stamped agent is pinned to the key of the control plane it
 * was downloaded from ({@link pinTo}) and refuses every other, even one the system trusts; an
 * unstamped one shows the certificate's fingerprint on first connection and goes on only once the
 * user approved it, remembering that for this run only.
 */
export class ServerTrust {
  private pin: string | undefined;
  private pinnedTo = 'this agent was downloaded from';
  private pinFirst = false;
  private fingerprint: string | undefined;
  private readonly approved = new Set<string>();
  private readonly asking = new Map<string, Promise<boolean>>();

  constructor(private readonly options: ServerTrustOptions = {}) {}

  /**
   * Accept only the server whose key has this pin ({@link serverKeyPin}) from now on. `origin` ends
   * the refusal's "is not the help desk …" (where the pin came from).
   */
  pinTo(pin: string, origin = this.pinnedTo): void {
    this.pin = pin;
    this.pinnedTo = origin;
  }

  /**
   * Check the first TLS server as the system does, then pin its key ({@link pinned}) and accept only
   * that key afterwards: what a resident device's enrolment does, to recognise its server for good.
   */
  pinFirstServer(): void {
    this.pinFirst = true;
  }

  /** The pin this trust holds, given or taken from the first server met ({@link pinFirstServer}). */
  get pinned(): string | undefined {
    return this.pin;
  }

  /**
   * Accept only the server whose certificate has this SHA-256 fingerprint (`AB:CD:…`, as the control
   * plane prints it), without asking: what the user would approve, given beforehand (`--server-fingerprint`).
   */
  expectCertificate(fingerprint: string): void {
    this.fingerprint = normalFingerprint(fingerprint);
  }

  /** Whether Node's own check (authorities and host name) decides: neither a pin nor the user does. */
  get checksChain(): boolean {
    return this.pin === undefined && this.fingerprint === undefined && this.options.approve === undefined;
  }

  /**
   * Decides about a connected TLS socket (opened with `rejectUnauthorized: !checksChain`).
   * @throws ServerIdentityError when the server is not the pinned one, or the user did not approve it.
   */
  async check(socket: TLSSocket, server: string): Promise<void> {
    if (this.checksChain) {
      const first = this.pinFirst ? socket.getPeerX509Certificate() : undefined;
      if (first) this.pin = await keyPin(first);
      return;
    }
    const certificate = socket.getPeerX509Certificate();
    if (!certificate)
      throw new ServerIdentityError('impostor', `The server at ${server} showed no certificate.`);
    if (this.pin !== undefined) {
      if ((await keyPin(certificate)) === this.pin) return;
      throw new ServerIdentityError(
        'impostor',
        `The server at ${server} is not the help desk ${this.pinnedTo} (it holds another key), so the agent refuses it and sends nothing. Something between you and your help desk is intercepting the connection: a proxy that inspects encrypted traffic, or an attacker. Tell your help desk.`,
      );
    }
    const fingerprint = certificate.fingerprint256;
    if (this.fingerprint !== undefined) {
      if (normalFingerprint(fingerprint) === this.fingerprint) return;
      throw new ServerIdentityError(
        'impostor',
        `The server at ${server} presents another certificate than the fingerprint given (its own is ${fingerprint}), so the agent refuses it and sends nothing.`,
      );
    }
    if (this.approved.has(fingerprint)) return;
    let answer = this.asking.get(fingerprint);
    if (!answer) {
      answer = this.options.approve!({ server, fingerprint, trustedBySystem: socket.authorized });
      this.asking.set(fingerprint, answer);
    }
    const approved = await answer.finally(() => this.asking.delete(fingerprint));
    if (!approved) {
      throw new ServerIdentityError(
        'not-approved',
        `The server at ${server} was not approved, so the agent did not connect.`,
      );
    }
    this.approved.add(fingerprint);
  }
}

function keyPin(certificate: X509Certificate): Promise<string> {
  return serverKeyPin(certificate.publicKey.export({ type: 'spki', format: 'der' }));
}

/** A fingerprint compared without regard to case or separators. */
function normalFingerprint(fingerprint: string): string {
  return fingerprint.replace(/[^0-9a-f]/gi, '').toUpperCase();
}
