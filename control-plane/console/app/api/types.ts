import type { Policy, Role } from '../../../../protocol/index.ts';
import type { Scope } from './scopes.ts';

export type { Policy, Role };

/** An operator account, as `GET /api/auth/me` and `GET /api/operators` return it. */
export interface Operator {
  id: string;
  username: string;
  name: string;
  role: Role;
  organisationId: string;
  disabled: boolean;
  totpEnabled: boolean;
  createdAt: string;
}

/** Who is signed in and what they may do (`GET /api/auth/me`). */
export interface Identity {
  operator: Operator;
  scopes: Scope[];
}

/** What the device reported about itself when it registered. */
export interface AgentView {
  name: string;
  version: string;
  hostname?: string;
  os?: string;
  user?: string;
  screen?: { width: number; height: number };
  /** What the agent offers beyond the screen (`hello.client.features`): 'chat', 'files', 'shell', 'exec'. */
  features?: string[];
}

export type SessionStatus = 'waiting' | 'active' | 'ended';

/** A session as the HTTP API lists it. */
export interface SessionView {
  id: string;
  status: SessionStatus;
  createdAt: string;
  activatedAt?: string | null;
  endedAt: string | null;
  endReason: string | null;
  /** When the session's unused code stops working; null once it was used. */
  codeExpiresAt?: string | null;
  agent: AgentView | null;
  /** The agent reached the control plane (and has not left). */
  agentConnected?: boolean;
  operatorId?: string | null;
  organisationId?: string | null;
  deviceGroupId?: string | null;
  /** Who started it: the end user's agent (user-first) or an operator (operator-first). */
  initiator?: 'agent' | 'operator';
  policy?: Policy | null;
}

/** `GET /api/sessions/{id}/wait`: the session, and whether it reached the state waited for. */
export interface WaitResult extends SessionView {
  reached: boolean;
}

/** A new code for an operator-first session (`POST /api/sessions`, `POST /api/sessions/{id}/code`). */
export interface SessionCode {
  session: SessionView;
  /** Bare digits. */
  code: string;
  /** Grouped for reading aloud: `123 456 789`. */
  displayCode: string;
  codeExpiresAt: string;
  /** Agent download link per platform (`linux-x64`, `win-x64`), carrying the session. */
  downloads: Record<string, string>;
}

/** Where and how to reach the relay for one session. The token only ever travels in `hello`. */
export interface RelayGrant {
  url: string;
  token: string;
}

/** The answer to redeeming a code or (re)joining a session. */
export interface SessionGrant {
  session: SessionView;
  relay: RelayGrant;
}

/** One page of a list; `nextCursor` fetches the next one, null on the last. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type SessionPage = Page<SessionView>;

/** An enrolled device running the resident agent; `reported` is what the device says, unverified. */
export interface Device {
  id: string;
  organisationId: string;
  groupId: string;
  status: 'online' | 'offline' | 'removed';
  lastSeenAt: string | null;
  enrolledAt: string;
  removedAt: string | null;
  removal: 'uninstalled' | 'forgotten' | null;
  reported: { hostname: string; os: string | null; consoleUser: string | null; agentVersion: string | null };
}

/** A device group and the policy its sessions get. */
export interface DeviceGroup {
  id: string;
  organisationId: string;
  name: string;
  isDefault: boolean;
  hasRegistrationKey: boolean;
  policy: Policy;
  createdAt: string;
}

export interface Organisation {
  id: string;
  name: string;
  createdAt: string;
}

/** An API token as listed; the secret itself is only in the answer to creating it. */
export interface ApiToken {
  id: string;
  name: string;
  operatorId: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export interface NewApiToken extends ApiToken {
  /** The secret, shown this once. */
  token: string;
}

export interface AuditEvent {
  id: number;
  at: string;
  actorType: string;
  actorId: string | null;
  action: string;
  sessionId: string | null;
  address: string | null;
  details: Record<string, unknown> | null;
}
