import { type Capability, DEFAULT_OFFER, type Permissions } from '../../protocol/index.ts';
import { auditActor } from '../auth/authenticate.ts';
import type { Principal } from '../http/app-env.ts';
import type { Services } from '../services.ts';
import { ApiParticipant } from './api-participant.ts';
import { ChannelFailure } from './channel-failure.ts';

/** An API participant leaves its session after this long without a call, in milliseconds. */
export const API_IDLE_DETACH_MS = 60_000;
/** How long a call waits for the end user to answer the consent prompt, in milliseconds. */
export const CONSENT_WAIT_MS = 60_000;
/** Longest name shown to the end user, in characters. */
const MAX_NAME_CHARS = 200;

/** A participant in use by one call; `release` when the call (or its streamed response) is over. */
export interface Lease {
  participant: ApiParticipant;
  release(): void;
}

interface Entry {
  participant: ApiParticipant;
  /** Calls under way; the idle timer runs only while there are none. */
  busy: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The HTTP API's participants, one per session and caller (an operator's login, or an API token),
 * attached on the first call that needs one and detached a minute after the last call ends, or when
 * the session ends.
 */
export class ApiParticipants {
  /** Adjustable for tests. */
  idleDetachMs = API_IDLE_DETACH_MS;
  consentWaitMs = CONSENT_WAIT_MS;
  private readonly entries = new Map<string, Entry>();
  private readonly attaching = new Map<string, Promise<Entry>>();

  constructor(private readonly services: Services) {}

  /**
   * The caller's participant in a session, attached if needed with `capabilities` requested from the
   * end user (they matter only while the user has not answered yet).
   */
  async acquire(
    sessionId: string,
    principal: Principal,
    capabilities: readonly Capability[],
    address: string,
  ): Promise<Lease> {
    const key = `${sessionId}\n${principalKey(principal)}`;
    let entry = this.entries.get(key);
    if (!entry) {
      let pending = this.attaching.get(key);
      if (!pending) {
        pending = this.attach(key, sessionId, principal, capabilities, address);
        this.attaching.set(key, pending);
        pending.finally(() => this.attaching.delete(key)).catch(() => {});
      }
      entry = await pending;
    }
    return this.lease(entry);
  }

  /**
   * Keeps the caller's participant attached while the caller does something else with the session
   * (waits for consent with /wait); undefined when none is attached.
   */
  hold(sessionId: string, principal: Principal): Lease | undefined {
    const entry = this.entries.get(`${sessionId}\n${principalKey(principal)}`);
    return entry ? this.lease(entry) : undefined;
  }

  private lease(held: Entry): Lease {
    held.busy++;
    clearTimeout(held.idleTimer);
    let released = false;
    return {
      participant: held.participant,
      release: () => {
        if (released) return;
        released = true;
        held.busy--;
        if (held.busy === 0 && !held.participant.gone) {
          held.idleTimer = setTimeout(() => held.participant.detach(), this.idleDetachMs);
          held.idleTimer.unref();
        }
      },
    };
  }

  /** Detaches the participants of an API token (when it is revoked): its calls under way fail at once. */
  detachToken(tokenId: string): void {
    const suffix = `\n${tokenKey(tokenId)}`;
    const revoked = new ChannelFailure('UNAUTHENTICATED', 'The API token was revoked.');
    for (const [key, entry] of [...this.entries]) if (key.endsWith(suffix)) entry.participant.detach(revoked);
  }

  /** Detaches every participant (on shutdown; ending the sessions detaches them too). */
  detachAll(): void {
    for (const entry of [...this.entries.values()]) entry.participant.detach();
  }

  private async attach(
    key: string,
    sessionId: string,
    principal: Principal,
    capabilities: readonly Capability[],
    address: string,
  ): Promise<Entry> {
    const name = await displayName(this.services, principal);
    // A script sees no screen: it asks for neither viewing, control nor guidance unless it names them.
    const requested: Permissions = { ...DEFAULT_OFFER, view: false, control: false, guidance: false };
    for (const capability of capabilities) requested[capability] = true;
    const participant = ApiParticipant.attach(
      this.services.relay,
      sessionId,
      {
        operatorId: principal.operator.id,
        name,
        loginSessionId: undefined,
        actor: auditActor(principal),
        requested,
        video: false,
        // The API sends no input, so control is nothing it needs.
        mayTakeControl: false,
        address,
      },
      (gone) => {
        const entry = this.entries.get(key);
        if (entry?.participant !== gone) return;
        clearTimeout(entry.idleTimer);
        this.entries.delete(key);
      },
    );
    if (!participant)
      throw new ChannelFailure('AGENT_OFFLINE', 'The agent of this session is not connected.');
    const entry: Entry = { participant, busy: 0, idleTimer: undefined };
    this.entries.set(key, entry);
    return entry;
  }
}

function principalKey(principal: Principal): string {
  return principal.kind === 'operator' ? `operator:${principal.operator.id}` : tokenKey(principal.tokenId);
}

function tokenKey(tokenId: string): string {
  return `token:${tokenId}`;
}

/** What the end user sees: who is behind the script, and which token it uses. */
async function displayName(services: Services, principal: Principal): Promise<string> {
  if (principal.kind === 'operator') return `${principal.operator.name} (API)`.slice(0, MAX_NAME_CHARS);
  const row = await services.accounts.apiTokens.byId(principal.tokenId);
  return `${principal.operator.name} (API: ${row?.token.name ?? 'token'})`.slice(0, MAX_NAME_CHARS);
}

const registries = new WeakMap<Services, ApiParticipants>();

/** The one registry of a control plane's services. */
export function participantsOf(services: Services): ApiParticipants {
  let registry = registries.get(services);
  if (!registry) {
    registry = new ApiParticipants(services);
    registries.set(services, registry);
  }
  return registry;
}
