import type { AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../logger.ts';
import type { Recordings } from '../recordings/recordings.ts';
import type { SessionStore } from './session-store.ts';

/** How often expired invitations and old recordings are swept, in milliseconds. */
export const HOUSEKEEPING_INTERVAL_MS = 30_000;

/** Recordings to delete when they pass their retention. */
export interface RecordingRetention {
  recordings: Recordings;
  /** How long a recording is kept after it started, in milliseconds. */
  retentionMs: number;
}

/**
 * Ends sessions whose code expired before any agent connected, so unused invitations do not pile up
 * as "waiting", and deletes recordings past their retention. Returns a function that stops it.
 */
export function startHousekeeping(
  store: SessionStore,
  audit: AuditLog,
  logger: Logger,
  retention?: RecordingRetention,
): () => void {
  const timer = setInterval(() => void sweepOnce(store, audit, logger, retention), HOUSEKEEPING_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** One sweep; exported so tests can run it without waiting for the interval. Never rejects. */
export async function sweepOnce(
  store: SessionStore,
  audit: AuditLog,
  logger: Logger,
  retention?: RecordingRetention,
  now = Date.now(),
): Promise<void> {
  try {
    for (const sessionId of await store.expireUnclaimed()) {
      await audit.record({
        actorType: 'system',
        action: 'session.end',
        sessionId,
        details: { reason: 'code-expired' },
      });
    }
    if (retention) await retention.recordings.deleteOlderThan(new Date(now - retention.retentionMs));
  } catch (error) {
    logger.error({ err: error }, 'housekeeping failed');
  }
}
