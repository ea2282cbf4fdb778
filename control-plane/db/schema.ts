import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { SESSION_STATUSES } from '../../protocol/api/sessions.ts';
import { SESSION_ACCESS } from '../../protocol/device-orders.ts';
import type { Permissions } from '../../protocol/permissions.ts';
import { type Policy, ROLES } from '../../protocol/policy.ts';

/**
 * The one schema module. camelCase keys, snake_case columns; timestamps are milliseconds.
 * Migrations are generated from it with `npm run db:generate` and applied at start-up.
 */

export { ROLES, type Role } from '../../protocol/policy.ts';

export const organisations = sqliteTable('organisations', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

export const operators = sqliteTable('operators', {
  id: text('id').primaryKey(),
  organisationId: text('organisation_id')
    .notNull()
    .references(() => organisations.id),
  username: text('username').notNull().unique(),
  name: text('name').notNull(),
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ROLES }).notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  disabledAt: integer('disabled_at', { mode: 'timestamp_ms' }),
  /** Base32 TOTP secret; a second factor is required at login once `totpEnabledAt` is set. */
  totpSecret: text('totp_secret'),
  totpEnabledAt: integer('totp_enabled_at', { mode: 'timestamp_ms' }),
  /** The last 30-second step a code was accepted for: a code is good once. */
  totpLastStep: integer('totp_last_step'),
});

/**
 * A device group ("reporting group"): agents register into one, and its policy decides what sessions
 * with them may do. `registrationKeyHash` lets a download link or a script enrol agents into it.
 */
export const deviceGroups = sqliteTable('device_groups', {
  id: text('id').primaryKey(),
  organisationId: text('organisation_id')
    .notNull()
    .references(() => organisations.id),
  name: text('name').notNull(),
  policy: text('policy', { mode: 'json' }).$type<Policy>().notNull(),
  registrationKeyHash: text('registration_key_hash').unique(),
  isDefault: integer('is_default', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/** Responses to creates sent with an `Idempotency-Key`, replayed when the same key comes again. */
export const idempotencyKeys = sqliteTable('idempotency_keys', {
  key: text('key').primaryKey(),
  principal: text('principal').notNull(),
  requestHash: text('request_hash').notNull(),
  status: integer('status').notNull(),
  body: text('body').notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/** A console login. Its id is the `jti` of the login cookie's JWT, so logging out revokes it. */
export const loginSessions = sqliteTable('login_sessions', {
  id: text('id').primaryKey(),
  operatorId: text('operator_id')
    .notNull()
    .references(() => operators.id),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
  revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
  address: text('address'),
});

/** Tokens for scripts. Only a SHA-256 of the token is kept; the token is shown once. */
export const apiTokens = sqliteTable('api_tokens', {
  id: text('id').primaryKey(),
  operatorId: text('operator_id')
    .notNull()
    .references(() => operators.id),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  expiresAt: integer('expires_at', { mode: 'timestamp_ms' }),
  lastUsedAt: integer('last_used_at', { mode: 'timestamp_ms' }),
  revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
});

export { SESSION_STATUSES, type SessionStatus } from '../../protocol/api/sessions.ts';

export interface AgentInfo {
  name: string;
  version: string;
  hostname?: string | undefined;
  os?: string | undefined;
  user?: string | undefined;
  screen?: { width: number; height: number } | undefined;
}

/**
 * A remote-assistance session. `codeHash` is an HMAC of the connection code under a server secret; it
 * stays after redemption (with `codeRedeemedAt` set) so a reused code is told apart as CODE_USED.
 */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    status: text('status', { enum: SESSION_STATUSES }).notNull(),
    codeHash: text('code_hash').unique(),
    codeExpiresAt: integer('code_expires_at', { mode: 'timestamp_ms' }),
    codeRedeemedAt: integer('code_redeemed_at', { mode: 'timestamp_ms' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    activatedAt: integer('activated_at', { mode: 'timestamp_ms' }),
    endedAt: integer('ended_at', { mode: 'timestamp_ms' }),
    endReason: text('end_reason'),
    agentInfo: text('agent_info', { mode: 'json' }).$type<AgentInfo>(),
    operatorId: text('operator_id').references(() => operators.id),
    organisationId: text('organisation_id').references(() => organisations.id),
    deviceGroupId: text('device_group_id').references(() => deviceGroups.id),
    /** The effective policy, fixed when the session was created and signed into its tokens. */
    policy: text('policy', { mode: 'json' }).$type<Policy>(),
    /** Who started it: `agent` for user-first sessions, `operator` for sessions an operator created. */
    initiator: text('initiator', { enum: ['agent', 'operator'] })
      .notNull()
      .default('agent'),
    createdById: text('created_by_id'),
    agentConnectedAt: integer('agent_connected_at', { mode: 'timestamp_ms' }),
    /** The control-plane node whose relay holds the agent's socket. */
    relayNode: text('relay_node'),
    /**
     * What the end user allows, as last reported (consent, then each change): a session resumed
     * after a restart of the control plane carries on with it, without asking again.
     */
    permissions: text('permissions', { mode: 'json' }).$type<Permissions>(),
    /** The resident device a session was opened on by order (control-plane/devices/device-session.ts). */
    deviceId: text('device_id'),
    /** How such a session reaches the device: `background` is shell and files, no screen (README). */
    access: text('access', { enum: SESSION_ACCESS }),
  },
  (table) => [index('sessions_status_idx').on(table.status, table.createdAt)],
);

export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at', { mode: 'timestamp_ms' }).notNull(),
    actorType: text('actor_type', {
      enum: ['operator', 'api-token', 'agent', 'system', 'anonymous'],
    }).notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    sessionId: text('session_id'),
    /** The organisation the event concerns (its subject's, not the actor's), for scoping reads. */
    organisationId: text('organisation_id'),
    address: text('address'),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>(),
    /** Position in the hash chain (README, "Audit trail"); null on rows written before the chain. */
    seq: integer('seq'),
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  (table) => [
    index('audit_events_session_idx').on(table.sessionId),
    index('audit_events_at_idx').on(table.at),
    uniqueIndex('audit_events_seq_idx').on(table.seq),
  ],
);

/** The newest link of the audit chain, one row: deleting the chain's tail makes it disagree. */
export const auditHead = sqliteTable('audit_head', {
  id: integer('id').primaryKey(),
  seq: integer('seq').notNull(),
  hash: text('hash').notNull(),
});

/** Ed25519 signing keys; the newest unretired key signs, every unretired key verifies. */
export const signingKeys = sqliteTable('signing_keys', {
  kid: text('kid').primaryKey(),
  privateJwk: text('private_jwk', { mode: 'json' }).$type<JsonWebKey>().notNull(),
  publicJwk: text('public_jwk', { mode: 'json' }).$type<JsonWebKey>().notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  retiredAt: integer('retired_at', { mode: 'timestamp_ms' }),
});

/** Server-wide secrets generated on first start (the connection-code HMAC key). */
export const serverSecrets = sqliteTable('server_secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/**
 * A session's recording (made when its policy has `recordingMandatory`): the `.llrec` file under
 * `<dataDir>/recordings/` and what was written. `endedAt` stays null while it is being written.
 */
export const recordings = sqliteTable(
  'recordings',
  {
    sessionId: text('session_id')
      .primaryKey()
      .references(() => sessions.id),
    fileName: text('file_name').notNull(),
    bytes: integer('bytes').notNull().default(0),
    startedAt: integer('started_at', { mode: 'timestamp_ms' }).notNull(),
    endedAt: integer('ended_at', { mode: 'timestamp_ms' }),
    frames: integer('frames').notNull().default(0),
    droppedFrames: integer('dropped_frames').notNull().default(0),
  },
  (table) => [index('recordings_started_idx').on(table.startedAt)],
);

export const DEVICE_REMOVALS = ['uninstalled', 'forgotten'] as const;
export type DeviceRemoval = (typeof DEVICE_REMOVALS)[number];

/**
 * An enrolled device running the resident agent. It proves who it is with a JWT signed by the
 * private key it generated at enrolment; only the public key (`publicJwk`) is kept here. The
 * reported fields are whatever the device says, made inert on the way in. `connectedNode` is the
 * node whose device hub holds its socket (null: offline); `removedAt` ends its identity for good.
 */
export const devices = sqliteTable(
  'devices',
  {
    id: text('id').primaryKey(),
    organisationId: text('organisation_id')
      .notNull()
      .references(() => organisations.id),
    deviceGroupId: text('device_group_id')
      .notNull()
      .references(() => deviceGroups.id),
    publicJwk: text('public_jwk', { mode: 'json' }).$type<JsonWebKey>().notNull(),
    hostname: text('hostname').notNull(),
    os: text('os'),
    consoleUser: text('console_user'),
    agentVersion: text('agent_version'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    lastSeenAt: integer('last_seen_at', { mode: 'timestamp_ms' }),
    connectedNode: text('connected_node'),
    removedAt: integer('removed_at', { mode: 'timestamp_ms' }),
    removal: text('removal', { enum: DEVICE_REMOVALS }),
  },
  (table) => [
    index('devices_organisation_idx').on(table.organisationId, table.createdAt),
    index('devices_group_idx').on(table.deviceGroupId),
  ],
);
