import type { Context } from 'hono';
import { policySchema } from '../../protocol/index.ts';
import type { SessionStamp } from '../downloads/stamps.ts';
import type { AppEnv } from '../http/app-env.ts';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { agentGrant } from './agent-grant.ts';

/**
 * The session a download link carries (`/download/agent/<platform>?session=<id>`, operator-first).
 * The end user has no account, so the link itself is the credential: it works only while the
 * session waits for its agent and its code has not expired, and only until an agent joins (the relay
 * lets one agent claim the session). The stamped binary still asks the user for consent.
 */
export function sessionDownloadStamp(services: Services) {
  return async (c: Context<AppEnv>): Promise<SessionStamp | undefined> => {
    const id = c.req.query('session');
    if (id === undefined) return undefined;
    const session = id.length <= 64 ? await services.store.get(id) : undefined;
    const now = Date.now();
    if (
      !session ||
      session.initiator !== 'operator' ||
      session.status !== 'waiting' ||
      session.codeRedeemedAt ||
      session.agentConnectedAt ||
      !session.codeExpiresAt ||
      session.codeExpiresAt.getTime() <= now
    ) {
      throw new ApiError(
        410,
        'SESSION_ENDED',
        'This download link has expired or was already used. Ask your help desk for a new link.',
      );
    }
    policySchema.parse(session.policy);
    const grant = await agentGrant(services, session);
    await services.audit.record({
      actorType: 'anonymous',
      action: 'agent.download',
      sessionId: session.id,
      address: c.get('address'),
      details: { platform: c.req.param('platform') },
    });
    return {
      sid: session.id,
      relay: grant.relay,
      policyToken: grant.policyToken,
      ttlMs: session.codeExpiresAt.getTime() - now,
    };
  };
}
