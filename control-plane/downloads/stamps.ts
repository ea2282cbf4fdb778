import type { AgentPlatform } from '../../protocol/agent-stamp.ts';
import type { TokenService } from '../tokens/tokens.ts';

/** A user-first stamp names only the server and the build; it is reused for this long, in ms. */
export const GENERIC_STAMP_TTL_MS = 365 * 24 * 60 * 60_000;
/** …and replaced by a fresh one after this long, in ms, so no download carries a nearly expired one. */
export const GENERIC_STAMP_RENEW_MS = 30 * 24 * 60 * 60_000;

/**
 * A session to carry in a stamp (operator-first flow): the agent attaches to it without a code.
 * The relay token is the session's relay-agent token; `ttlMs` bounds the stamp's own life (the
 * session's code lifetime is a good choice: an unused download stops working with it).
 */
export interface SessionStamp {
  sid: string;
  relay: { url: string; token: string };
  /** The session's signed policy, passed on to the agent. */
  policyToken?: string;
  ttlMs: number;
}

/**
 * Signs stamps. The generic stamp (no session) is the same for every download of one build under
 * one signing key, so it is signed once and cached; that also keeps the download's ETag stable.
 */
export class StampSigner {
  private readonly generic = new Map<string, { jwt: string; renewAt: number }>();

  constructor(
    private readonly tokens: TokenService,
    private readonly currentKid: () => string,
    /** The pin of the server's TLS key, carried as `spki` so the agent accepts no other server. */
    private readonly serverKey: () => Promise<string | undefined> = async () => undefined,
  ) {}

  async sign(platform: AgentPlatform, exe: string, session?: SessionStamp): Promise<string> {
    const spki = await this.serverKey();
    const server = spki ? { spki } : {};
    if (session) {
      return this.tokens.sign(
        'agentStamp',
        {
          sub: platform,
          exe,
          ...server,
          sid: session.sid,
          relay: session.relay,
          ...(session.policyToken ? { policyToken: session.policyToken } : {}),
        },
        session.ttlMs,
      );
    }
    const key = `${platform}:${exe}:${this.currentKid()}`;
    const cached = this.generic.get(key);
    if (cached && cached.renewAt > Date.now()) return cached.jwt;
    const jwt = await this.tokens.sign('agentStamp', { sub: platform, exe, ...server }, GENERIC_STAMP_TTL_MS);
    this.generic.set(key, { jwt, renewAt: Date.now() + GENERIC_STAMP_RENEW_MS });
    return jwt;
  }
}
