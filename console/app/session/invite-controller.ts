import { errorText, isApiCallError } from '../api/client.ts';
import { toLocalTime } from '../api/server-clock.ts';
import {
  createSession,
  endSession,
  extendCode,
  joinSession,
  renewCode,
  waitForSession,
} from '../api/sessions.ts';
import type { SessionCode, SessionGrant, SessionView } from '../api/types.ts';

/** How long the server holds one wait request open, in seconds (it allows up to 60). */
export const WAIT_TIMEOUT_SECONDS = 25;
/** Pause before waiting again after a wait failed (network, server restart), in ms. */
const WAIT_RETRY_MS = 2000;
/** The code lifetime to show progress against when the session carries no policy, in seconds. */
const DEFAULT_LIFETIME_SECONDS = 15 * 60;

/**
 * waiting (for the user's agent) ⇄ expired (the code ran out; Request new) → joining (the agent is
 * there; getting a relay grant) → handed to the session view. `ended` when the session ended
 * elsewhere; `failed` when joining failed and can be tried again.
 */
export type InvitePhase = 'waiting' | 'expired' | 'joining' | 'ended' | 'failed';
export type InviteAction = 'renew' | 'extend' | 'cancel' | 'join';

export interface InviteState {
  phase: InvitePhase;
  session: SessionView;
  /** Grouped for reading aloud: `123 456 789`. */
  displayCode: string;
  /** The server's expiry of the code, as it said it. */
  codeExpiresAt: string;
  /** The same moment on this browser's clock, in ms since the epoch. */
  expiresAt: number;
  /** The code lifetime of the session's policy, in seconds. */
  lifetimeSeconds: number;
  /** Agent download links per platform, carrying this session. */
  downloads: Record<string, string>;
  /** An action whose answer is pending. */
  pending: InviteAction | null;
  /** The last failure, for a banner; the next success clears it. */
  error: string | null;
  /** Waiting for the agent keeps failing; it retries on its own. */
  reconnecting: boolean;
}

export interface InviteHandlers {
  /** The user's agent connected and the console holds a relay grant: show the session. */
  onJoined(grant: SessionGrant): void;
  /** The operator cancelled the session. */
  onCancelled(): void;
}

type Listener = (state: InviteState) => void;

function codeState(
  answer: SessionCode,
): Pick<
  InviteState,
  'session' | 'displayCode' | 'codeExpiresAt' | 'expiresAt' | 'lifetimeSeconds' | 'downloads'
> {
  return {
    session: answer.session,
    displayCode: answer.displayCode,
    codeExpiresAt: answer.codeExpiresAt,
    expiresAt: toLocalTime(answer.codeExpiresAt),
    lifetimeSeconds: (answer.session.policy?.codeLifetimeMinutes ?? 0) * 60 || DEFAULT_LIFETIME_SECONDS,
    downloads: answer.downloads,
  };
}

/**
 * The operator-first flow for one session: shows its code until the user's agent joins with it,
 * keeps the code alive (Request new, Extend) or cancels, long-polls the control plane for the agent,
 * then joins and hands the relay grant over.
 * @example
 * const invite = await InviteController.create(groupId, { onJoined: showSession, onCancelled: close });
 * invite.subscribe(render);
 */
export class InviteController {
  #state: InviteState;
  readonly #handlers: InviteHandlers;
  readonly #listeners = new Set<Listener>();
  readonly #abort = new AbortController();
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;
  #watching = false;
  #disposed = false;

  private constructor(answer: SessionCode, handlers: InviteHandlers) {
    this.#handlers = handlers;
    this.#state = { phase: 'waiting', pending: null, error: null, reconnecting: false, ...codeState(answer) };
    this.#armExpiry();
    void this.#watch();
  }

  /** Creates the session (in the organisation's default group without `deviceGroupId`) and starts waiting. */
  static async create(
    deviceGroupId: string | undefined,
    handlers: InviteHandlers,
  ): Promise<InviteController> {
    return new InviteController(await createSession(deviceGroupId), handlers);
  }

  get state(): InviteState {
    return this.#state;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A new code for the same session; the old one stops working. */
  renew(): Promise<void> {
    return this.#act('renew', async () => {
      const answer = await renewCode(this.#state.session.id);
      this.#set({ ...codeState(answer), phase: 'waiting' });
      this.#armExpiry();
    });
  }

  /** The same code, valid for its full lifetime again. */
  extend(): Promise<void> {
    return this.#act('extend', async () => {
      const session = await extendCode(this.#state.session.id);
      if (!session.codeExpiresAt) return;
      this.#set({
        session: { ...this.#state.session, ...session },
        codeExpiresAt: session.codeExpiresAt,
        expiresAt: toLocalTime(session.codeExpiresAt),
        phase: 'waiting',
      });
      this.#armExpiry();
    });
  }

  /** Ends the session: its code and download links stop working. */
  cancel(): Promise<void> {
    return this.#act('cancel', async () => {
      await endSession(this.#state.session.id);
      this.dispose();
      this.#handlers.onCancelled();
    });
  }

  /** Joins again after joining failed. */
  retryJoin(): Promise<void> {
    return this.#join();
  }

  /** Stops waiting and counting; the session itself is left as it is. */
  dispose(): void {
    this.#disposed = true;
    this.#abort.abort();
    clearTimeout(this.#expiryTimer);
    this.#listeners.clear();
  }

  async #act(action: InviteAction, run: () => Promise<void>): Promise<void> {
    if (this.#state.pending) return;
    this.#set({ pending: action, error: null });
    try {
      await run();
      this.#set({ pending: null });
    } catch (error) {
      this.#set({ pending: null, error: errorText(error) });
    }
  }

  #armExpiry(): void {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = setTimeout(
      () => {
        if (this.#state.phase === 'waiting') this.#set({ phase: 'expired' });
      },
      Math.max(0, this.#state.expiresAt - Date.now()),
    );
  }

  async #watch(): Promise<void> {
    if (this.#watching) return;
    this.#watching = true;
    try {
      while (!this.#disposed && (this.#state.phase === 'waiting' || this.#state.phase === 'expired')) {
        let result: Awaited<ReturnType<typeof waitForSession>>;
        try {
          result = await waitForSession(
            this.#state.session.id,
            'agent-connected',
            WAIT_TIMEOUT_SECONDS,
            this.#abort.signal,
          );
        } catch (error) {
          if (this.#disposed || !isApiCallError(error) || error.kind === 'ABORTED') return;
          // Signed out: the app shows the sign-in form. Gone: nothing left to wait for.
          if (error.status === 401) return;
          if (error.status === 404 || error.status === 403) {
            this.#set({ phase: 'ended', error: error.message });
            return;
          }
          this.#set({ reconnecting: true });
          await new Promise((resolve) => setTimeout(resolve, WAIT_RETRY_MS));
          continue;
        }
        if (this.#disposed) return;
        if (this.#state.reconnecting) this.#set({ reconnecting: false });
        if (result.status === 'ended') {
          // Our own Cancel answers on its own; anything else ended it elsewhere.
          if (this.#state.pending !== 'cancel') this.#set({ phase: 'ended', session: result });
          return;
        }
        if (result.reached && result.agentConnected) {
          await this.#join();
          return;
        }
      }
    } finally {
      this.#watching = false;
    }
  }

  async #join(): Promise<void> {
    if (this.#disposed) return;
    clearTimeout(this.#expiryTimer);
    this.#set({ phase: 'joining', pending: 'join', error: null });
    try {
      const grant = await joinSession(this.#state.session.id);
      if (this.#disposed) return;
      this.dispose();
      this.#handlers.onJoined(grant);
    } catch (error) {
      if (this.#disposed || (isApiCallError(error) && error.status === 401)) return;
      const ended = isApiCallError(error) && error.kind === 'SESSION_ENDED';
      this.#set({ phase: ended ? 'ended' : 'failed', pending: null, error: errorText(error) });
    }
  }

  #set(patch: Partial<InviteState>): void {
    if (this.#disposed) return;
    this.#state = { ...this.#state, ...patch };
    for (const listener of this.#listeners) listener(this.#state);
  }
}
