import { apiRequest } from './client.ts';
import { ROUTES } from './routes.ts';
import type {
  InvitationStatus,
  SessionCode,
  SessionGrant,
  SessionPage,
  SessionStatus,
  SessionView,
  WaitResult,
} from './types.ts';

const byId = (id: string) => ({ id });

/** Trades a connection code (bare digits) for the session and a relay grant (user-first). */
export function redeemCode(code: string): Promise<SessionGrant> {
  return apiRequest(ROUTES.redeemCode, { body: { code } });
}

/** Whether an end user's invitation can still be opened, and until when. */
export function invitationStatus(id: string): Promise<InvitationStatus> {
  return apiRequest(ROUTES.invitationStatus, { params: byId(id) });
}

/** Opens an end user's invitation with the password they told the helper; the user is then asked. */
export function openInvitation(id: string, password: string): Promise<SessionGrant> {
  return apiRequest(ROUTES.openInvitation, { params: byId(id), body: { password } });
}

/** A fresh relay grant for a session the operator may (re)join. */
export function joinSession(sessionId: string): Promise<SessionGrant> {
  return apiRequest(ROUTES.joinSession, { params: byId(sessionId) });
}

/** Ends, or cancels while it waits, a session. */
export function endSession(sessionId: string): Promise<SessionView> {
  return apiRequest(ROUTES.endSession, { params: byId(sessionId) });
}

export function listSessions(filter: {
  status?: SessionStatus | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}): Promise<SessionPage> {
  return apiRequest(ROUTES.listSessions, {
    query: { status: filter.status, limit: filter.limit, cursor: filter.cursor },
  });
}

/** Creates an operator-first session in a device group (the organisation's default without one). */
export function createSession(deviceGroupId?: string): Promise<SessionCode> {
  return apiRequest(ROUTES.createSession, {
    body: deviceGroupId ? { deviceGroupId } : {},
    idempotent: true,
  });
}

/** Replaces the code of a waiting session; the old one stops working. */
export function renewCode(sessionId: string): Promise<SessionCode> {
  return apiRequest(ROUTES.renewCode, { params: byId(sessionId) });
}

/** Gives a waiting session's code its full lifetime again. */
export function extendCode(sessionId: string): Promise<SessionView> {
  return apiRequest(ROUTES.extendCode, { params: byId(sessionId) });
}

/** Long-polls until the session reaches `until` (or ends), or `timeoutSeconds` pass. */
export function waitForSession(
  sessionId: string,
  until: 'agent-connected' | 'active' | 'ended',
  timeoutSeconds: number,
  signal?: AbortSignal,
): Promise<WaitResult> {
  return apiRequest(ROUTES.waitForSession, {
    params: byId(sessionId),
    query: { until, timeout: timeoutSeconds },
    ...(signal ? { signal } : {}),
  });
}
