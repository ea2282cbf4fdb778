import type { AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../logger.ts';
import type { SessionStore } from './session-store.ts';

/** How often expired invitations are swept, in milliseconds. */
export const HOUSEKEEPING_INTERVAL_MS = 30_000;

/**
 * Ends sessions whose code expired before any agent connected, so unused invitations do not pile up
 * as "waiting". Returns a function that stops it.
 */
export function startHousekeeping(store: SessionStore, audit: AuditLog, logger: Logger): () => void {
  const sweep = async () => {
    try {
      for (const sessionId of await store.expireUnclaimed()) {
        await audit.record({
          actorType: 'system',
          action: 'session.end',
          sessionId,
          details: { reason: 'code-expired' },
        });
      }
    } catch (error) {
      logger.error({ err: error }, 'housekeeping failed');
    }
  };
  const timer = setInterval(() => void sweep(), HOUSEKEEPING_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
