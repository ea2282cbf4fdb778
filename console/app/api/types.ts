import type { Page, Identity as ServerIdentity, Session } from '../../../protocol/api/index.ts';
import type { PeerInfo } from '../../../protocol/index.ts';
import type { Scope } from './scopes.ts';

/** The HTTP API's shapes: the types of the server's schemas in protocol/api/. */
export type {
  ApiToken,
  AuditEvent,
  Device,
  DeviceGroup,
  InvitationStatus,
  NewApiToken,
  Operator,
  Organisation,
  Page,
  RelayGrant,
  Session as SessionView,
  SessionCode,
  SessionJoin as SessionGrant,
  SessionStatus,
  SessionWait as WaitResult,
} from '../../../protocol/api/index.ts';
export type { Policy, Role } from '../../../protocol/index.ts';

/** Who is signed in and what they may do (`GET /api/auth/me`), with the scopes the console knows. */
export type Identity = Pick<ServerIdentity, 'operator'> & { scopes: Scope[] };

/**
 * The device as the console knows it: what it reported when it registered (the session's `agent`)
 * or what it said in its relay hello, which adds the features it offers.
 */
export type AgentView = PeerInfo;

export type SessionPage = Page<Session>;
